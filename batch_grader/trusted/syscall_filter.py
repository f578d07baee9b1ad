"""The system calls a sandbox may not make: a seccomp filter, as a classic BPF program.

No notebook needs to trace another process, read its memory or take its descriptors,
mount file systems, unshare or join namespaces, use the kernel's keyrings, load BPF
programs, open performance counters or userfaultfd, use io_uring, load kernel modules,
load a new kernel, reboot, or set the clock; each is a door to the kernel that a
sandboxed user could try to force. (The filter does not look at ``clone``'s flags: a new
user namespace is refused by bubblewrap's ``--disable-userns``, and the others need
capabilities that no process in a sandbox has.) The filter
refuses those calls with ``EPERM`` (Python raises PermissionError, as it would for a
process without the right) and allows every other. A call made through another
architecture's numbers (32-bit calls on x86-64, or its x32 calls) is refused too, so that
no call slips past the table under another number.

bubblewrap applies the filter to a sandbox's first process (``--seccomp FD``, see
:func:`batch_grader.trusted.isolation.bwrap_arguments`); a job forked warm into a sandbox
takes it itself (:func:`install`), so every process in a sandbox runs under it.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import platform
import struct

from batch_grader.sandboxed.linux import libc, raise_on_failure

REFUSED = (
    # tracing another process, reading or writing its memory, taking its descriptors
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_getfd",
    "kcmp",
    # mounts and namespaces
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    # kernel keyrings
    "add_key",
    "request_key",
    "keyctl",
    # kernel programs, counters and page-fault handlers
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # kernel modules, a new kernel, the machine itself
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "open_by_handle_at",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    # x86 only: the I/O ports
    "iopl",
    "ioperm",
)
"""The calls a sandbox may not make, by name."""

_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165,
    "umount2": 166, "pivot_root": 155, "chroot": 161, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "unshare": 272, "setns": 308, "add_key": 248, "request_key": 249, "keyctl": 250,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
    "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "quotactl": 179,
    "syslog": 103, "open_by_handle_at": 304, "settimeofday": 164, "clock_settime": 227,
    "iopl": 172, "ioperm": 173, "process_madvise": 440, "pidfd_getfd": 438, "kcmp": 312,
    "quotactl_fd": 443, "clock_adjtime": 305, "adjtimex": 159,
}  # fmt: skip
_AARCH64 = {
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40,
    "umount2": 39, "pivot_root": 41, "chroot": 51, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "unshare": 97, "setns": 268, "add_key": 217, "request_key": 218, "keyctl": 219,
    "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "init_module": 105,
    "finit_module": 273, "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294,
    "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "quotactl": 60,
    "syslog": 116, "open_by_handle_at": 265, "settimeofday": 170, "clock_settime": 112,
    "process_madvise": 440, "pidfd_getfd": 438, "kcmp": 272, "quotactl_fd": 443,
    "clock_adjtime": 266, "adjtimex": 171,
}  # fmt: skip


class Architecture:
    """A machine's system-call numbers: its audit id (``AUDIT_ARCH_*``), the number of each
    call it has, and the first number of calls made through another ABI of the same
    architecture (x86-64's x32), refused wholesale; None where there is none."""

    def __init__(self, audit_id: int, numbers: dict[str, int], foreign_from: int | None):
        self.audit_id = audit_id
        self.numbers = numbers
        self.foreign_from = foreign_from


ARCHITECTURES = {
    "x86_64": Architecture(0xC000003E, _X86_64, foreign_from=0x40000000),
    "aarch64": Architecture(0xC00000B7, _AARCH64, foreign_from=None),
}
"""The architectures the filter knows, by ``platform.machine()``."""

# classic BPF, as <linux/filter.h> and <linux/seccomp.h> define it
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_IF_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
_REFUSE = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO | EPERM
_NUMBER_OFFSET, _ARCH_OFFSET = 0, 4  # in struct seccomp_data


class UnknownArchitecture(RuntimeError):
    """The filter has no call numbers for this machine."""


def architecture(machine: str | None = None) -> Architecture:
    """This machine's (or ``machine``'s) numbers. Raises UnknownArchitecture elsewhere."""
    name = machine or platform.machine()
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise UnknownArchitecture(f"no system-call table for {name!r} (known: {known})") from None


def program(machine: str | None = None) -> bytes:
    """The filter for ``machine`` (this one by default): ``struct sock_filter`` records,
    8 bytes each, in this machine's byte order, as ``bwrap --seccomp`` reads them."""
    arch = architecture(machine)
    numbers = sorted({arch.numbers[name] for name in REFUSED if name in arch.numbers})
    checks = [(_JUMP_IF_AT_LEAST, arch.foreign_from)] if arch.foreign_from else []
    checks += [(_JUMP_IF_EQUAL, number) for number in numbers]
    # 0 load arch; 1 same arch? skip 2; 2 refuse; 3 load number; checks; allow; refuse
    instructions = [
        (_LOAD_WORD, 0, 0, _ARCH_OFFSET),
        (_JUMP_IF_EQUAL, 1, 0, arch.audit_id),
        (_RETURN, 0, 0, _REFUSE),
        (_LOAD_WORD, 0, 0, _NUMBER_OFFSET),
    ]
    for index, (code, value) in enumerate(checks):
        to_refusal = len(checks) - index  # past the remaining checks and the allow
        instructions.append((code, to_refusal, 0, value))
    if len(checks) > 255:  # a jump's offset is one byte
        raise ValueError(f"{len(checks)} checks: more than one jump can pass")
    instructions += [(_RETURN, 0, 0, _ALLOW), (_RETURN, 0, 0, _REFUSE)]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in instructions)


@functools.cache
def program_here() -> bytes | None:
    """This machine's filter (:func:`program`), or None where the filter has no table for
    it: the sandbox then runs without one, and says so (see
    :func:`batch_grader.trusted.isolation.probe`)."""
    try:
        return program()
    except UnknownArchitecture:
        return None


def install(filter_program: bytes) -> None:
    """Put ``filter_program`` (see :func:`program`) on this thread and on every process it
    starts from now on. Needs ``no_new_privs`` set, or CAP_SYS_ADMIN. Raises OSError."""

    class Program(ctypes.Structure):  # struct sock_fprog
        _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    pr_set_seccomp, seccomp_mode_filter = 22, 2
    records = ctypes.create_string_buffer(filter_program, len(filter_program))
    fprog = Program(len(filter_program) // 8, ctypes.addressof(records))
    raise_on_failure(
        libc().prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0),
        "cannot install the system-call filter",
    )
