"""The learning loop: corrections are trained on, the newest are kept back to test, and a new model
version is promoted only when it is not worse than the one in use."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.corrections import correct_item
from intake.learning_loop import (
    CORRECTION_WEIGHT,
    EVALUATED,
    NOT_WORSE_BY,
    LearningLoop,
    PromotionDecision,
    decide_promotion,
    record_evaluation,
    split_corrections,
)
from intake.pipeline import ingest
from intake.runtime import Runtime
from models import AuditEntry, Correction, Item
from tests.factories import email_message

GOOD = {"test": {"n": 600, "type_macro_f1": 0.90, "queue_accuracy": 0.85},
        "corrections": {"n": 10, "type_accuracy": 0.70, "queue_accuracy": 0.60}}


def _with(data: str, metric: str, value: float) -> dict[str, dict[str, float]]:
    changed = {name: dict(metrics) for name, metrics in GOOD.items()}
    changed[data][metric] = value
    return changed


def test_the_first_model_is_always_promoted() -> None:
    assert decide_promotion(None, GOOD).promote


def test_an_equal_model_is_promoted() -> None:
    decision = decide_promotion(GOOD, GOOD)
    assert decision.promote
    assert len(decision.comparisons) == 4


def test_a_model_worse_on_the_test_split_is_not_promoted() -> None:
    decision = decide_promotion(GOOD, _with("test", "type_macro_f1", 0.90 - NOT_WORSE_BY - 0.001))
    assert not decision.promote
    assert "test split type_macro_f1" in decision.reason


def test_noise_within_the_tolerance_on_the_test_split_is_not_worse() -> None:
    assert decide_promotion(GOOD, _with("test", "queue_accuracy", 0.85 - NOT_WORSE_BY / 2)).promote


def test_a_model_worse_on_the_fresh_corrections_is_not_promoted_even_by_a_little() -> None:
    decision = decide_promotion(GOOD, _with("corrections", "type_accuracy", 0.69))
    assert not decision.promote
    assert "fresh corrections" in decision.reason


def test_without_fresh_corrections_only_the_test_split_is_compared() -> None:
    candidate = {"test": GOOD["test"]}
    assert [c.data for c in decide_promotion(GOOD, candidate).comparisons] == ["test split", "test split"]


# --- corrections as training data -----------------------------------------------------------


BODIES = [
    "Could you tell me when the bins are collected on Mill Lane? Thanks",
    "Please can I have a copy of my tenancy agreement, I have lost mine.",
    "What is the policy on keeping a cat in a flat?",
    "Can someone come and look at the fence at 3 Ash Road, it blew down.",
    "How do I apply for a parking permit for my road?",
    "I'd like to report a broken light on the stairs at Birch House.",
]


def _corrected_items(runtime: Runtime, count: int) -> list[int]:
    ids = []
    for body in BODIES[:count]:
        item_id = ingest(runtime, email_message(body, subject="Question")).item_id
        with runtime.database.session() as session:
            item = session.get(Item, item_id)
            correct_item(runtime, session, item, user="tina", type="complaint", categories=["delay"], flags=[],
                         queue=None, reason="chasing")
        ids.append(item_id)
    return ids


def _correction_ids(runtime: Runtime) -> list[int]:
    with runtime.database.session() as session:
        return list(session.scalars(select(Correction.id).order_by(Correction.id)))


def test_corrections_become_weighted_examples_and_the_newest_are_kept_back(runtime: Runtime) -> None:
    _corrected_items(runtime, 6)
    ids = _correction_ids(runtime)
    split = split_corrections(runtime)
    assert [e.id for e in split.fresh] == [f"correction-{i}" for i in ids[-2:]]  # ceil(20% of 6)
    assert [e.id for e in split.train] == [f"correction-{i}" for i in ids[:-2]]
    assert all(e.weight == CORRECTION_WEIGHT > 1 and e.type == "complaint" and e.categories == ("delay",)
               for e in split.train + split.fresh)


def test_only_the_latest_correction_of_an_item_counts(runtime: Runtime) -> None:
    item_id = _corrected_items(runtime, 1)[0]
    with runtime.database.session() as session:
        correct_item(runtime, session, session.get(Item, item_id), user="mo", type="enquiry", categories=[],
                     flags=[], queue=None, reason="it was a question after all")
    split = split_corrections(runtime)
    examples = split.train + split.fresh
    assert [e.type for e in examples] == ["enquiry"]


def test_corrections_kept_back_once_are_trained_on_in_the_next_run(runtime: Runtime) -> None:
    _corrected_items(runtime, 6)
    first = split_corrections(runtime)
    record_evaluation(runtime, actor="test", candidate_version="v1", current_version="v0", split=first,
                      decision=PromotionDecision(True, "promoted"))
    second = split_corrections(runtime)
    assert not second.fresh
    assert sorted(e.id for e in second.train) == sorted(e.id for e in first.train + first.fresh)
    with runtime.database.session() as session:
        trained = dict(session.execute(select(Correction.id, Correction.trained_in_version)).all())
    assert sorted(v for v in trained.values() if v) == ["v1"] * len(first.train)


# --- the gate, with real model versions ---------------------------------------------------------


@pytest.fixture
def model_copy(tmp_path: Path, trained_model_dir: Path) -> Path:
    """A private copy of the session's model directory, which the gate may change."""
    target = tmp_path / "models"
    shutil.copytree(trained_model_dir, target)
    return target


def _test_split() -> list[object]:
    from classifier.data import load_examples, seed_files, split_examples

    return split_examples(load_examples(seed_files()))[1]


def test_a_version_as_good_as_the_current_one_is_promoted_and_recorded(runtime: Runtime, model_copy: Path) -> None:
    from classifier import ModelRegistry

    _corrected_items(runtime, 3)
    registry = ModelRegistry(model_copy)
    current = registry.current_version()
    assert current is not None
    candidate = "99991231T000000Z-samecopy"
    shutil.copytree(model_copy / current, model_copy / candidate)
    (model_copy / candidate / "metadata.json").write_text(
        (model_copy / current / "metadata.json").read_text().replace(current, candidate))

    loop = LearningLoop(lambda: runtime, actor="test")
    trained_on = loop.training_examples()
    decision = loop.gate(candidate, model_copy, _test_split()[:150])

    assert decision.promote, decision.lines()
    assert registry.current_version() == candidate
    with runtime.database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == EVALUATED)).one()
        assert entry.details["promoted"] is True and entry.details["compared_with"] == current
        assert entry.details["trained_correction_ids"] == [int(e.id.split("-")[1]) for e in trained_on]
        assert len(entry.details["fresh_correction_ids"]) == 1
        assert {c["data"] for c in entry.details["comparisons"]} == {"test split", "fresh corrections (n=1)"}


@pytest.mark.slow
def test_a_worse_version_trained_with_the_corrections_is_not_promoted(runtime: Runtime, model_copy: Path) -> None:
    from classifier import ModelRegistry, train_model
    from classifier.data import load_examples, seed_files, split_examples
    from intake.clock import SYSTEM_CLOCK

    _corrected_items(runtime, 6)
    registry = ModelRegistry(model_copy)
    current = registry.current_version()
    train, test = split_examples(load_examples(seed_files()))
    loop = LearningLoop(lambda: runtime, actor="test")
    corrections = loop.training_examples()
    # A model from a tenth of the seed data: it must lose to the one in use.
    result = train_model([*train[::10], *corrections], out_dir=model_copy, promote=False, folds=3,
                         clock=SYSTEM_CLOCK)
    assert result.metadata["training_examples"] == len(train[::10]) + len(corrections)

    decision = loop.gate(result.version, model_copy, test)

    assert not decision.promote, decision.lines()
    assert registry.current_version() == current
    with runtime.database.session() as session:
        versions = set(session.scalars(select(Correction.trained_in_version)))
    assert result.version in versions  # the corrections it trained on are marked, promoted or not


@pytest.mark.redis
def test_a_retrain_is_scheduled_as_one_rq_job(runtime: Runtime, redis_url: str) -> None:
    import uuid

    from rq.job import Job
    from rq.serializers import JSONSerializer

    from intake.learning_loop import RETRAIN_JOB_ID, RETRAIN_TIMEOUT_SECONDS, schedule_retrain
    from intake.queueing import RETRAIN, RqJobQueue

    queue = RqJobQueue(redis_url, f"intake-test-{uuid.uuid4().hex[:8]}")
    runtime.jobs = queue
    try:
        assert schedule_retrain(runtime, actor="ada")
        schedule_retrain(runtime, actor="ada")  # already queued: still one job
        assert queue.queue.count == 1
        job = Job.fetch(queue.job_id_prefix + RETRAIN_JOB_ID, connection=queue.connection, serializer=JSONSerializer)
        assert (job.func_name, list(job.args), job.timeout) == (RETRAIN, ["ada"], RETRAIN_TIMEOUT_SECONDS)
    finally:
        queue.queue.empty()
    with runtime.database.session() as session:
        assert len(list(session.scalars(select(AuditEntry).where(AuditEntry.action == "retrain_scheduled")))) == 2


@pytest.mark.slow
def test_intake_train_includes_the_corrections_and_applies_the_promotion_rule(
    runtime: Runtime, model_copy: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from classifier import ModelRegistry
    from classifier.data import seed_files, split_of
    from intake.cli import app

    _corrected_items(runtime, 6)
    lines = [line for path in seed_files() for line in path.read_text().splitlines() if line.strip()]
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(lines[::12]) + "\n")  # every 12th seed example: a quick, weaker model
    before = ModelRegistry(model_copy).current_version()

    result = CliRunner().invoke(app, ["train", "--data", str(small), "--split", "train", "--out", str(model_copy)])

    assert result.exit_code == 0, result.output
    with runtime.database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == EVALUATED)).one()
    details = entry.details
    assert len(details["trained_correction_ids"]) == 4 and len(details["fresh_correction_ids"]) == 2
    assert details["compared_with"] == before
    assert {c["data"] for c in details["comparisons"]} == {"test split", "fresh corrections (n=2)"}
    metadata = json.loads((model_copy / details["version"] / "metadata.json").read_text())
    seed_records = [json.loads(line) for line in lines[::12]]
    seed_trained = [record for record in seed_records if split_of(record["id"], record.get("split")) != "test"]
    assert metadata["training_examples"] == len(seed_trained) + 4  # the corrections are in it
    current = ModelRegistry(model_copy).current_version()
    assert current == (details["version"] if details["promoted"] else before)
