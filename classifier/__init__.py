"""The triage classifier: type (calibrated), complaint categories, flags, queue — and why.

    from classifier import classify
    result = classify("the boiler is still broken, third time I've rung", channel="sms")

`classify()` uses the current model version in INTAKE_MODEL_DIR (default ./var/models); train one
with `intake train`. See docs/classifier.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from classifier.training import train_model

__all__ = [
    "Classification", "Classifier", "ClassifierError", "DataFormatError", "Explanation", "InvalidInputError",
    "LabelledExample", "ModelNotFoundError", "ModelRegistry", "RuleHit", "TermWeight", "UntrustedModelError",
    "classify", "corpus_hash", "default_classifier", "load_examples", "reset_default_classifier",
    "split_examples", "train_model",
]


def __getattr__(name: str) -> Any:
    # Training imports scikit-learn (~90 MB resident): only on first use of `train_model`, so that
    # classifying (the workers) never loads it.
    if name == "train_model":
        from classifier.training import train_model

        return train_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
