"""Grading a batch on a Dask cluster: ``--scheduler tls://HOST:PORT`` (with the client's
TLS files), or ``--cluster local[:WORKERS]`` for a cluster started here on 127.0.0.1, over
TLS with a credential of its own.

Each submission is one Dask task (:func:`grade_task`). Its notebook travels as bytes (the
client submits a few tasks per slot of the cluster at a time, :class:`_Tasks`), so
workers need no shared file system, only the course's environment and its public data
(``make setup data`` on each machine). A worker grades it exactly as the local path does
(:func:`batch_grader.trusted.runner.grade_submission`: the same sandbox, kernel, artifacts and
checks), in a batch that the worker sets up once (:func:`_worker_batch`: the public
dataset copy, the held-out split, the warm-kernel zygote, the memory groups and the
reaper, on the worker's own disk), and returns the result, the feedback page and the
executed notebook. Only the client writes, atomically and as each task finishes: a rerun
resumes, and a submission whose worker died is graded again elsewhere (Dask retries the
task) and written once.

The instructor's secret never leaves the client: a task carries the seed derived from
it, from which the worker renders the held-out split into a folder that only the checks'
sandbox reads. A submission of a lesson in ``--gpu-lessons`` asks for the resource
``GPU`` (a worker started with ``--resources "GPU=1"`` has one, and takes one such task at
a time); a batch of them that no worker can take stops with an error instead of waiting
(at once, or ``--gpu-wait`` seconds after the last GPU worker left).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from batch_grader.request import ClusterOptions, GradeRequest, MachineOptions
from batch_grader.session import BatchSession, choose_isolation, start_session
from batch_grader.trusted.memory_groups import sweep_stale_groups
from batch_grader.trusted.results import feedback_html, progress_line, store
from batch_grader.trusted.runner import grade_submission
from batch_grader.trusted.workspace import BATCH_PREFIX, sweep_stale_batches

GPU_RESOURCE = "GPU"
WORKER_SETTINGS = Path(__file__).with_name("dask_workers.yaml")
"""Dask settings for the workers (what each one is for is in the file): ``--cluster
local`` starts its workers with them, and ``dask worker`` reads them when ``DASK_CONFIG``
names the file."""


class ClusterError(RuntimeError):
    """The cluster cannot grade this batch (unreachable, or no worker can take its tasks)."""


@dataclass(frozen=True)
class BatchSpec:
    """What a worker needs to set up a batch: everything but the submissions."""

    batch_id: str
    lesson: str
    source: bytes  # the released student notebook, the trusted source of the graded cells
    cell_timeout: int
    timeout: float
    machine: MachineOptions
    isolation: str  # "bubblewrap" or "none" (see batch_spec)
    heldout_seed: int | None
    language: str  # of the checks' feedback


# --- on a worker --------------------------------------------------------------------------
_BATCHES: dict[str, tuple[BatchSession, int]] = {}  # batch id -> (session, tasks running)
_BATCHES_LOCK = threading.Lock()


def _worker_batch(spec: BatchSpec):
    """This worker's settings for the batch ``spec`` describes, set up on its first task;
    batches of other clients that have no task running here are closed first (a client
    that was killed leaves its batch behind)."""
    with _BATCHES_LOCK:
        if spec.batch_id in _BATCHES:
            session, running = _BATCHES[spec.batch_id]
            _BATCHES[spec.batch_id] = (session, running + 1)
            return session.settings
        for other in [b for b, (_, running) in _BATCHES.items() if running == 0]:
            _close(other)
        if not _BATCHES:  # what a killed worker of this machine left
            sweep_stale_batches()
            sweep_stale_groups()
        isolation = choose_isolation(spec.isolation)
        work = Path(tempfile.mkdtemp(prefix=f"{BATCH_PREFIX}{os.getpid()}-"))
        source = work / "source.ipynb"
        source.write_bytes(spec.source)
        try:
            session = start_session(
                lesson=spec.lesson,
                source=source,
                cell_timeout=spec.cell_timeout,
                timeout=spec.timeout,
                machine=spec.machine,
                isolation=isolation,
                work=work,
                seed=spec.heldout_seed,
                language=spec.language,
            )
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        session.cleanups.append(lambda: shutil.rmtree(work, ignore_errors=True))
        _BATCHES[spec.batch_id] = (session, 1)
        return session.settings


def _done_with(batch_id: str) -> None:
    with _BATCHES_LOCK:
        if batch_id in _BATCHES:
            session, running = _BATCHES[batch_id]
            _BATCHES[batch_id] = (session, running - 1)


def _close(batch_id: str) -> None:
    """End the session of ``batch_id`` on this worker (its zygote, sandboxes, folder)."""
    session, _ = _BATCHES.pop(batch_id)
    session.close()


def close_batch(batch_id: str) -> bool:
    """Close ``batch_id`` on this worker, if it has it. Returns whether it had it."""
    with _BATCHES_LOCK:
        if batch_id not in _BATCHES:
            return False
        _close(batch_id)
        return True


async def close_batch_off_the_loop(batch_id: str) -> bool:
    """:func:`close_batch` on a thread (``Client.run`` calls a function on the worker's
    event loop, whose heartbeats a close of many seconds would stop)."""
    return await asyncio.to_thread(close_batch, batch_id)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return socket.gethostname()


def grade_task(spec: BatchSpec, student: str, notebook: bytes, submission: str) -> dict:
    """Grade one submission (``notebook``, the bytes of the file the client read at
    ``submission``) for ``student`` on this worker. Returns the result record (with
    ``worker``), the feedback page and the executed notebook (bytes or None)."""
    settings = _worker_batch(spec)
    folder = Path(tempfile.mkdtemp(prefix="incoming-", dir=settings.work))
    try:
        path = folder / "submission.ipynb"
        path.write_bytes(notebook)
        graded = grade_submission(student, path, settings)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _done_with(spec.batch_id)
    graded.result["submission"] = submission
    graded.result["worker"] = _worker_name()
    return {
        "result": graded.result,
        "feedback": feedback_html(graded.result, graded.reports),
        "executed": graded.executed,
    }


# --- on the client ------------------------------------------------------------------------
def _workers(client) -> dict[str, dict]:
    """Every worker of the cluster (newer schedulers list 5 unless asked for all)."""
    try:
        return client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # a distributed release without n_workers lists them all
        return client.scheduler_info()["workers"]


def _gpu_workers(client) -> list[str]:
    workers = _workers(client)
    return [w for w, info in workers.items() if info.get("resources", {}).get(GPU_RESOURCE)]


def worker_settings() -> dict[str, object]:
    """:data:`WORKER_SETTINGS` as dotted keys for ``dask.config.set``, e.g.
    ``{"distributed.worker.profile.enabled": False, ...}`` (a nested mapping given to
    ``dask.config.set`` would replace Dask's whole section, not the keys it names)."""
    import yaml

    def leaves(prefix: str, node: dict) -> dict[str, object]:
        found: dict[str, object] = {}
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            found.update(leaves(path, value) if isinstance(value, dict) else {path: value})
        return found

    return leaves("", yaml.safe_load(WORKER_SETTINGS.read_text()))


def _connect(cluster: ClusterOptions):
    """A Dask client and the local cluster it runs on (None for a scheduler's): to
    ``cluster.scheduler`` over TLS with its files, or to a new local cluster of
    ``cluster.local_workers`` one-thread workers on 127.0.0.1 (:class:`LocalBatchCluster`)."""
    from distributed import Client

    if cluster.scheduler:
        tls = cluster.tls
        security = tls_security(tls.ca_file, tls.cert, tls.key)
        try:
            return Client(cluster.scheduler, timeout=30, security=security), None
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterError(
                f"no Dask scheduler answers at {cluster.scheduler} to this client's TLS "
                f"certificate: {error}"
            ) from error
    local = LocalBatchCluster(cluster.local_workers)
    try:
        return Client(local.cluster), local
    except BaseException:
        local.close()
        raise


def tls_security(ca_file: Path, cert: Path, key: Path):
    """A client's ``distributed.Security`` from the cluster's TLS files (PEM): the
    authority's certificate, and this client's certificate and key; TLS only."""
    from distributed import Security

    return Security(
        tls_ca_file=str(ca_file),
        tls_client_cert=str(cert),
        tls_client_key=str(key),
        require_encryption=True,
    )


class LocalBatchCluster:
    """``--cluster local``: a ``distributed.LocalCluster`` (:attr:`cluster`) whose
    scheduler and workers talk TLS with a credential made for this batch alone, held in
    memory by these processes (Dask writes the key, for the moment it loads it, into a
    folder of this user's own): another local user cannot connect, however it finds the
    port. Its workers' scratch folders are in a temporary folder of its own, removed on
    :meth:`close` (or by the next batch, when this grader was killed)."""

    def __init__(self, workers: int) -> None:
        import dask
        from distributed import LocalCluster, Security

        # Named as a batch's folder of this grader, so that the next batch sweeps it away
        # when this grader is killed before close (workspace.sweep_stale_batches).
        self.scratch = tempfile.mkdtemp(prefix=f"{BATCH_PREFIX}{os.getpid()}-dask-")
        settings = {**worker_settings(), "temporary-directory": self.scratch}
        try:
            with dask.config.set(settings):  # the nannies hand them on to their workers
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    security=Security.temporary(),  # and so tls:// everywhere
                    dashboard_address=None,
                    # no dashboard, and the scheduler's own HTTP server (health, metrics)
                    # on a free port rather than 8787, which a second batch would find taken
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                    processes=True,
                    memory_limit=0,  # the sandboxes have their own limits
                    local_directory=self.scratch,
                )
        except BaseException:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise

    def close(self) -> None:
        try:
            self.cluster.close()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)


def batch_spec(request: GradeRequest, seed: int | None) -> BatchSpec:
    """The batch as the workers get it. Isolation ``auto`` becomes ``bubblewrap``: a
    worker where bubblewrap does not work refuses the batch rather than grade without
    it (only ``--isolation none``, asked for, grades unisolated on a cluster)."""
    batch = request.batch
    return BatchSpec(
        batch_id=uuid.uuid4().hex,
        lesson=batch.lesson,
        source=batch.source.read_bytes(),
        cell_timeout=batch.cell_timeout,
        timeout=batch.timeout,
        machine=request.machine,
        isolation="bubblewrap" if request.isolation == "auto" else request.isolation,
        heldout_seed=seed,
        language=request.language,
    )


def grade_on_cluster(todo: dict[str, Path], request: GradeRequest, seed: int | None, guard) -> None:
    """Grade ``todo`` on the cluster ``request.cluster`` names, writing each result into
    ``request.out`` as it comes (see the module). A GPU lesson's submissions ask for a GPU
    worker on a scheduler's cluster (on ``--cluster local`` they share this machine, as
    with ``--jobs``). Raises ClusterError when the cluster cannot take the batch, or, once
    the rest is written, when some submissions could not be graded there (a rerun grades
    those)."""
    batch, cluster_options = request.batch, request.cluster
    spec = batch_spec(request, seed)
    gpu = batch.lesson in request.machine.gpu_lessons and cluster_options.scheduler is not None
    client, cluster = _connect(cluster_options)
    tasks = None
    try:
        tasks = _Tasks(client, spec, gpu, todo)
        if gpu and not _gpu_workers(client):
            count = len(_workers(client))
            raise ClusterError(
                f"lesson {batch.lesson}'s submissions need a worker with a GPU (the resource "
                f"{GPU_RESOURCE}), and none of the cluster's {count} worker(s) has one: start "
                f'one with `dask worker ADDRESS --resources "{GPU_RESOURCE}=1"`, or grade '
                "this lesson on CPUs with --gpu-lessons ''"
            )
        gpu_wait = cluster_options.gpu_wait if gpu else None
        failed = _collect(tasks, gpu_wait, request.out, guard, batch.columns)
    finally:
        if tasks is not None:
            tasks.release()
        try:
            client.run(close_batch_off_the_loop, spec.batch_id)
        except Exception as error:  # noqa: BLE001 - a worker gone: its batch went with it
            print(f"closing the batch on the workers: {error}", file=sys.stderr)
        client.close()
        if cluster is not None:
            cluster.close()
    problems = []
    if failed:
        listed = "; ".join(f"{student}: {why}" for student, why in sorted(failed.items()))
        problems.append(
            f"{len(failed)} submission(s) could not be graded on the cluster ({listed[:2000]}): "
            "run the same command again to retry them"
        )
    if tasks.unreadable:
        listed = "; ".join(sorted(tasks.unreadable.values()))
        problems.append(
            f"{len(tasks.unreadable)} submission file(s) could not be read once the batch had "
            f"started ({listed[:2000]}): check them, then run the same command again"
        )
    if problems:
        raise ClusterError("; ".join(problems) + "; the others are written")


IN_FLIGHT_PER_SLOT = 2
"""Submissions on the cluster at once, per slot that grades one (a worker thread; for a
GPU lesson, a GPU). A task carries its notebook (whatever its size: the worker refuses one
over ``MAX_NOTEBOOK_BYTES`` as the local path does), which the scheduler holds until the
task ends: the rest of the batch waits on the client's disk."""


def _slots(client, gpu: bool) -> int:
    """How many submissions the cluster grades at once: its workers' threads, or, for GPU
    tasks, its GPUs."""
    workers = _workers(client).values()
    if gpu:
        return sum(int(info.get("resources", {}).get(GPU_RESOURCE, 0)) for info in workers)
    return sum(int(info.get("nthreads", 1)) for info in workers)


class _Tasks:
    """The batch's tasks, submitted a few at a time (:data:`IN_FLIGHT_PER_SLOT`) as the
    earlier ones finish, and each released once its result is written."""

    def __init__(self, client, spec: BatchSpec, gpu: bool, todo: dict[str, Path]) -> None:
        from distributed import as_completed

        self.client, self.spec, self.gpu = client, spec, gpu
        self.waiting = iter(todo.items())
        self.total = self.unsubmitted = len(todo)
        self.students: dict = {}  # future -> student, while on the cluster
        self.unreadable: dict[str, str] = {}  # student -> why its file could not be read
        self.pending = as_completed(loop=client.loop, with_results=False)

    def top_up(self) -> None:
        """Submit waiting submissions until the cluster holds its share of them (none while
        the client is not connected)."""
        if not self.unsubmitted or self.client.status != "running":
            return
        share = IN_FLIGHT_PER_SLOT * max(_slots(self.client, self.gpu), 1)
        while len(self.students) < share and (waiting := next(self.waiting, None)):
            student, path = waiting
            self.unsubmitted -= 1
            try:
                notebook = path.read_bytes()
            except OSError as error:  # gone, or unreadable, since the batch started
                why = f"{path} could not be read: {error.strerror or error}"
                self.unreadable[student] = why
                print(f"{student}: not graded: {why}", file=sys.stderr)
                continue
            future = self.client.submit(
                grade_task,
                self.spec,
                student,
                notebook,
                str(path),
                key=f"grade-{self.spec.batch_id}-{student}",
                resources={GPU_RESOURCE: 1} if self.gpu else None,
                pure=False,
            )
            self.students[future] = student
            self.pending.add(future)

    def finished(self) -> list[tuple[str, object]]:
        """(student, future) of the tasks that ended since the last call (finished, erred or
        cancelled), without waiting. A result lost with its worker before the client
        fetched it is being computed again: it comes back later."""
        ended = []
        for future in self.pending.next_batch(block=False):
            if future.status in ("finished", "error", "cancelled"):
                ended.append((self.students.pop(future), future))
            else:
                self.pending.add(future)
        return ended

    def waiting_count(self) -> int:
        """Submissions not yet graded: on the cluster or still on the client's disk."""
        return len(self.students) + self.unsubmitted

    def done(self) -> bool:
        return not self.students and not self.unsubmitted

    def release(self) -> None:
        for future in self.students:
            future.release()
        self.students.clear()


def _collect(tasks: _Tasks, gpu_wait: float | None, out: Path, guard, columns) -> dict[str, str]:
    """Submit ``tasks`` and write each one's result as it comes; returns why each failed
    task failed (by student). Stops with ClusterError when the tasks need a GPU
    (``gpu_wait`` is not None) and no worker of the cluster has had one for ``gpu_wait``
    seconds."""
    done, failed = 0, {}
    without_gpu_since = None
    tasks.top_up()
    while not tasks.done():
        if tasks.client.status in ("closing", "closed"):  # the scheduler is gone for good
            raise ClusterError(
                f"the connection to the scheduler was lost ({done} submission(s) graded and "
                f"written, {tasks.waiting_count()} not): run the same command again to "
                "grade the rest"
            )
        finished = tasks.finished()
        if not finished:
            if gpu_wait is not None and not _gpu_workers(tasks.client):
                without_gpu_since = without_gpu_since or time.monotonic()
                if time.monotonic() - without_gpu_since >= gpu_wait:
                    raise ClusterError(
                        f"{tasks.waiting_count()} submission(s) need a worker with "
                        f"a GPU (the resource {GPU_RESOURCE}) and the cluster has had none "
                        f"for {gpu_wait:g} s (--gpu-wait): start one with `dask worker "
                        f'ADDRESS --resources "{GPU_RESOURCE}=1"` and run the same command '
                        "again to grade them (what was graded is kept)"
                    )
            else:
                without_gpu_since = None
            time.sleep(0.5)
            continue
        for student, future in finished:
            if future.status != "finished":  # erred (its workers died), or cancelled
                try:
                    why = repr(future.exception())
                except Exception as error:  # noqa: BLE001 - cancelled: no exception to show
                    why = f"{future.status}: {error!r}"
                failed[student] = why[:300]
                print(f"{student}: not graded on the cluster: {why[:300]}", file=sys.stderr)
            else:
                answer = future.result()
                result = answer["result"]
                store(out, guard, result, answer["feedback"], answer["executed"], columns)
                done += 1
                print(progress_line(done, tasks.total, result, result["worker"]), file=sys.stderr)
            future.release()
        tasks.top_up()
    return failed
