"""Every command the README and CONTRIBUTING.md name answers ``--help`` with its usage and
exit status 0: ``./course``, each ``python -m MODULE [SUBCOMMAND]`` and each
``python SCRIPT.py``, found in the documents themselves so that a new one is covered."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from course_utils.lesson_files import REPO_ROOT

pytestmark = pytest.mark.unit

DOCUMENTS = ("README.md", "CONTRIBUTING.md")
# In a code span or block of the documents, which may wrap a command over two lines.
CODE = re.compile(r"```.*?```|`[^`]+`", re.DOTALL)
MODULE = re.compile(r"python\s+-m\s+([\w.]+)(?:\s+([a-z]+)\b)?")
SCRIPT = re.compile(r"python\s+((?:bench|scripts|tests)/[\w/]+\.py)")


def named_commands() -> list[tuple[str, ...]]:
    """The commands the documents name, as argument lists without ``--help``."""
    text = "\n".join(
        span for name in DOCUMENTS for span in CODE.findall((REPO_ROOT / name).read_text())
    )
    commands = {("./course",)}
    for module, subcommand in MODULE.findall(text):
        commands.add((sys.executable, "-m", module))
        if subcommand:
            commands.add((sys.executable, "-m", module, subcommand))
    commands |= {(sys.executable, script) for script in SCRIPT.findall(text)}
    return sorted(commands)


def test_the_documents_name_the_course_s_commands():
    """Does the scan find what the documents are known to name (a broken pattern would
    leave the test below with nothing to check)?"""
    found = {" ".join(command[1:]) for command in named_commands()}
    named = {
        "-m batch_grader grade",
        "-m data_loaders install",
        "tests/fixtures/make_submissions.py",
    }
    assert named | {"bench/solutions_in_batch.py", "bench/onednn_speed.py"} <= found, found


@pytest.mark.parametrize(
    "command",
    named_commands(),
    ids=lambda command: " ".join(command).replace(sys.executable, "python"),
)
def test_every_named_command_answers_help(command):
    """Does ``COMMAND --help`` print a usage line to stdout and exit with status 0?"""
    done = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.lower().startswith("usage:"), done.stdout[:500]
