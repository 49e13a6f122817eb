"""The host's speed at one moment, added to a run's host.json: the fixed pure-Python reference
(`bench_classifier.reference_speed`, 3 s) and the load average.

    .venv/bin/python bench/host_speed.py OUT_DIR start|end

`bench/run_all.sh` calls it before and after the benchmarks, and `bench/verdicts.py` says whether the
host held still in between. On these shared 2-core machines the reference read 357–375 runs a second
through most of one day (2026-12-06, seventeenth session) and anywhere from 212 to 369 the same
evening, from one minute to the next. A run whose host changed speed under it compares its figures
with a bare app or a reference measured at another speed, so it is not a quiet run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench_classifier import reference_speed  # beside this script

from intake.clock import SYSTEM_CLOCK, Clock


def main(clock: Clock = SYSTEM_CLOCK) -> None:
    directory, moment = Path(sys.argv[1]), sys.argv[2]
    if moment not in ("start", "end"):
        raise SystemExit("usage: host_speed.py OUT_DIR start|end")
    path = directory / "host.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    record[moment] = {
        "at": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "reference_runs_per_second": round(reference_speed(3.0), 1),
    }
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    print(f"host at the {moment}: {record[moment]['reference_runs_per_second']} reference runs a second, "
          f"load {record[moment]['load_average']}")


if __name__ == "__main__":
    main()
