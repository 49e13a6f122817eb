"""A retraining shows how far it has got on the Model versions page, and when it finished or failed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from intake import audit
from intake.retrain_progress import ProgressWriter, read_progress
from intake.runtime import Runtime
from tests.web.conftest import signed_in


def _stage(page: str) -> str:
    match = re.search(r'<p class="notification-banner__text" id="retrain-stage">(.*?)</p>', page, re.S)
    assert match, "no stage shown"
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_each_stage_of_a_real_training_run_shows_on_the_page_while_it_runs(
    client: TestClient, runtime: Runtime, tmp_path: Path, trained_model_dir: Path
) -> None:
    from classifier import train_model
    from classifier.data import load_examples, seed_files, split_examples
    from intake.clock import SYSTEM_CLOCK

    runtime.settings.model_dir = tmp_path / "models"
    shutil.copytree(trained_model_dir, runtime.settings.model_dir)
    signed_in(client, runtime, "ada", "admin")
    assert 'id="retrain-stage"' not in client.get("/staff/models").text  # nothing running

    with runtime.database.session() as session:
        audit.record(session, actor="ada", action="retrain_scheduled")
    waiting = client.get("/staff/models").text
    assert "Waiting for a worker to start it." in waiting
    assert '<meta http-equiv="refresh" content="10">' in waiting  # the page follows the run by itself

    seen: dict[str, str] = {}
    writer = ProgressWriter(runtime.settings.model_dir, runtime.clock)

    def progress(stage: str, done: int, total: int) -> None:
        writer(stage, done, total)
        seen.setdefault(f"{stage} {done}/{total}", _stage(client.get("/staff/models").text))

    # A real (small) training run reporting through the same writer the retrain job uses.
    train, _ = split_examples(load_examples(seed_files()))
    train_model(train[:300], out_dir=tmp_path / "scratch", folds=2, promote=False, progress=progress,
                clock=SYSTEM_CLOCK)

    assert "Preparing the text of each message" in seen["preparing text 0/1"]
    assert "Cross-checking on the training data (1 of 2)" in seen["cross-validating 1/2"]
    assert "Choosing confidence thresholds" in seen["choosing thresholds 0/1"]
    assert "Saving the new version" in seen["saving 0/1"]

    writer("finished", 1, 1)
    with runtime.database.session() as session:
        audit.record(session, actor="ada", action="model_evaluated", version="v", promoted=False, reason="worse")
    done = client.get("/staff/models").text
    assert "Retraining is running" not in done and "The last retraining finished at" in done
    assert "refresh" not in done


def test_a_failed_retraining_says_so_instead_of_running_for_ever(
    client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    """`learning_loop.retrain` records `retrain_failed` (and the "failed" stage) when it raises; the page
    then stops saying "running". (The failing run itself is not reproduced here: every early step of a
    retraining tolerates a missing database, so a real failure costs a full training run.)"""
    runtime.settings.model_dir = tmp_path / "models"
    signed_in(client, runtime, "ada", "admin")
    with runtime.database.session() as session:
        audit.record(session, actor="ada", action="retrain_scheduled")
    ProgressWriter(runtime.settings.model_dir, runtime.clock)("cross-validating", 2, 5)
    running = client.get("/staff/models").text
    assert "Cross-checking on the training data (2 of 5)" in _stage(running)
    assert '<progress max="5" value="2"' in running
    ProgressWriter(runtime.settings.model_dir, runtime.clock)("failed", 0, 1)
    with runtime.database.session() as session:
        audit.record(session, actor="ada", action="retrain_failed", error="MemoryError")
    page = client.get("/staff/models").text
    assert "Retraining is running" not in page
    assert "failed" in page and "the version in use is unchanged" in page
    assert read_progress(runtime.settings.model_dir).stage == "failed"  # type: ignore[union-attr]
