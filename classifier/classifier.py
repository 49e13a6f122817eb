"""`Classifier`: a loaded model version that classifies messages, and the process-wide `classify()`."""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from classifier.config import review_threshold_override
from classifier.data import LabelledExample
from classifier.decision import Decision, decide, decide_unusable
from classifier.encoding import EncodedItem, MessageInput, encode
from classifier.errors import InvalidInputError, ModelNotFoundError
from classifier.explanation import Explainer, WordMap
from classifier.features import FeatureSettings
from classifier.inference import add_inference_file, model_from_inference, read_inference
from classifier.model import ModelSettings, Predictions, TriageModel
from classifier.passages import MIN_PASSAGE_PROBABILITY, RISK_FLAGS, passage_inputs, passages_of
from classifier.persistence import load_parts
from classifier.registry import INFERENCE_FILE, MODEL_FILE, ModelRegistry
from classifier.result import Classification, Explanation, TermWeight
from classifier.rule_layer import RuleEngine, language_of
from triage_rules.rules import load_rule_engine
from triage_rules.taxonomy import CHANNELS, JUNK

# A batch this large leaves megabytes of freed temporaries (Docs, matrices) on the heap; handing
# them back costs well under a millisecond, so it is done after big batches, not after one message.
RELEASE_AFTER_BATCH = 64
# Messages encoded (tokenised, matched, lemmatised) at a time within a batch; each is on its own.
ENCODE_SLICE = 64

MessageLike = MessageInput | LabelledExample | Mapping[str, Any]
log = logging.getLogger(__name__)


def settings_from_metadata(raw: Mapping[str, Any]) -> ModelSettings:
    values: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in raw.get("features", {}).items()
    }
    features = FeatureSettings(**values)
    return ModelSettings(**{**{k: v for k, v in raw.items() if k != "features"}, "features": features})


def settings_to_metadata(settings: ModelSettings) -> dict[str, Any]:
    return dataclasses.asdict(settings)


def as_message(item: MessageLike) -> MessageInput:
    if isinstance(item, MessageInput):
        message = item
    elif isinstance(item, LabelledExample):
        message = MessageInput(item.body, item.channel, item.subject, item.sender, item.sender_name)
    elif isinstance(item, Mapping):
        text = item.get("text", item.get("body"))
        message = MessageInput(
            text=text, channel=item.get("channel") or "email", subject=item.get("subject"),
            sender=item.get("sender"), sender_name=item.get("sender_name"),
        )
    else:
        raise InvalidInputError(f"cannot classify a {type(item).__name__}: pass text or a message mapping")
    return _checked(message)


def _checked(message: MessageInput) -> MessageInput:
    text: Any = message.text
    if isinstance(text, bytes | bytearray):
        # Undecodable bytes become U+FFFD, which the garbage check then reports as unreadable.
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise InvalidInputError(f"text must be a string, got {type(text).__name__}")
    channel = message.channel or "email"
    if channel not in CHANNELS:
        raise InvalidInputError(f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    return MessageInput(
        text=text, channel=channel, subject=_optional_text(message.subject), sender=_optional_text(message.sender),
        sender_name=_optional_text(message.sender_name),
    )


def _optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


class Classifier:
    def __init__(
        self,
        model: TriageModel,
        metadata: Mapping[str, Any],
        *,
        review_threshold: float | None = None,
        engine: RuleEngine | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.metadata = dict(metadata)
        self._review_threshold = review_threshold
        # The environment INTAKE_REVIEW_THRESHOLD is read from: the process's unless one is passed in.
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._engine = engine or load_rule_engine()
        model.scorer()  # built now, before the first message: it also takes over the weights' memory
        self._explainer = Explainer.for_model(model)

    @classmethod
    def load(cls, model_dir: Path | None = None, version: str | None = None) -> Classifier:
        registry = ModelRegistry(model_dir)
        if version is None:
            available = registry.versions()
            version = registry.current_version() or (available[-1] if available else None)
        if version is None:
            raise ModelNotFoundError(
                f"no trained model in {registry.model_dir}: run `intake train` first "
                f"(or set INTAKE_MODEL_DIR to a directory that holds one)"
            )
        path = registry.path_of(version)
        metadata = registry.metadata(version)
        settings = settings_from_metadata(metadata.get("settings", {}))
        # The inference form when the version has one (NumPy only: no scikit-learn or skops imported);
        # a version saved before it existed, from its estimators in model.skops.
        arrays = read_inference(path / INFERENCE_FILE)
        if arrays is not None:
            model = model_from_inference(arrays, settings)
        else:
            log.info("model %s has no %s: loading its estimators from %s (scikit-learn and skops with them; "
                     "classifier.classifier.add_inference_form writes the file)", version, INFERENCE_FILE, MODEL_FILE)
            parts = load_parts(path / MODEL_FILE)
            model = TriageModel.from_parts(parts, settings)
            del parts
        del arrays
        classifier = cls(model, metadata)
        _release_freed_memory()
        return classifier

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unsaved"))

    @property
    def review_threshold(self) -> float:
        override = review_threshold_override(self._environ)
        if override is not None:
            return override
        if self._review_threshold is not None:
            return self._review_threshold
        return float(self.metadata.get("review_threshold", 0.5))

    def classify(
        self,
        text: str,
        *,
        channel: str = "email",
        subject: str | None = None,
        sender: str | None = None,
        sender_name: str | None = None,
    ) -> Classification:
        return self.classify_many([MessageInput(text, channel, subject, sender, sender_name)])[0]

    def classify_many(self, items: Iterable[MessageLike]) -> list[Classification]:
        messages = [as_message(item) for item in items]
        if not messages:
            return []
        # In slices: a slice's Docs are freed before the next is tokenised, so a big batch's heap
        # stays small (what malloc_trim hands back after it, the next batch would fault in again).
        encoded = [item for start in range(0, len(messages), ENCODE_SLICE)
                   for item in encode(messages[start:start + ENCODE_SLICE], engine=self._engine)]
        usable = [index for index, item in enumerate(encoded) if item.model_input is not None]
        features = self.model.features([encoded[index].model_input for index in usable])  # type: ignore[misc]
        predictions = self.model.predict(features)
        threshold = self.review_threshold
        row_of = {index: row for row, index in enumerate(usable)}
        decided: dict[int, tuple[Decision, dict[str, float]]] = {}
        # Each flag model's probabilities as Python floats, read once for the batch: the same values
        # and comparisons as `model.row_probabilities` / `model.model_flags` (float64 both), without
        # a NumPy scalar per flag and item
        flag_rows = {flag: values.tolist() for flag, values in predictions.flag_probabilities.items()}
        for index, row in row_of.items():
            flag_probabilities = {flag: values[row] for flag, values in flag_rows.items()}
            decided[index] = self._decide(encoded[index], predictions, row, flag_probabilities, threshold)
        self._read_long_messages_by_passage(encoded, row_of, decided, flag_rows, predictions, threshold)
        terms = self._terms(features, row_of, decided, encoded)
        # the same floats as float() of each NumPy scalar, one tolist() per batch instead of per row
        type_rows = predictions.type_probabilities.tolist()
        category_rows = predictions.category_probabilities.tolist()
        results: list[Classification] = []
        for index, item in enumerate(encoded):
            shown_row = row_of.get(index)
            if shown_row is None:
                results.append(self._unusable(item))
                continue
            decision, model_flags = decided[index]
            type_terms, category_terms = terms[index]
            results.append(self._result(item, decision, type_terms, category_terms, type_rows[shown_row],
                                        category_rows[shown_row], model_flags))
        if len(messages) >= RELEASE_AFTER_BATCH:
            _release_freed_memory()
        return results

    def _decide(
        self, item: EncodedItem, predictions: Predictions, row: int, flag_probabilities: dict[str, float],
        threshold: float,
    ) -> tuple[Decision, dict[str, float]]:
        flag_thresholds = self.model.flag_thresholds
        model_flags = {flag: probability for flag, probability in flag_probabilities.items()
                       if flag in flag_thresholds and probability >= flag_thresholds[flag]}
        return decide(
            self.model,
            type_probabilities=predictions.type_probabilities[row],
            category_probabilities=predictions.category_probabilities[row],
            model_flags=model_flags,
            hits=item.hits,
            review_threshold=threshold,
            flag_probabilities=flag_probabilities,
        ), model_flags

    def _read_long_messages_by_passage(
        self, encoded: list[EncodedItem], row_of: dict[int, int],
        decided: dict[int, tuple[Decision, dict[str, float]]], flag_rows: dict[str, list[float]],
        predictions: Predictions, threshold: float,
    ) -> None:
        """A long message without both risk flags is read again a passage at a time by the flag
        models (classifier/passages.py); where a passage raises a risk flag the whole message did
        not, the message is decided again with that passage's probability, and a note says which
        passage. Nothing else changes: a passage can only add a risk flag."""
        risk_flags = [flag for flag in RISK_FLAGS if flag in flag_rows]
        wanted: list[tuple[int, list[str]]] = []
        for index in row_of:
            if set(risk_flags) <= set(decided[index][0].flags):
                continue
            passages = passages_of(encoded[index].prepared.text)
            if passages:
                wanted.append((index, passages))
        if not wanted:
            return
        inputs = [text for index, passages in wanted
                  for text in passage_inputs(passages, encoded[index].model_input.meta)]  # type: ignore[union-attr]
        read = self.model.predict(self.model.features(inputs)).flag_probabilities
        passage_rows = {flag: read[flag].tolist() for flag in risk_flags}
        first = 0
        for index, passages in wanted:
            row = row_of[index]
            before = decided[index][0]
            found: dict[str, tuple[int, float]] = {}
            for flag in risk_flags:
                if flag in before.flags:
                    continue
                values = passage_rows[flag][first:first + len(passages)]
                best = max(range(len(passages)), key=values.__getitem__)
                if values[best] >= MIN_PASSAGE_PROBABILITY and values[best] > flag_rows[flag][row]:
                    found[flag] = (best, values[best])
            first += len(passages)
            if not found:
                continue
            probabilities = {flag: found[flag][1] if flag in found else values[row] for flag, values in flag_rows.items()}
            decision, model_flags = self._decide(encoded[index], predictions, row, probabilities, threshold)
            added = [flag for flag in found if flag in decision.flags and flag not in before.flags]
            if not added:
                continue
            notes = tuple(f"{flag} raised by passage {found[flag][0] + 1} of {len(passages)} read on its own "
                          f"(probability {found[flag][1]:.2f}; the whole message {flag_rows[flag][row]:.2f}): "
                          f"\u201c{_opening(passages[found[flag][0]])}\u201d" for flag in added)
            decided[index] = (dataclasses.replace(decision, flag_notes=decision.flag_notes + notes), model_flags)

    def _terms(
        self, features: Any, row_of: dict[int, int], decided: dict[int, tuple[Decision, dict[str, float]]],
        encoded: list[EncodedItem],
    ) -> dict[int, tuple[list[TermWeight], dict[str, list[TermWeight]]]]:
        """Each usable item's type terms (of the type shown) and category terms, for the whole batch at once."""
        explainer = self._explainer
        requests: list[tuple[int, int]] = []
        words: list[WordMap | None] = []
        wanted: list[tuple[int, list[str]]] = []  # per item: its index and its explained categories
        for index, row in row_of.items():
            decision = decided[index][0]
            item = encoded[index]
            shown = JUNK if decision.junk else decision.type
            word_map = (WordMap(item.lemmas, item.model_text, item.message.text)
                        if item.lemmas is not None else None)
            categories = [name for name in decision.categories if name in explainer.category_rows]
            requests.append((row, self.model.types.index(shown) if shown in self.model.types else 0))
            requests.extend((row, explainer.category_rows[name]) for name in categories)
            words.extend([word_map] * (1 + len(categories)))
            wanted.append((index, categories))
        found = iter(explainer.explain_batch(features, requests, words))
        return {index: (next(found), {name: next(found) for name in categories}) for index, categories in wanted}

    def _result(
        self, item: EncodedItem, decision: Decision, type_terms: list[TermWeight],
        category_terms: dict[str, list[TermWeight]], type_probabilities: list[float],
        category_probabilities: list[float], model_flags: dict[str, float],
    ) -> Classification:
        rule_flags = {hit.value for hit in item.hits if hit.effect == "flag"}
        explanation = Explanation(
            rules=list(item.hits),
            type_terms=type_terms,
            category_terms=category_terms,
            review_reason=decision.review_reason,
            routing_reason=decision.routing_reason,
            preparation=list(item.prepared.steps),
            model_flags={flag: round(p, 4) for flag, p in model_flags.items() if flag not in rule_flags},
            hazard_reason=decision.hazard_reason,
            flag_notes=list(decision.flag_notes),
        )
        return Classification(
            type=decision.type,
            confidence=round(decision.confidence, 4),
            type_probabilities={name: round(p, 4) for name, p in zip(self.model.types, type_probabilities,
                                                                     strict=True)},
            categories=decision.categories,
            category_probabilities=(
                {name: round(p, 4) for name, p in zip(self.model.categories, category_probabilities,
                                                      strict=True)}
                if decision.type == "complaint" else {}
            ),
            flags=decision.flags,
            queue=decision.queue,
            model_version=self.version,
            language=language_of(item.prepared.rules_text, item.hits),
            prepared_text=item.prepared.text,
            explanation=explanation,
            junk=decision.junk,
            hazard_state=decision.hazard_state,
        )

    def _unusable(self, item: EncodedItem) -> Classification:
        reason = item.prepared.unusable or "nothing to classify"
        decision = decide_unusable(item.hits, reason)
        return Classification(
            type=None, confidence=0.0, type_probabilities={}, categories=[], category_probabilities={},
            flags=decision.flags, queue=decision.queue, model_version=self.version, language=None,
            prepared_text="",
            explanation=Explanation(rules=list(item.hits), review_reason=decision.review_reason,
                                    routing_reason=decision.routing_reason, preparation=list(item.prepared.steps),
                                    hazard_reason=decision.hazard_reason),
            hazard_state=decision.hazard_state,
        )


def _opening(passage: str, length: int = 80) -> str:
    """The first words of a passage, so staff can find it in the message."""
    words = " ".join(passage.split())
    return words if len(words) <= length else words[:length].rsplit(" ", 1)[0] + "\u2026"


def _release_freed_memory() -> None:
    """Give the heap that loading used and freed (skops' temporaries) back to the system: glibc
    keeps it otherwise, and a worker's resident size is what the host pays for. Best effort:
    elsewhere than glibc this does nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def add_inference_form(model_dir: Path | None = None, version: str | None = None) -> Path:
    """Write inference.npz for a version saved without one (the current one unless named), from its
    model.skops: it then loads without scikit-learn. Returns the file's path."""
    registry = ModelRegistry(model_dir)
    version = version or registry.current_version()
    if version is None:
        raise ModelNotFoundError(f"no current model version in {registry.model_dir}")
    settings = settings_from_metadata(registry.metadata(version).get("settings", {}))
    return add_inference_file(registry.path_of(version), settings)


@cache
def default_classifier() -> Classifier:
    """The process-wide classifier: the current version in INTAKE_MODEL_DIR (or ./var/models)."""
    return Classifier.load()


def reset_default_classifier() -> None:
    """Forget the cached classifier (after training a new version, or in tests)."""
    default_classifier.cache_clear()


def classify(
    text: str,
    *,
    channel: str = "email",
    subject: str | None = None,
    sender: str | None = None,
    sender_name: str | None = None,
) -> Classification:
    return default_classifier().classify(text, channel=channel, subject=subject, sender=sender,
                                         sender_name=sender_name)
