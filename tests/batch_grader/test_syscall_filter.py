"""The system-call filter every sandbox runs under (batch_grader.trusted.syscall_filter):
its program is well formed for each architecture it knows, and on this machine, installed
in a process of its own, it refuses each forbidden call with EPERM, a call made through
another ABI's numbers too, and lets the rest through."""

from __future__ import annotations

import json
import platform
import struct
import subprocess
import sys

import pytest

from batch_grader.trusted import syscall_filter
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

RETURN, ALLOW = 0x06, 0x7FFF0000
REFUSE = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM


def _instructions(program: bytes) -> list[tuple[int, int, int, int]]:
    return [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]


@pytest.mark.parametrize("machine", sorted(syscall_filter.ARCHITECTURES))
def test_the_program_checks_the_architecture_then_refuses_each_call_by_number(machine):
    """Does the program load the architecture, refuse a foreign one, and jump from each
    forbidden number (and, on x86-64, every x32 number) to the one refusal, allowing the
    rest, with every jump inside the program?"""
    arch = syscall_filter.architecture(machine)
    instructions = _instructions(syscall_filter.program(machine))
    assert instructions[:4] == [
        (0x20, 0, 0, 4),
        (0x15, 1, 0, arch.audit_id),
        (RETURN, 0, 0, REFUSE),
        (0x20, 0, 0, 0),
    ]
    assert instructions[-2:] == [(RETURN, 0, 0, ALLOW), (RETURN, 0, 0, REFUSE)]
    refusal = len(instructions) - 1
    jumps = {}
    for index, (code, to_true, to_false, value) in enumerate(instructions[4:-2], start=4):
        assert to_false == 0 and index + 1 + to_true == refusal
        jumps[value] = code
    expected = {arch.numbers[name] for name in syscall_filter.REFUSED if name in arch.numbers}
    if arch.foreign_from is not None:
        assert jumps.pop(arch.foreign_from) == 0x35  # at least: every call of the other ABI
    assert set(jumps) == expected and set(jumps.values()) == {0x15}


def test_every_architecture_names_each_refused_call_it_has():
    """Is every refused call in the x86-64 table, and all but the I/O-port calls (which
    ARM has not) in the AArch64 one, with no name the filter does not refuse?"""
    for machine, arch in syscall_filter.ARCHITECTURES.items():
        assert set(arch.numbers) <= set(syscall_filter.REFUSED), machine
    missing = set(syscall_filter.REFUSED) - set(syscall_filter.ARCHITECTURES["aarch64"].numbers)
    assert missing == {"iopl", "ioperm"}
    assert set(syscall_filter.REFUSED) == set(syscall_filter.ARCHITECTURES["x86_64"].numbers)


def test_an_unknown_machine_is_refused_by_name():
    with pytest.raises(syscall_filter.UnknownArchitecture, match="no system-call table for 'mips'"):
        syscall_filter.program("mips")


PROBE = """
import ctypes, errno, json, os
from batch_grader.sandboxed.linux import libc
from batch_grader.trusted import syscall_filter
arch = syscall_filter.architecture()
def call(number):
    ctypes.set_errno(0)
    result = ctypes.CDLL(None, use_errno=True).syscall(number, 0, 0, 0, 0, 0)
    return errno.errorcode.get(ctypes.get_errno(), "ok") if result == -1 else "ok"
libc().prctl(38, 1, 0, 0, 0)  # no_new_privs, as in a sandbox
syscall_filter.install(syscall_filter.program())
found = {name: call(arch.numbers[name]) for name in syscall_filter.REFUSED if name in arch.numbers}
found["x32 getpid"] = call(0x40000000 + 39) if arch.foreign_from else "EPERM"
found["getpid"] = "ok" if os.getpid() > 0 else "failed"
found["file"] = open("/proc/self/status").read()[:5]
print(json.dumps(found))
"""


@pytest.mark.skipif(
    platform.machine() not in syscall_filter.ARCHITECTURES or not sys.platform.startswith("linux"),
    reason="no system-call table for this machine",
)
def test_installed_it_refuses_each_forbidden_call_and_allows_the_rest():
    """In a process of its own, once installed: does each forbidden call (with harmless
    arguments) fail with EPERM, before the kernel looks at its arguments, while getpid
    and reading a file work?"""
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found.pop("getpid") == "ok" and found.pop("file") == "Name:"
    assert {name: errno for name, errno in found.items() if errno != "EPERM"} == {}
