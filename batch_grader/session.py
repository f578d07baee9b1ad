"""A batch on one machine: :func:`start_session` sets up what every submission of it
shares (the public dataset copy, the grader's held-out split, the warm-kernel zygote, the
memory groups, the reaper) as a :class:`BatchSession`, whose :attr:`~BatchSession.settings`
grade submissions (:func:`batch_grader.trusted.runner.grade_submission`) and whose
:meth:`~BatchSession.close` ends it all. The local grader starts one session; each worker
of a cluster starts one per batch it takes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from batch_grader.request import MachineOptions
from batch_grader.trusted.isolation import NONE_REQUESTED, Isolation, gpu_devices, probe
from batch_grader.trusted.memory_groups import MemoryGroupError, MemoryGroups
from batch_grader.trusted.reaper import start as start_reaper
from batch_grader.trusted.reaper import stop as stop_reaper
from batch_grader.trusted.runner import Settings, lesson_dataset
from batch_grader.trusted.sandbox import (
    Limits,
    kill_sandbox,
    limited_start,
    new_batch_tag,
    new_token,
    readable_by_all,
)
from batch_grader.trusted.warm_kernels import Zygote, ZygoteUnavailable
from batch_grader.trusted.workspace import grader_data_folder, public_data_folder
from course_utils.language import SOURCE
from data_loaders import RENDERED
from graders.heldout import secret_seed

CHECK_SECONDS = {"07": 1200}
DEFAULT_CHECK_SECONDS = 300
"""Seconds the checks of one submission may take (loading and measuring its model)."""


def choose_isolation(requested: str) -> Isolation:
    """The isolation to use: bubblewrap when it works here (``auto``; required with
    ``bubblewrap``, else ValueError), or none when asked."""
    if requested == "none":
        return NONE_REQUESTED
    found = probe()
    if requested == "bubblewrap" and not found.isolated:
        raise ValueError(f"--isolation bubblewrap: {found.detail}")
    return found


def heldout_seed(lesson: str, secret: bytes) -> int | None:
    """The seed that renders ``lesson``'s held-out split from the instructor's ``secret``;
    None when its dataset is a real one, whose held-out split is its public test split."""
    dataset = lesson_dataset(lesson)
    return secret_seed(secret, dataset) if dataset in RENDERED else None


def run_cleanups(cleanups: Iterable[Callable[[], object]]) -> None:
    """Run every cleanup in order, each even if one before it failed (the first error is
    raised at the end)."""
    failed = None
    for cleanup in cleanups:
        try:
            cleanup()
        except Exception as error:  # noqa: BLE001 - the others must still run
            failed = failed or error
    if failed is not None:
        raise failed


@dataclass
class BatchSession:
    """A batch set up on this machine: its :attr:`settings`, and what :meth:`close` ends
    (in order: the zygote, what was forked from it, the memory groups, the reaper)."""

    settings: Settings
    cleanups: list[Callable[[], object]]

    def close(self) -> None:
        """End what the session started, each cleanup even if one before it failed."""
        cleanups, self.cleanups = self.cleanups, []
        run_cleanups(cleanups)


def start_session(
    *,
    lesson: str,
    source: Path,
    cell_timeout: int,
    timeout: float,
    machine: MachineOptions,
    isolation: Isolation,
    work: Path,
    seed: int | None,
    language: str = SOURCE,
) -> BatchSession:
    """Set up ``lesson``'s batch here, in the private folder ``work``: its trusted
    ``source`` notebook, timeouts in seconds, ``machine``'s options, ``isolation``, and
    the held-out ``seed`` (see :func:`heldout_seed`), the ``language`` of the checks'
    feedback. Starts the reaper
    (:mod:`batch_grader.trusted.reaper`) first, which cleans up should this process be
    killed; a failure stops what had started before it is raised."""
    limits = Limits(seconds=timeout, memory_mb=machine.memory_mb, disk_mb=machine.disk_mb)
    check_limits = replace(limits, seconds=CHECK_SECONDS.get(lesson, DEFAULT_CHECK_SECONDS))
    data_folder = public_data_folder(lesson, work / "public-data")
    grader_data = grader_data_folder(lesson, data_folder, work / "grader-data", seed)
    devices = tuple(gpu_devices()) if lesson in machine.gpu_lessons else ()
    tag = new_batch_tag()
    reaper = start_reaper(tag)  # first: it cleans up after a grader killed from now on
    zygote_token = new_token(tag)
    cleanups: list[Callable[[], object]] = []
    zygote = None
    groups = None
    try:
        if not machine.cold_kernels:
            zygote_folder = work / "zygote"
            zygote_folder.mkdir()
            try:
                start = limited_start(
                    zygote_folder,
                    data_folder,
                    limits,
                    zygote_token,
                    gpu=bool(devices),
                    language=language,  # the checks it preloads translate as they load
                )
                zygote = Zygote(start.popen, preload=(f"graders.lesson{lesson}",))
                cleanups.append(zygote.close)
            except ZygoteUnavailable as error:
                print(f"warm kernels unavailable, starting each cold: {error}", file=sys.stderr)
        cleanups.append(lambda: kill_sandbox(zygote_token))  # what was forked from it
        if isolation.throwaway:  # read by each sandbox's throwaway user
            readable_by_all(data_folder)
            readable_by_all(grader_data)
        if isolation.isolated:
            try:
                groups = MemoryGroups.start(tag=tag)
                cleanups.append(groups.close)  # after the sandboxes have ended
                held = groups.describe(machine.memory_mb, limits.processes)
                isolation = replace(
                    isolation, detail=f"{isolation.detail}; {held}", limits=groups.version.name
                )
            except MemoryGroupError as error:
                held = f"memory limited per process only ({error})"
                isolation = replace(isolation, detail=f"{isolation.detail}; {held}")
    except BaseException:  # what started is stopped
        run_cleanups([*cleanups, lambda: stop_reaper(reaper)])
        raise
    cleanups.append(lambda: stop_reaper(reaper))  # last: its sweep comes after all the rest
    settings = Settings(
        lesson=lesson,
        dataset=lesson_dataset(lesson),
        source=source,
        data_folder=data_folder,
        grader_data=grader_data,
        heldout_seed=seed,
        cell_timeout=cell_timeout,
        limits=limits,
        check_limits=check_limits,
        isolation=isolation,
        work=work,
        devices=devices,
        zygote=zygote,
        memory_groups=groups,
        tag=tag,
        language=language,
    )
    return BatchSession(settings, cleanups)
