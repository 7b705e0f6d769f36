"""Process set-up shared by the measuring processes (stdlib only, imports nothing heavy)."""

from __future__ import annotations

import os
import resource


def pin(cpu: int) -> bool:
    """Pin this process (and the threads it starts later) to ``cpu``; False when it cannot."""
    if cpu < 0 or not hasattr(os, "sched_setaffinity") or cpu not in os.sched_getaffinity(0):
        return False
    os.sched_setaffinity(0, {cpu})
    return True


def raise_fd_limit() -> None:
    """Allow as many open sockets as the hard limit does (1,000 concurrent streams need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
