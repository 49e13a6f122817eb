"""Compare feature sets and classifiers by cross-validation on TRAIN (the table in docs/classifier.md).

    python -m classifier.experiments [--folds 5] [--data FILE ...]

Every variant sees the same folds of the seed TRAIN split; the test split is not touched. Texts
are prepared and the rules run once; only the vectorisers and classifiers change per variant.
Two variants switch off channel preparation by presenting emails / SMS as web-form text (no
reply parsing, no shorthand expansion).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from classifier.data import LabelledExample, load_examples, seed_files, split_examples
from classifier.encoding import EncodedItem
from classifier.model import ModelSettings, category_matrix
from classifier.thresholds import f1
from classifier.training import cross_validate, encode_examples
from triage_rules.taxonomy import CATEGORIES, TYPES


@dataclass(frozen=True)
class Variant:
    name: str
    settings: ModelSettings
    plain_channels: frozenset[str] = frozenset()  # channels presented as web_form (no preparation)


def variants() -> list[Variant]:
    base = ModelSettings()
    features = base.features

    def with_features(**changes: Any) -> ModelSettings:
        return replace(base, features=replace(features, **changes))

    return [
        Variant("chosen: lemma 1-2 + char_wb 2-5, LinearSVC C=0.5 + sigmoid calibration", base),
        Variant("lemma words 1-2 only", with_features(use_chars=False)),
        Variant("lemma unigrams only", with_features(word_ngrams=(1, 1), use_chars=False)),
        Variant("char_wb 2-5 only", with_features(use_words=False)),
        Variant("+ rule/channel tokens", with_features(use_meta=True)),
        Variant("+ rule/channel tokens x0.2", with_features(use_meta=True, meta_weight=0.2)),
        Variant("char block x0.5", with_features(char_weight=0.5)),
        Variant("char block x1.5", with_features(char_weight=1.5)),
        Variant("lemma 1-3", with_features(word_ngrams=(1, 3))),
        Variant("char_wb 3-5", with_features(char_ngrams=(3, 5))),
        Variant("char_wb 1-4", with_features(char_ngrams=(1, 4))),
        Variant("smaller vocabularies (30k words, 50k chars)",
                with_features(word_max_features=30_000, char_max_features=50_000)),
        Variant("transcripts: caller only (agent weight 0)", with_features(agent_weight=0.0)),
        Variant("transcripts: agent = caller (weight 1)", with_features(agent_weight=1.0)),
        Variant("LinearSVC C=0.1", replace(base, type_c=0.1)),
        Variant("LinearSVC C=2", replace(base, type_c=2.0)),
        Variant("LogisticRegression C=10 (no separate calibration)",
                replace(base, type_estimator="logreg", type_c=10.0)),
        Variant("LogisticRegression C=50", replace(base, type_estimator="logreg", type_c=50.0)),
        Variant("category C=2 (default 8)", replace(base, category_c=2.0)),
        Variant("category C=32", replace(base, category_c=32.0)),
        Variant("no email preparation (quotes/signatures kept)", base, frozenset({"email"})),
        Variant("no SMS shorthand expansion", base, frozenset({"sms"})),
        Variant("no transcript preparation (whole call as one text)", base, frozenset({"call_transcript"})),
    ]


def final_candidates() -> list[Variant]:
    """The close contenders from variants(), compared again over several fold assignments."""
    base = ModelSettings()

    def settings(c: float, agent: float, chars: tuple[int, int] = (2, 5), estimator: str = "svm") -> ModelSettings:
        return replace(base, type_c=c, type_estimator=estimator,
                       features=replace(base.features, agent_weight=agent, char_ngrams=chars))

    return [
        Variant("LinearSVC C=0.5, agent 0.3", settings(0.5, 0.3)),
        Variant("LinearSVC C=1, agent 0.3", settings(1.0, 0.3)),
        Variant("LinearSVC C=2, agent 0.3", settings(2.0, 0.3)),
        Variant("LinearSVC C=2, agent 0", settings(2.0, 0.0)),
        Variant("LinearSVC C=1, agent 0.15", settings(1.0, 0.15)),
        Variant("LinearSVC C=2, agent 0.3, char_wb 3-5", settings(2.0, 0.3, (3, 5))),
        Variant("LogisticRegression C=50, agent 0.3", settings(50.0, 0.3, estimator="logreg")),
        Variant("shipped: LinearSVC C=2, agent 0.15", base),
        Variant("shipped, 3 calibration folds", replace(base, calibration_folds=3)),
        Variant("shipped, LinearSVC tol 1e-3", replace(base, type_tol=1e-3)),
        Variant("shipped, 3 calibration folds, tol 1e-3", replace(base, calibration_folds=3, type_tol=1e-3)),
    ]


def _plain(examples: Sequence[LabelledExample], channels: frozenset[str]) -> list[LabelledExample]:
    return [replace(example, channel="web_form") if example.channel in channels else example for example in examples]


def _expected_calibration_error(probabilities: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    confidence = probabilities.max(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def _automation_at(confidence: np.ndarray, correct: np.ndarray, target: float = 0.95) -> float:
    for threshold in np.arange(0.2, 1.0, 0.01):
        routed = confidence >= threshold
        if routed.any() and correct[routed].mean() >= target:
            return float(routed.mean())
    return 0.0


def evaluate_variant(
    variant: Variant, examples: list[LabelledExample], encoded: list[EncodedItem], folds: int, seed: int
) -> dict[str, float]:
    started = time.perf_counter()
    inputs = [item.model_input for item in encoded]
    out_of_fold = cross_validate(inputs, examples, variant.settings, folds=folds,  # type: ignore[arg-type]
                                 flags_to_model=(), seed=seed)
    seconds = time.perf_counter() - started
    types = np.array(sorted(TYPES))
    truth = np.array([example.type for example in examples])
    predicted = types[out_of_fold.type_probabilities.argmax(axis=1)]
    correct = predicted == truth
    per_type = [f1(truth == name, predicted == name) for name in types if (truth == name).any()]
    category_truth = category_matrix(examples, CATEGORIES).astype(bool)
    category_predicted = np.zeros_like(category_truth)
    for row in np.flatnonzero(predicted == "complaint"):
        probabilities = out_of_fold.category_probabilities[row]
        chosen = probabilities >= 0.5
        if not chosen.any():
            chosen[int(np.argmax(probabilities))] = True
        category_predicted[row] = chosen
    return {
        "type_macro_f1": float(np.mean(per_type)),
        "complaint_f1": f1(truth == "complaint", predicted == "complaint"),
        "category_micro_f1": f1(category_truth.ravel(), category_predicted.ravel()),
        "ece": _expected_calibration_error(out_of_fold.type_probabilities, correct),
        "automation_at_95": _automation_at(out_of_fold.type_probabilities.max(axis=1), correct),
        "seconds": seconds,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="*", help="JSONL files (default: seed TRAIN split)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", type=int, nargs="*", help="indexes of the variants to run")
    parser.add_argument("--final", action="store_true", help="compare the final candidates instead")
    parser.add_argument("--repeats", type=int, default=1, help="fold assignments to average over")
    arguments = parser.parse_args(argv)
    examples = load_examples(arguments.data) if arguments.data else split_examples(load_examples(seed_files()))[0]
    candidates = final_candidates() if arguments.final else variants()
    chosen = [v for i, v in enumerate(candidates) if not arguments.only or i in arguments.only]
    cache: dict[frozenset[str], tuple[list[LabelledExample], list[EncodedItem]]] = {}
    print(f"{len(examples)} TRAIN examples, {arguments.folds}-fold cross-validation"
          f" averaged over {arguments.repeats} fold assignment(s)\n")
    print("| variant | type macro-F1 | complaint F1 | category micro-F1 | ECE | automation @95% type-correct | CV seconds |")
    print("|---|---|---|---|---|---|---|")
    for variant in chosen:
        if variant.plain_channels not in cache:
            cache[variant.plain_channels] = encode_examples(_plain(examples, variant.plain_channels))
        kept, encoded = cache[variant.plain_channels]
        runs = [evaluate_variant(variant, kept, encoded, arguments.folds, seed)
                for seed in range(13, 13 + arguments.repeats)]
        result = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
        print(f"| {variant.name} | {result['type_macro_f1']:.3f} | {result['complaint_f1']:.3f} | "
              f"{result['category_micro_f1']:.3f} | {result['ece']:.3f} | {result['automation_at_95']:.3f} | "
              f"{result['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
