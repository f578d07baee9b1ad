"""``python -m course_utils.translation [--lang LANG]``: update the catalogs of every
language (or of LANG) after the English changed: new pieces get empty entries, changed ones
are marked fuzzy beside the English they translated. Translate those, then run the release
(``make release``), whose ``--check`` lists what is still missing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.lesson_files import LESSONS
from course_utils.student_notebooks import student_notebooks
from course_utils.translation import LANGUAGES, update_catalogs, update_module_catalog
from course_utils.translation.catalogs import relative


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split(":")[0])
    parser.add_argument("--lang", choices=sorted(LANGUAGES), help="only this language")
    parser.add_argument(
        "--module",
        type=Path,
        metavar="PATH",
        help="only the messages of this module (e.g. graders/lesson03.py)",
    )
    args = parser.parse_args(argv)
    if args.module is not None:
        for language in [args.lang] if args.lang else list(LANGUAGES):
            changed = update_module_catalog(language, args.module.resolve())
            print(f"{language}: {'updated ' + relative(changed) if changed else 'unchanged'}")
        return 0
    students = student_notebooks(LESSONS)
    for language in [args.lang] if args.lang else list(LANGUAGES):
        changed = update_catalogs(language, students)
        for path in changed:
            print(f"updated {relative(path)}")
        print(f"{language}: {len(changed)} catalog(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
