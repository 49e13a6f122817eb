"""This process's resident size: what a worker checks against its limit, and what the benchmarks report."""

from __future__ import annotations

import os
import sys


def resident_mb() -> float:
    """This process's resident size now, in MB (Linux: /proc/self/statm); elsewhere its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource  # Unix only, like fork

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere
