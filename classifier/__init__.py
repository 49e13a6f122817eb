"""The triage classifier: type (calibrated), complaint categories, flags, queue — and why.

    from classifier import classify
    result = classify("the boiler is still broken, third time I've rung", channel="sms")

`classify()` uses the current model version in INTAKE_MODEL_DIR (default ./var/models); train one
with `intake train`. See docs/classifier.md.

The names below are imported lazily: triage_rules imports `classifier.result`, and importing
the package must not pull in the rule engine while triage_rules itself is still loading.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Classifier": "classifier.classifier",
    "classify": "classifier.classifier",
    "default_classifier": "classifier.classifier",
    "reset_default_classifier": "classifier.classifier",
    "LabelledExample": "classifier.data",
    "corpus_hash": "classifier.data",
    "load_examples": "classifier.data",
    "split_examples": "classifier.data",
    "ClassifierError": "classifier.errors",
    "DataFormatError": "classifier.errors",
    "InvalidInputError": "classifier.errors",
    "ModelNotFoundError": "classifier.errors",
    "UntrustedModelError": "classifier.errors",
    "ModelRegistry": "classifier.registry",
    "Classification": "classifier.result",
    "Explanation": "classifier.result",
    "RuleHit": "classifier.result",
    "TermWeight": "classifier.result",
    "train_model": "classifier.training",
}
__all__ = [
    "Classification", "Classifier", "ClassifierError", "DataFormatError", "Explanation", "InvalidInputError",
    "LabelledExample", "ModelNotFoundError", "ModelRegistry", "RuleHit", "TermWeight", "UntrustedModelError",
    "classify", "corpus_hash", "default_classifier", "load_examples", "reset_default_classifier",
    "split_examples", "train_model",
]

if TYPE_CHECKING:
    from classifier.classifier import Classifier, classify, default_classifier, reset_default_classifier
    from classifier.data import LabelledExample, corpus_hash, load_examples, split_examples
    from classifier.errors import (
        ClassifierError,
        DataFormatError,
        InvalidInputError,
        ModelNotFoundError,
        UntrustedModelError,
    )
    from classifier.registry import ModelRegistry
    from classifier.result import Classification, Explanation, RuleHit, TermWeight
    from classifier.training import train_model


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'classifier' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
