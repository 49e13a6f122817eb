"""Run a classifier over labelled examples and score it (the `intake evaluate` numbers)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from classifier.classifier import Classifier
from classifier.data import LabelledExample
from classifier.evaluation_metrics import score
from classifier.result import Classification

BATCH = 256


def classify_examples(
    classifier: Classifier,
    examples: Sequence[LabelledExample],
    *,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[list[Classification], float]:
    """Classifications in order and the seconds spent classifying."""
    results: list[Classification] = []
    started = time.perf_counter()
    for start in range(0, len(examples), BATCH):
        batch = examples[start : start + BATCH]
        results.extend(classifier.classify_many(batch))
        if on_batch is not None:
            on_batch(len(batch))
    return results, time.perf_counter() - started


def evaluate_classifier(
    classifier: Classifier,
    examples: Sequence[LabelledExample],
    *,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    results, seconds = classify_examples(classifier, examples, on_batch=on_batch)
    return score(examples, results, seconds=seconds)
