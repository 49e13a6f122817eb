"""Seconds per test file from a pytest run's `--durations=0` report (setup + call + teardown summed),
slowest first: the figures behind SLOW_FILES_SECONDS in tests/conftest.py.

    python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=0 -q | tee run.log
    python scripts/file_durations.py run.log [--top 40]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^(?P<seconds>\d+(?:\.\d+)?)s (?P<phase>setup|call|teardown)\s+(?P<nodeid>\S+)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--top", type=int, default=40, help="also list this many slowest test phases")
    args = parser.parse_args(argv)
    per_file: dict[str, float] = defaultdict(float)
    phases: list[tuple[float, str]] = []
    for line in args.log.read_text(errors="replace").splitlines():
        match = LINE.match(line.strip())
        if match:
            seconds = float(match["seconds"])
            per_file[match["nodeid"].split("::", 1)[0]] += seconds
            phases.append((seconds, f"{match['phase']:8} {match['nodeid']}"))
    if not per_file:
        print("no --durations lines found", file=sys.stderr)
        return 1
    print(f"total {sum(per_file.values()):.0f} s in {len(per_file)} files")
    for path, seconds in sorted(per_file.items(), key=lambda kv: -kv[1]):
        print(f"{seconds:8.1f}  {path}")
    print(f"\nslowest {args.top}:")
    for seconds, what in sorted(phases, reverse=True)[: args.top]:
        print(f"{seconds:8.1f}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
