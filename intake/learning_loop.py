"""The learning loop: staff corrections train the next model version, which is used only if not worse.

- Every correction is training data and outweighs the seed label of a similar item
  (`CORRECTION_WEIGHT`); only the latest correction of an item counts.
- The newest corrections no version has seen yet are first kept back (`FRESH_FRACTION` of them) to
  test the new version on labels it has not trained on; every later version trains on them.
- The new version is compared with the one in use on the seed corpus's held-out TEST split and on
  those fresh corrections. It is promoted only when it is not worse on either (`NOT_WORSE_BY`), and
  never when it finds fewer of the messages a person must see at once: its recall of each of
  `SAFETY_FLAGS` on the TEST split may not fall at all.
- Every evaluation and its decision is in the audit log (`model_evaluated`), which is also where the
  loop remembers which corrections were already used for testing.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from intake import audit
from intake.errors import InvalidMessage
from intake.runtime import Runtime
from models import AuditEntry, Correction, Item

log = logging.getLogger(__name__)

# How much one staff correction counts against one seed example.
CORRECTION_WEIGHT = 3.0
# Share of the not-yet-seen corrections kept back to test a new version (at least one when there are 2+).
FRESH_FRACTION = 0.2
MAX_FRESH = 500
# "Not worse": a metric may fall by at most this much on the TEST split (about 3 of 600 items, noise);
# on the fresh corrections it may not fall at all.
NOT_WORSE_BY = 0.005
TEST_METRICS = ("type_macro_f1", "queue_accuracy")
CORRECTION_METRICS = ("type_accuracy", "queue_accuracy")
EVALUATED = "model_evaluated"
# Flags whose recall may never fall from one version to the next (a missed one can hurt someone).
SAFETY_FLAGS = ("urgent_safety", "safeguarding")


def _recall_key(flag: str) -> str:
    return f"{flag}_recall"


def corrections_as_examples(runtime: Runtime, *, since_id: int | None = None) -> list[Any]:
    """The latest correction of each corrected item, as a weighted LabelledExample."""
    try:
        return [example for _, example in _latest_corrections(runtime, since_id=since_id)]
    except Exception:  # no database yet (a fresh install training its first model)
        return []


def _latest_corrections(runtime: Runtime, *, since_id: int | None = None) -> list[tuple[Correction, Any]]:
    from classifier import LabelledExample

    with runtime.database.session() as session:
        query = (
            select(Correction, Item)
            .join(Item, Item.id == Correction.item_id)
            .where(Item.erased_at.is_(None))  # an erased person's messages never train a model again
            .order_by(Correction.id)
        )
        if since_id is not None:
            query = query.where(Correction.id > since_id)
        latest: dict[int, tuple[Correction, Item]] = {}
        for correction, item in session.execute(query):
            latest[item.id] = (correction, item)
        session.expunge_all()
    pairs = []
    for correction, item in sorted(latest.values(), key=lambda pair: pair[0].id):
        after = correction.after
        pairs.append(
            (
                correction,
                LabelledExample(
                    id=f"correction-{correction.id}",
                    channel=item.channel,
                    sender=item.sender_address or "",
                    sender_name=item.sender_name or "",
                    subject=item.subject or "",
                    body=item.body,
                    type=after.get("type") or item.type or "enquiry",
                    categories=tuple(after.get("categories", item.categories)),
                    flags=tuple(after.get("flags", item.flags)),
                    queue=after.get("queue") or item.queue or "",
                    weight=CORRECTION_WEIGHT,
                ),
            )
        )
    return pairs


@dataclass(frozen=True)
class CorrectionSplit:
    train: list[Any]  # LabelledExample: trained on
    fresh: list[Any]  # LabelledExample: the newest unseen corrections, kept back to test the new version

    @staticmethod
    def ids(examples: Sequence[Any]) -> list[int]:
        return [int(example.id.removeprefix("correction-")) for example in examples]


def _already_tested_on(runtime: Runtime) -> set[int]:
    with runtime.database.session() as session:
        entries = session.scalars(select(AuditEntry.details).where(AuditEntry.action == EVALUATED))
        return {int(i) for details in entries for i in (details or {}).get("fresh_correction_ids", [])}


def split_corrections(runtime: Runtime) -> CorrectionSplit:
    """All corrections to train on, except the newest unseen ones kept back to test with."""
    try:
        pairs = _latest_corrections(runtime)
        tested = _already_tested_on(runtime)
    except Exception:  # no database yet
        return CorrectionSplit(train=[], fresh=[])
    unseen = [example for correction, example in pairs
              if correction.trained_in_version is None and correction.id not in tested]
    keep_back = 0 if len(unseen) < 2 else min(MAX_FRESH, max(1, math.ceil(len(unseen) * FRESH_FRACTION)))
    fresh = unseen[len(unseen) - keep_back:] if keep_back else []
    fresh_ids = {example.id for example in fresh}
    return CorrectionSplit(train=[e for _, e in pairs if e.id not in fresh_ids], fresh=fresh)


# --- the promotion rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    data: str  # "test split" / "fresh corrections"
    metric: str
    current: float
    candidate: float
    allowed_drop: float

    @property
    def ok(self) -> bool:
        return self.candidate >= self.current - self.allowed_drop - 1e-9

    def describe(self) -> str:
        verdict = "ok" if self.ok else "WORSE"
        return f"{self.data} {self.metric}: {self.current:.3f} → {self.candidate:.3f} ({verdict})"


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    comparisons: list[Comparison] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [self.reason, *(comparison.describe() for comparison in self.comparisons)]


def decide_promotion(
    current: dict[str, dict[str, float]] | None, candidate: dict[str, dict[str, float]]
) -> PromotionDecision:
    """The rule. Each argument maps a data set ("test", "corrections") to its report's metrics."""
    if current is None:
        return PromotionDecision(True, "no model is in use yet: the new version is promoted")
    comparisons = []
    for data, metrics, allowed in (("test", TEST_METRICS, NOT_WORSE_BY), ("corrections", CORRECTION_METRICS, 0.0)):
        if data not in candidate or data not in current:
            continue
        label = "test split" if data == "test" else f"fresh corrections (n={int(candidate[data].get('n', 0))})"
        for metric in metrics:
            comparisons.append(
                Comparison(label, metric, float(current[data][metric]), float(candidate[data][metric]), allowed)
            )
        if data == "test":
            for flag in SAFETY_FLAGS:  # no allowance: safety recall may not fall at all
                key = _recall_key(flag)
                if key in current[data]:
                    # A candidate whose recall could not be measured is not known to be as safe: NaN
                    # compares as worse, so it is refused (and shown as "nan").
                    measured = float(candidate[data].get(key, float("nan")))
                    comparisons.append(Comparison(label, key, float(current[data][key]), measured, 0.0))
    if not comparisons:
        return PromotionDecision(True, "no held-out data to compare the versions on: promoted as asked")
    worse = [c for c in comparisons if not c.ok]
    if worse:
        return PromotionDecision(False, "not promoted: worse than the version in use on " + ", ".join(
            f"{c.data} {c.metric}" for c in worse), comparisons)
    return PromotionDecision(True, "promoted: not worse than the version in use", comparisons)


def evaluate_versions(
    model_dir: Path, candidate_version: str, *, test: Sequence[Any], fresh: Sequence[Any]
) -> tuple[str | None, dict[str, dict[str, float]] | None, dict[str, dict[str, float]]]:
    """(current version, its reports, the candidate's reports) on the test split and fresh corrections."""
    from classifier import Classifier, ModelRegistry
    from classifier.evaluation_run import evaluate_classifier

    registry = ModelRegistry(model_dir)
    current_version = registry.current_version()
    data = {name: examples for name, examples in (("test", test), ("corrections", fresh)) if examples}

    def reports(version: str) -> dict[str, dict[str, float]]:
        classifier = Classifier.load(model_dir, version)
        out = {}
        for name, examples in data.items():
            report = evaluate_classifier(classifier, examples)
            out[name] = {key: float(report[key]) for key in ("n", *TEST_METRICS, *CORRECTION_METRICS)}
            for flag in SAFETY_FLAGS:
                if flag in report["flag_recall"]:
                    out[name][_recall_key(flag)] = float(report["flag_recall"][flag])
        return out

    current = reports(current_version) if current_version and current_version != candidate_version else None
    return current_version, current, reports(candidate_version)


def record_evaluation(
    runtime: Runtime,
    *,
    actor: str,
    candidate_version: str,
    current_version: str | None,
    split: CorrectionSplit,
    decision: PromotionDecision,
) -> None:
    """Audit the decision, and mark which corrections the new version trained on."""
    with runtime.database.session() as session:
        trained_ids = CorrectionSplit.ids(split.train)
        if trained_ids:
            session.execute(
                update(Correction).where(Correction.id.in_(trained_ids)).values(trained_in_version=candidate_version)
            )
        audit.record(
            session,
            actor=actor,
            action=EVALUATED,
            version=candidate_version,
            compared_with=current_version,
            promoted=decision.promote,
            reason=decision.reason,
            comparisons=[{**asdict(c), "ok": c.ok} for c in decision.comparisons],
            trained_correction_ids=trained_ids,
            fresh_correction_ids=CorrectionSplit.ids(split.fresh),
        )


class LearningLoop:
    """`intake train`'s link to the database: which corrections to train on, and the promotion gate.

    The split is made once per run, so a correction saved while the model trains is left for next time.
    """

    def __init__(self, runtime_factory: Callable[[], Runtime], *, actor: str = "cli") -> None:
        self._runtime_factory = runtime_factory
        self._split: CorrectionSplit | None = None
        self._trained_on_corrections = False  # `intake train --no-corrections` never asks for them
        self.actor = actor

    @property
    def split(self) -> CorrectionSplit:
        if self._split is None:
            self._split = split_corrections(self._runtime_factory())
        return self._split

    def training_examples(self) -> list[Any]:
        self._trained_on_corrections = True
        return list(self.split.train)

    def gate(self, version: str, model_dir: Path | None, test: Sequence[Any]) -> PromotionDecision:
        """Evaluate `version` against the one in use; promote it when the rule says so."""
        from classifier import ModelRegistry

        runtime = self._runtime_factory()
        directory = Path(model_dir) if model_dir is not None else runtime.settings.model_dir
        current_version, current, candidate = evaluate_versions(
            directory, version, test=test, fresh=self.split.fresh
        )
        decision = decide_promotion(current, candidate)
        if decision.promote:
            ModelRegistry(directory).promote(version)
            if directory == runtime.settings.model_dir:
                runtime.reload_classifier()
        trained = self.split if self._trained_on_corrections else CorrectionSplit([], self.split.fresh)
        try:
            record_evaluation(
                runtime,
                actor=self.actor,
                candidate_version=version,
                current_version=current_version,
                split=trained,
                decision=decision,
            )
        except Exception:  # no database yet (training before `intake db upgrade`): the decision stands
            log.exception("could not record the evaluation of model %s in the audit log", version)
        log.info("model %s: %s", version, "; ".join(decision.lines()))
        return decision


@dataclass(frozen=True)
class RetrainOutcome:
    version: str
    decision: PromotionDecision
    trained_corrections: int
    fresh_corrections: int


def retrain(runtime: Runtime, *, actor: str = "worker") -> RetrainOutcome:
    """What `intake train` does, for the scheduled job and the admin page's "Retrain now"."""
    from classifier import train_model
    from classifier.data import load_examples, seed_files, split_examples
    from intake.retrain_progress import ProgressWriter

    # Each stage is shown on the Model versions page while it runs (intake/retrain_progress.py).
    progress = ProgressWriter(runtime.settings.model_dir, runtime.clock)
    try:
        progress("collecting corrections", 0, 1)
        loop = LearningLoop(lambda: runtime, actor=actor)
        train, test = split_examples(load_examples(seed_files()))
        examples = [*train, *loop.training_examples()]
        result = train_model(
            examples,
            out_dir=runtime.settings.model_dir,
            evaluation_examples=test,
            promote=False,
            progress=progress,
            clock=runtime.clock,  # the version's name and created_at are the runtime's "now"
        )
        assert result.version is not None
        progress("comparing", 0, 1)
        decision = loop.gate(result.version, runtime.settings.model_dir, test)
    except Exception as error:
        progress("failed", 0, 1)
        # The page must not say "running" for ever: the failure ends the retraining it asked for.
        with runtime.database.session() as session:
            audit.record(session, actor=actor, action="retrain_failed", error=type(error).__name__)
        raise
    progress("finished", 1, 1)
    return RetrainOutcome(result.version, decision, len(loop.split.train), len(loop.split.fresh))


RETRAIN_JOB_ID = "retrain"  # one at a time: scheduling again while one is queued does nothing
RETRAIN_TIMEOUT_SECONDS = 3 * 3600
_in_process_retrain: threading.Thread | None = None


def schedule_retrain(runtime: Runtime, *, actor: str) -> bool:
    """Queue a retrain (`intake.jobs.retrain_model`). False when one is already running in this process."""
    global _in_process_retrain
    from intake.queueing import RETRAIN, RqJobQueue

    with runtime.database.session() as session:
        audit.record(session, actor=actor, action="retrain_scheduled")
    if isinstance(runtime.jobs, RqJobQueue):
        runtime.jobs.enqueue_named(RETRAIN, actor, job_id=RETRAIN_JOB_ID, timeout=RETRAIN_TIMEOUT_SECONDS)
        return True
    # In-process jobs run inline: a web request must not wait minutes for a model, so use a thread.
    if _in_process_retrain is not None and _in_process_retrain.is_alive():
        return False
    _in_process_retrain = threading.Thread(
        target=runtime.jobs.enqueue_named,
        args=(RETRAIN, actor),
        kwargs={"job_id": RETRAIN_JOB_ID},
        name="retrain",
        daemon=True,
    )
    _in_process_retrain.start()
    return True


# --- model versions for the admin page ---------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    version: str
    current: bool
    created_at: str
    training_examples: int
    metrics: dict[str, float]
    evaluation: dict[str, Any] | None  # the latest `model_evaluated` audit details for it


def model_versions(runtime: Runtime) -> list[VersionRow]:
    """Newest first, with held-out metrics and the promotion decision made about each."""
    from classifier import ModelRegistry

    registry = ModelRegistry(runtime.settings.model_dir)
    current = registry.current_version()
    with runtime.database.session() as session:
        evaluations = {
            (details or {}).get("version"): details
            for details in session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == EVALUATED).order_by(AuditEntry.id)
            )
        }
    rows = []
    for version in reversed(registry.versions()):
        metadata = registry.metadata(version)
        rows.append(
            VersionRow(
                version=version,
                current=version == current,
                created_at=str(metadata.get("created_at", "")),
                training_examples=int(metadata.get("training_examples", 0)),
                metrics={k: float(v) for k, v in metadata.get("metrics", {}).items() if isinstance(v, int | float)},
                evaluation=evaluations.get(version),
            )
        )
    return rows


def promote_version(runtime: Runtime, version: str, *, actor: str) -> None:
    from classifier import ModelRegistry
    from classifier.errors import ModelNotFoundError

    try:
        ModelRegistry(runtime.settings.model_dir).promote(version)
    except ModelNotFoundError as error:
        raise InvalidMessage(str(error)) from error
    runtime.reload_classifier()
    with runtime.database.session() as session:
        audit.record(session, actor=actor, action="model_promoted", version=version)


def roll_back(runtime: Runtime, *, actor: str) -> str:
    from classifier import ModelRegistry
    from classifier.errors import ModelNotFoundError

    registry = ModelRegistry(runtime.settings.model_dir)
    before = registry.current_version()
    try:
        version = registry.rollback()
    except ModelNotFoundError as error:
        raise InvalidMessage(str(error)) from error
    runtime.reload_classifier()
    with runtime.database.session() as session:
        audit.record(session, actor=actor, action="model_rolled_back", before=before, after=version)
    return version
