"""The short fault campaign: every kind of fault once, back to back, under traffic on all four
channels, against private PostgreSQL and Redis servers — then nothing lost, duplicated or sent twice.

The long campaign (bench/faults.py --faults 200) measures recovery times; see docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CEILING = 1200  # seconds: a ceiling for a loaded machine; it takes about two minutes on a quiet one

pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(CEILING + 120)]


def test_every_kind_of_fault_under_traffic_loses_duplicates_and_resends_nothing(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    # The campaign sets the service's INTAKE_* itself; the test settings (the shared model cache) stay.
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_") or k.startswith("INTAKE_TEST_")}
    campaign = subprocess.Popen(
        [sys.executable, "bench/faults.py", "--faults", "13", "--round", "13", "--no-probe", "--seed", "7",
         "--out", str(out)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        _, errors = campaign.communicate(timeout=CEILING)
    except subprocess.TimeoutExpired:
        os.killpg(campaign.pid, signal.SIGINT)  # its own clean-up stops the servers it started
        campaign.communicate(timeout=120)
        raise
    assert out.exists(), errors.decode(errors="replace")[-3000:]
    report = json.loads(out.read_text())
    assert report["broken"] == [], json.dumps(report, indent=2)
    # Traffic cycles email, sms, web_form, call_transcript: four or more means every channel was hit
    # (how many more depends on the machine's speed, so no more is asserted).
    assert report["totals"]["messages"] >= 4
    landed = {kind for kind, figures in report["per_kind"].items() if figures["faults"]}
    # A work horse can only be killed while one is running a job; every other kind always lands.
    assert len(landed) >= len(report["per_kind"]) - 1, report["per_kind"]
    assert campaign.returncode == 0
