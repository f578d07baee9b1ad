"""The sandbox's parts, one by one: bubblewrap's options (the GPU's device nodes among
them), the private channel that brings results back, the instructor's held-out secret,
and the sweep of what a killed grader left."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
import psutil
import pytest

from batch_grader.sandboxed import channel
from batch_grader.trusted.isolation import (
    REPO_ROOT,
    SANDBOX_DATA,
    SANDBOX_HOME,
    SANDBOX_INPUT,
    STAGING,
    THROWAWAY_IDS,
    SandboxCommand,
    bwrap_arguments,
    bwrap_launcher_environment,
    gpu_devices,
    throwaway_identity,
)
from batch_grader.trusted.workspace import BATCH_PREFIX, heldout_secret, sweep_stale_batches
from graders.heldout import (
    HELDOUT_SIZE,
    public_test_size,
    render_grader_heldout,
    secret_seed,
)
from tests.batch_grader import isolation_here

pytestmark = pytest.mark.sandbox

PACKAGE_FOLDER = REPO_ROOT / "graders"


def _pairs(arguments: list[str], option: str) -> list[tuple[str, str]]:
    return [
        (arguments[i + 1], arguments[i + 2]) for i, value in enumerate(arguments) if value == option
    ]


def test_the_gpu_device_nodes_are_passed_through_when_there_are_some(tmp_path):
    """Are a machine's NVIDIA device nodes (found under /dev) bound into the sandbox, and
    nothing else of /dev, with none on a machine without a GPU?"""
    for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-caps/nvidia-cap1", "null"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).touch()
    devices = gpu_devices(tmp_path)
    assert [d.relative_to(tmp_path).as_posix() for d in devices] == [
        "nvidia-caps/nvidia-cap1",
        "nvidia-uvm",
        "nvidia0",
        "nvidiactl",
    ]
    arguments = bwrap_arguments(
        inputs=tmp_path, data_folder=None, disk_mb=64, env={}, devices=devices
    )
    assert _pairs(arguments, "--dev-bind") == [(str(d), str(d)) for d in devices]
    assert gpu_devices(tmp_path / "nvidia-caps" / "none") == []


def test_the_sandbox_sees_its_inputs_read_only_and_one_writable_folder(tmp_path):
    """Do the options make every namespace new, bind the inputs and the data read-only,
    give a tmpfs of the quota's size as the writable folder (and small ones for /tmp,
    mounted before any bind that may lie under it), and set the environment given and
    nothing else?"""
    arguments = bwrap_arguments(
        inputs=tmp_path / "in", data_folder=tmp_path / "data", disk_mb=64, env={"A": "1"}
    )
    for option in ("--unshare-all", "--unshare-user", "--disable-userns", "--as-pid-1"):
        assert option in arguments
    assert (str(tmp_path / "in"), SANDBOX_INPUT) in _pairs(arguments, "--ro-bind")
    assert (str(tmp_path / "data"), SANDBOX_DATA) in _pairs(arguments, "--ro-bind")
    home = arguments.index(SANDBOX_HOME)
    assert arguments[home - 3 : home] == ["--size", str(64 * 2**20), "--tmpfs"]
    assert arguments[arguments.index("--remount-ro") + 1] == "/"
    tmp = arguments.index("/tmp")  # made before the binds, which may lie under /tmp (CI)
    assert arguments[tmp - 1] == "--tmpfs" and tmp < arguments.index(str(PACKAGE_FOLDER))
    assert _pairs(arguments, "--setenv") == [("A", "1")] and "--clearenv" in arguments
    assert not {"--bind", "--bind-try", "--share-net"} & set(arguments)


@pytest.mark.skipif(not isolation_here().isolated, reason="bubblewrap does not work here")
def test_a_sandboxed_process_sees_nothing_of_the_grader(tmp_path):
    """Inside, is it uid 1000 and PID 1, with no network but loopback, no capability, a
    read-only system, and no process or environment of the grader's?"""
    (tmp_path / "given.txt").write_text("input")
    script = (
        "import os, pathlib, socket\n"
        "print(os.getuid(), os.getpid(), sorted(n for _, n in socket.if_nameindex()))\n"
        "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
        "status = pathlib.Path('/proc/self/status').read_text().splitlines()\n"
        "print([line.split()[1] for line in status if line.startswith('CapEff')])\n"
        "print(pathlib.Path('/grader-input/given.txt').read_text(), sorted(os.environ))\n"
        "for path in ('/usr/x', '/grader-input/x', '/etc/x', '/x', '/home/learner/x'):\n"
        "    try:\n"
        "        pathlib.Path(path).write_text('x'); print('wrote', path)\n"
        "    except OSError as error:\n"
        "        print('refused', path, error.strerror)\n"
    )
    sandbox = SandboxCommand(
        [sys.executable, "-c", script],
        inputs=tmp_path,
        data_folder=None,
        disk_mb=16,
        env={"PATH": "/usr/bin", "ONLY": "this"},
    )
    done = subprocess.run(
        sandbox.argv, capture_output=True, text=True, env=bwrap_launcher_environment(), timeout=60
    )
    assert done.stdout.splitlines() == [
        "1000 1 ['lo']",
        "['1']",
        "['0000000000000000']",
        "input ['LC_CTYPE', 'ONLY', 'PATH', 'PWD']",  # PWD from bwrap, LC_CTYPE from Python
        "refused /usr/x Read-only file system",
        "refused /grader-input/x Read-only file system",
        "refused /etc/x Read-only file system",
        "refused /x Read-only file system",
        "wrote /home/learner/x",
    ], done.stderr


@pytest.mark.skipif(
    not isolation_here().throwaway, reason="no throwaway identity here (needs root)"
)
def test_a_sandbox_runs_as_a_throwaway_user_outside_reaching_its_inputs_by_descriptor(tmp_path):
    """Seen from the machine, is every process of a sandbox (bubblewrap included) the
    throwaway user and group drawn for it, with no other group, while inside it is uid
    1000 and reads its inputs from a folder that user could not reach by path? And is
    the machine's /tmp, which the launcher covers with its staging tmpfs, untouched?"""
    private = tmp_path / "private"  # like the batch's folder: root's only
    inputs = private / "input"
    inputs.mkdir(parents=True)
    private.chmod(0o700)
    (inputs / "given.txt").write_text("input")
    inputs.chmod(0o755)
    identity = throwaway_identity()
    assert identity in THROWAWAY_IDS
    script = (
        "import os, pathlib, sys\n"
        "print(os.getuid(), pathlib.Path('/grader-input/given.txt').read_text(), flush=True)\n"
        "sys.stdin.read()\n"
    )
    sandbox = SandboxCommand(
        [sys.executable, "-c", script],
        identity=identity,
        inputs=inputs,
        data_folder=None,
        disk_mb=16,
        env={},
    )
    launch = sandbox.launch(memory_bytes=None)
    process = subprocess.Popen(
        launch.command(sandbox.argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=launch.launcher_environment(),
    )
    try:
        assert process.stdout.readline() == "1000 input\n"
        tree = [psutil.Process(process.pid)]
        tree += tree[0].children(recursive=True)
        assert len(tree) >= 2
        for member in tree:
            assert member.uids().real == member.uids().effective == identity
            assert member.gids().real == identity
            groups = Path(f"/proc/{member.pid}/status").read_text().split("Groups:")[1]
            assert groups.split("\n")[0].split() in ([], [str(identity)])
    finally:
        process.stdin.close()
        process.wait(30)
    assert process.returncode == 0
    assert (inputs / "given.txt").read_text() == "input" and not Path(STAGING, "0").exists()


def _tar(members: list[tuple[str, bytes | None, bytes]]) -> io.BytesIO:
    """A tar of (name, symlink target or None, data)."""
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w") as tar:
        for name, link, data in members:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    stream.seek(0)
    return stream


def test_the_channel_keeps_expected_plain_files_only(tmp_path):
    """From a forged stream, does the grader keep the expected regular files, and drop
    links, absolute paths, climbs out of the folder and names it does not expect?"""
    stream = _tar(
        [
            ("run.json", None, b"{}"),
            ("artifacts/ex1-check/model.keras", None, b"zip"),
            ("../escaped.txt", None, b"x"),
            ("/tmp/absolute.txt", None, b"x"),
            ("artifacts/ex1-check/link", b"/etc/passwd", b""),
            ("unexpected.txt", None, b"x"),
        ]
    )
    expected = {PurePosixPath("run.json"), PurePosixPath("artifacts/ex1-check/model.keras")}
    expected |= {PurePosixPath("artifacts/ex1-check/link"), PurePosixPath("unexpected")}
    written = channel.receive(stream, tmp_path / "out", lambda name: 1000 * (name in expected))
    assert sorted(written) == ["artifacts/ex1-check/model.keras", "run.json"]
    assert not (tmp_path / "escaped.txt").exists()
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        "model.keras",
        "run.json",
    ]


def test_the_channel_refuses_garbage_and_floods(tmp_path):
    """Is a stream that is not a tar, or one over the byte budget, refused with a
    ChannelError saying so (and an empty one read as no files)?"""
    anything = lambda name: 10**9  # noqa: E731
    assert channel.receive(io.BytesIO(b""), tmp_path, anything) == []
    with pytest.raises(channel.ChannelError, match="unreadable"):
        channel.receive(io.BytesIO(b"not a tar at all" * 100), tmp_path, anything)
    big = _tar([("run.json", None, b"x" * 100_000)])
    with pytest.raises(channel.ChannelError, match="sent more than 50,000 bytes"):
        channel.receive(big, tmp_path, anything, limit=50_000)
    big.seek(0)
    assert channel.receive(big, tmp_path, lambda name: 99_999) == []  # over its own cap


def test_the_heldout_secret_is_made_once_kept_private_and_checked(tmp_path, monkeypatch):
    """Is the secret made on the first batch in the instructor's config folder (readable
    by its owner only) and the same on the next, is a given file used as it is, and a too
    short one refused?"""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    first = heldout_secret(None)
    assert len(first) == 64 and heldout_secret(None) == first
    made = tmp_path / "config" / "keras-course" / "heldout-secret"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    given = tmp_path / "mine"
    given.write_text("a secret of the instructor's\n")
    assert heldout_secret(given) == b"a secret of the instructor's"
    given.write_text("short")
    with pytest.raises(ValueError, match="too short: use 16 bytes or more"):
        heldout_secret(given)


def test_the_heldout_split_is_not_the_public_one(data_cache):
    """Are the grader's held-out images, rendered from the secret, other images than the
    public test split, HELDOUT_SIZE times as many of each class, and a seed per dataset?"""
    import data_loaders

    secret = b"0123456789abcdef0123"
    assert secret_seed(secret, "traffic_signs") != secret_seed(secret, "happy_faces")
    images, labels = render_grader_heldout("happy_faces", secret_seed(secret, "happy_faces"))
    _, (public_images, public_labels) = data_loaders.load_happy_faces()
    assert HELDOUT_SIZE > 1 and len(public_images) == public_test_size("happy_faces")
    assert images.shape == (HELDOUT_SIZE * len(public_images), *public_images.shape[1:])
    assert images.dtype == np.uint8
    assert np.bincount(labels).tolist() == (HELDOUT_SIZE * np.bincount(public_labels)).tolist()
    with pytest.raises(ValueError, match="expected a rendered dataset .*, found 'mnist'"):
        public_test_size("mnist")  # real data: its grader's split is its public one
    assert not any(np.array_equal(images[0], image) for image in public_images)


def test_a_killed_graders_folders_are_swept_and_a_live_ones_kept(tmp_path):
    """Are the private folders of batches whose grader is gone removed, and those of a
    grader that still runs (this process) kept?"""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f"{BATCH_PREFIX}{int(dead.stdout)}-abc"
    live = tmp_path / f"{BATCH_PREFIX}{os.getpid()}-def"
    for folder in (stale, live):
        (folder / "submission-x").mkdir(parents=True)
    assert sweep_stale_batches(tmp_path) == [stale]
    assert live.exists() and not stale.exists()
