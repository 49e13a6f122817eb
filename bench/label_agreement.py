"""How far two people agree on complaint categories, and the model against each of them.

The TEST split's complaints were labelled a second time, blind — by someone who saw only the
labelling guide (docs/classifier.md), docs/taxonomy.md's categories and each message's text, never
the first labels, the model or its errors (data/labels/test_complaints_second_labeller.jsonl, with
a short reason per message). Their agreement is the ceiling a category micro-F1 target can sensibly
ask of a model measured against one of them.

    python bench/label_agreement.py [--model-dir var/models] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from classifier import Classifier
from classifier.data import load_examples, seed_files, split_examples

SECOND_LABELS = Path(__file__).resolve().parents[1] / "data" / "labels" / "test_complaints_second_labeller.jsonl"
Labels = dict[str, set[str]]


def micro_f1(reference: Labels, other: Labels, ids: Iterable[str]) -> float:
    tp = fp = fn = 0
    for item_id in ids:
        a, b = reference[item_id], other[item_id]
        tp, fp, fn = tp + len(a & b), fp + len(b - a), fn + len(a - b)
    return round(2 * tp / (2 * tp + fp + fn), 3) if tp else 0.0


def per_category(reference: Labels, other: Labels) -> dict[str, float]:
    counts: Counter[tuple[str, str]] = Counter()
    for item_id, a in reference.items():
        b = other[item_id]
        counts.update((c, "tp") for c in a & b)
        counts.update((c, "fp") for c in b - a)
        counts.update((c, "fn") for c in a - b)
    categories = sorted({c for c, _ in counts})
    return {
        c: round(2 * counts[c, "tp"] / (2 * counts[c, "tp"] + counts[c, "fp"] + counts[c, "fn"]), 3) for c in categories
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="also score this model against both labellers")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    test = split_examples(load_examples(seed_files()))[1]
    complaints = [example for example in test if example.type == "complaint"]
    first: Labels = {example.id: set(example.categories) for example in complaints}
    second: Labels = {}
    for line in SECOND_LABELS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        second[record["id"]] = set(record["categories"])
    missing = set(first) - set(second)
    if missing:
        raise SystemExit(f"{len(missing)} TEST complaints have no second label (e.g. {sorted(missing)[0]})")
    ids = sorted(first)
    agreed = [item_id for item_id in ids if first[item_id] == second[item_id]]
    report: dict[str, object] = {
        "complaints": len(ids),
        "labellers_micro_f1": micro_f1(first, second, ids),
        "labellers_exact_agreement": round(len(agreed) / len(ids), 3),
        "labellers_per_category_f1": per_category(first, second),
    }
    if args.model_dir is not None:
        classifier = Classifier.load(args.model_dir)
        results = classifier.classify_many(complaints)
        model: Labels = {example.id: set(result.categories) for example, result in zip(complaints, results, strict=True)}
        report |= {
            "model_vs_first_micro_f1": micro_f1(first, model, ids),
            "model_vs_second_micro_f1": micro_f1(second, model, ids),
            "model_vs_agreed_micro_f1": micro_f1(first, model, agreed),
            "agreed_complaints": len(agreed),
        }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
