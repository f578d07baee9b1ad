"""``python -m batch_grader grade --lesson NN SUBMISSIONS... --out RESULTS/``: grade a class.

SUBMISSIONS are notebooks or folders searched for notebooks. A notebook given by path is
graded as the student named by its file name; one found in a folder as its path inside
that folder. Results go to RESULTS/ (see :mod:`batch_grader.trusted.results`); a rerun
skips what is already graded unless ``--regrade``. Exit status: 0 when every submission got
a result (whatever its grade), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from batch_grader.request import (
    GPU_LESSONS,
    GPU_WAIT_SECONDS,
    ISOLATIONS,
    LANGUAGES,
    TLS_FILES,
    Batch,
    ClusterOptions,
    GradeRequest,
    MachineOptions,
    TlsFiles,
    check_gpu_wait,
    check_tls_options,
)
from course_utils.language import SOURCE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m batch_grader grade", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--lesson", required=True, help="lesson number, e.g. 01")
    parser.add_argument("submissions", nargs="+", type=Path)
    parser.add_argument("--out", required=True, type=Path, help="results folder")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument(
        "--cell-timeout", type=int, help="seconds per cell (default 600; 2400 for lesson 07)"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds per submission (default 1800; 3600 for lesson 07)"
    )
    machine = MachineOptions()
    parser.add_argument(
        "--memory-mb", type=int, default=machine.memory_mb, help="memory per submission"
    )
    parser.add_argument(
        "--disk-mb", type=int, default=machine.disk_mb, help="disk space per sandbox (its quota)"
    )
    parser.add_argument(
        "--isolation",
        choices=ISOLATIONS,
        default="auto",
        help="isolate each submission with bubblewrap (auto: when it works here)",
    )
    parser.add_argument(
        "--heldout-secret",
        type=Path,
        help="file with the secret the held-out images are rendered from (default: "
        "~/.config/keras-course/heldout-secret, made on the first batch)",
    )
    parser.add_argument("--regrade", action="store_true", help="grade again what is graded")
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=SOURCE,
        help=f"the language of the feedback the checks write (default {SOURCE})",
    )
    parser.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every kernel and check from scratch instead of forking it warm (slower)",
    )
    parser.add_argument(
        "--gpu-lessons",
        default=",".join(GPU_LESSONS),
        help="lessons whose submissions get a GPU: its device nodes here, a worker with "
        f"the GPU resource on a cluster (default {','.join(GPU_LESSONS)}; '' for none)",
    )
    parser.add_argument(
        "--gpu-wait",
        type=float,
        default=GPU_WAIT_SECONDS,
        metavar="SECONDS",
        help="on a cluster: how long the GPU lessons' submissions wait when every GPU "
        f"worker has left mid-batch, before the batch stops (default {GPU_WAIT_SECONDS:g})",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the Dask cluster of this scheduler (tls://HOST:PORT, with the three "
        "--tls options), one task per submission",
    )
    where.add_argument(
        "--cluster",
        metavar="local[:WORKERS]",
        help="grade on a Dask cluster started here on 127.0.0.1 (default: 2 workers)",
    )
    for option, what in TLS_FILES.items():
        parser.add_argument(
            f"--tls-{option}", type=Path, metavar="FILE", help=f"with --scheduler: {what}"
        )
    return parser


def lesson_list(text: str, flag: str) -> tuple[str, ...]:
    """``"07,8"`` -> ``("07", "08")``; raises ValueError naming ``flag`` for a non-number."""
    lessons = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if not part.isdigit():
            raise ValueError(f"{flag}: expected lesson numbers such as 07,08, found {part!r}")
        lessons.append(f"{int(part):02d}")
    return tuple(lessons)


def _local_workers(cluster: str) -> int:
    """``--cluster local[:N]`` -> N (the default number when not given)."""
    kind, _, count = cluster.partition(":")
    if kind != "local" or (count and (not count.isdigit() or int(count) < 1)):
        raise ValueError(
            f"--cluster: expected local or local:WORKERS (1 or more), found {cluster!r}"
        )
    return int(count) if count else ClusterOptions().local_workers


def _cluster(args: argparse.Namespace) -> ClusterOptions | None:
    """Where ``args`` grade: a scheduler's cluster, a local one, or None for here."""
    files = {option: getattr(args, "tls_" + option.replace("-", "_")) for option in TLS_FILES}
    check_tls_options(args.scheduler, files)  # also refuses TLS files without --scheduler
    check_gpu_wait(args.gpu_wait)
    if args.scheduler is not None:
        tls = TlsFiles(ca_file=files["ca-file"], cert=files["cert"], key=files["key"])
        return ClusterOptions(scheduler=args.scheduler, tls=tls, gpu_wait=args.gpu_wait)
    if args.cluster is not None:
        return ClusterOptions(local_workers=_local_workers(args.cluster), gpu_wait=args.gpu_wait)
    return None


def parse_request(argv: list[str] | None) -> GradeRequest:
    """The request the command line makes; exits with status 2 and the reason for bad
    arguments."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        batch = Batch.of(args.lesson, args.submissions, args.cell_timeout, args.timeout)
        machine = MachineOptions(
            memory_mb=args.memory_mb,
            disk_mb=args.disk_mb,
            cold_kernels=args.cold_kernels,
            gpu_lessons=lesson_list(args.gpu_lessons, "--gpu-lessons"),
        )
        return GradeRequest(
            batch=batch,
            out=args.out,
            jobs=args.jobs,
            isolation=args.isolation,
            heldout_secret=args.heldout_secret,
            regrade=args.regrade,
            language=args.lang,
            machine=machine,
            cluster=_cluster(args),
        )
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and grade (see :func:`batch_grader.grading.grade`)."""
    request = parse_request(argv)  # before the grader's modules load: --help stays quick
    from batch_grader.grading import grade

    return grade(request)


if __name__ == "__main__":
    sys.exit(main())
