"""Small Linux process helpers shared by the zygote and its workers."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int) -> None:
    """Ask the kernel to SIGKILL us when our parent exits, so nothing outlives the driver.

    Linux only (elsewhere the EOF on our pipe still ends us, just not mid-task). The
    parent may already be gone by the time we ask; then we exit at once.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != expected_parent:
        os._exit(1)


def describe_exit(status: int) -> str:
    """``waitpid`` status as words: 'exited with code 3' / 'was killed by signal SIGKILL'."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"was killed by signal {name}"
    return f"exited with code {code}"
