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
    title: str  # the command line as the process shows it ("postgres: postgres intake_bench_api ...")


# (component name, does this process belong to it?) — the first match wins.
Membership = Callable[[ProcessStat], bool]


def read_processes() -> list[ProcessStat]:
    stats: list[ProcessStat] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # exited while we looked
            continue
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        stats.append(
            ProcessStat(
                pid=int(entry.name), command=command, session=int(fields[3]), ticks=ticks, title=title
            )
        )
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


def cpu_seconds(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """CPU-seconds each component used between two snapshots."""
    return {
        name: max(0, after.per_component[name] - before.per_component[name]) / TICKS_PER_SECOND
        for name in before.per_component
    }


def cores_used(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """Cores in use per component between two snapshots, plus 'other processes' and 'whole machine'."""
    seconds = after.at - before.at
    if seconds <= 0:
        return {}
    shares = {name: used / seconds for name, used in cpu_seconds(before, after).items()}
    machine_total = after.total - before.total
    cores = os.cpu_count() or 1
    whole_machine = (after.busy - before.busy) / machine_total * cores if machine_total else 0.0
    # Whatever else ran meanwhile (other jobs on a shared machine): it competed for the same cores.
    shares["other processes"] = max(0.0, whole_machine - sum(shares.values()))
    shares["whole machine"] = whole_machine
    return shares


def in_sessions(session_ids: set[int]) -> Membership:
    return lambda process: process.session in session_ids


def named(*commands: str) -> Membership:
    return lambda process: process.command in commands


def this_process() -> Membership:
    pid = os.getpid()
    return lambda process: process.pid == pid


def titled(command: str, fragment: str) -> Membership:
    """Processes of `command` whose title has `fragment`: PostgreSQL backends serving one database."""
    return lambda process: process.command == command and fragment in process.title
