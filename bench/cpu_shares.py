"""Who used the CPU during a benchmark phase: per component, from /proc (Linux only, no psutil).

On a 2-core machine the load generator, the API processes, the workers, PostgreSQL and Redis all
share the same cores, so a throughput figure means little without knowing who was busy. Each
component's figure is CPU-seconds per wall-second, i.e. cores in use (2.0 = both cores).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessStat:
    pid: int
    command: str
    session: int
    ticks: int  # own user + system time, plus that of children it has reaped (rq work horses)


# (component name, does this process belong to it?) — the first match wins.
Membership = Callable[[ProcessStat], bool]


def read_processes() -> list[ProcessStat]:
    stats: list[ProcessStat] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        stats.append(ProcessStat(pid=int(entry.name), command=command, session=int(fields[3]), ticks=ticks))
    return stats


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    per_component: dict[str, int]
    busy: int
    total: int


def snapshot(components: list[tuple[str, Membership]]) -> CpuSnapshot:
    per_component = {name: 0 for name, _ in components}
    for process in read_processes():
        for name, belongs in components:
            if belongs(process):
                per_component[name] += process.ticks
                break
    busy, total = machine_busy_ticks()
    return CpuSnapshot(at=time.monotonic(), per_component=per_component, busy=busy, total=total)


def cores_used(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """Cores in use per component between two snapshots, plus 'whole machine'."""
    seconds = after.at - before.at
    if seconds <= 0:
        return {}
    shares = {
        name: max(0, after.per_component[name] - before.per_component[name]) / TICKS_PER_SECOND / seconds
        for name in before.per_component
    }
    machine_total = after.total - before.total
    cores = os.cpu_count() or 1
    shares["whole machine"] = (after.busy - before.busy) / machine_total * cores if machine_total else 0.0
    return shares


def in_sessions(session_ids: set[int]) -> Membership:
    return lambda process: process.session in session_ids


def named(*commands: str) -> Membership:
    return lambda process: process.command in commands


def this_process() -> Membership:
    pid = os.getpid()
    return lambda process: process.pid == pid
