"""Cross-validated safeguarding / urgent_safety recall and precision on the seed TRAIN split.

    PYTHONPATH=. python bench/safeguarding_cv.py [--min-precision 0.8] [--misses dev]

Trains exactly as `intake train` does (rules, flag models, recall-first thresholds, review threshold)
but keeps the out-of-fold decision of every TRAIN item, and reports the two recall-first flags:
over all TRAIN, over the corpus's own items, and over the blind writers' items (ids bw1-/bw2-/bw3-,
written by people who saw only the taxonomy), each writer apart.

The blind items are cut in two by their id's hash: a DEV half, whose misses may be read to improve
the rules, and a CHECK half that is never printed. For the CHECK half the recall-first thresholds
are chosen again without its items, so its figures say how the rules and thresholds do on writing
nobody tuned them on (the model still learns from every item, out of fold).
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence

import numpy as np

from classifier import training
from classifier.data import LabelledExample, load_examples, seed_files, split_examples
from classifier.decision import SAFETY_NET_RULES
from classifier.encoding import EncodedItem
from classifier.evaluation_metrics import score
from classifier.model import ModelSettings, TriageModel
from classifier.thresholds import choose_flag_model
from triage_rules.rules import flags_from, load_rule_engine

FLAGS = (training.SAFEGUARDING_FLAG, training.URGENT_FLAG)
BLIND_PREFIXES = ("bw1-", "bw2-", "bw3-")


def blind_half(item_id: str) -> str | None:
    """"dev" or "check" for a blind writer's item, None for the corpus's own."""
    if not item_id.startswith(BLIND_PREFIXES):
        return None
    return "check" if int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 2 else "dev"


def precision_recall(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, int, int, int]:
    hits = int(np.sum(truth & predicted))
    precision = hits / int(predicted.sum()) if predicted.any() else 1.0
    recall = hits / int(truth.sum()) if truth.any() else 1.0
    return precision, recall, hits, int(truth.sum()), int(predicted.sum())


def line(name: str, truth: np.ndarray, predicted: np.ndarray) -> str:
    precision, recall, hits, positives, raised = precision_recall(truth, predicted)
    return f"  {name:<28} recall {recall:.3f} ({hits}/{positives})  precision {precision:.3f} ({hits}/{raised})"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-precision", type=float, nargs="+", default=[None],
                        help="out-of-fold precision(s) both recall-first flags must keep (default: training.py's "
                             "constants, per flag); several: one cross-validation, the choice and figures for each")
    parser.add_argument("--misses", choices=("none", "dev"), default="none",
                        help="print the DEV half's missed and false-alarm items (never the CHECK half)")
    args = parser.parse_args(argv)
    train, _ = split_examples(load_examples(seed_files()))
    engine = load_rule_engine()
    kept, encoded = training.encode_examples(train, engine=engine)
    inputs = [item.model_input for item in encoded]
    model, out_of_fold = training.fit_with_cross_validation(inputs, kept, ModelSettings())  # type: ignore[arg-type]
    assert model is not None
    for floor in args.min_precision:
        print(f"\n================ min precision {floor}")
        report_floor(floor, args.misses if floor == args.min_precision[0] else "none", model, kept, encoded, out_of_fold)


def report_floor(floor: float | None, misses: str, model: TriageModel, kept: list[LabelledExample],
                 encoded: list[EncodedItem], out_of_fold: training.OutOfFold) -> None:
    if floor is not None:
        training.RECALL_FIRST_MIN_PRECISION = floor
        training.RECALL_FIRST_MIN_PRECISION_BY_FLAG = {}

    def floor_for(flag: str) -> float:
        return training.RECALL_FIRST_MIN_PRECISION_BY_FLAG.get(flag, training.RECALL_FIRST_MIN_PRECISION)
    choices = training._choose_flags(kept, encoded, out_of_fold)
    model.flag_thresholds = {c.flag: c.threshold for c in choices if c.use_model}
    model.confirm_thresholds = {c.flag: c.confirm_threshold for c in choices if c.use_model and c.confirm_threshold > 0}
    review = training.choose_review(model, kept, encoded, out_of_fold)
    predictions = training.out_of_fold_predictions(model, encoded, out_of_fold, review.threshold)
    report = score(kept, predictions)

    ids = [example.id for example in kept]
    halves = np.array([blind_half(item_id) or "" for item_id in ids])
    groups = {
        "all TRAIN": np.ones(len(kept), dtype=bool),
        "corpus's own": halves == "",
        "blind, all": halves != "",
        **{f"blind {prefix[:-1]}": np.array([i.startswith(prefix) for i in ids]) for prefix in BLIND_PREFIXES},
        "blind DEV half": halves == "dev",
        "blind CHECK half": halves == "check",
    }
    print(f"TRAIN items {len(kept)}; min precision {floor_for(FLAGS[0])} (safeguarding), {floor_for(FLAGS[1])} "
          f"(urgent_safety); review threshold {review.threshold:.2f}")
    for choice in choices:
        if choice.flag in FLAGS:
            print(f"{choice.flag}: threshold {choice.threshold:.3f} confirm {choice.confirm_threshold:.3f}")
    for flag in FLAGS:
        truth = np.array([flag in example.flags for example in kept])
        decided = np.array([flag in prediction.flags for prediction in predictions])
        rules = np.array([flag in flags_from(item.hits) for item in encoded])
        probabilities = out_of_fold.flag_probabilities[flag]
        print(f"\n{flag} (out of fold, as decided)")
        for name, rows in groups.items():
            print(line(name, truth[rows], decided[rows]))
        print(f"{flag}: rules alone / model alone (at its threshold) on the blind items")
        blind = groups["blind, all"]
        print(line("rules alone, blind", truth[blind], rules[blind]))
        print(line("model alone, blind", truth[blind], probabilities[blind] >= model.flag_thresholds.get(flag, 2.0)))
        # CHECK half: thresholds chosen again without its items.
        check = groups["blind CHECK half"]
        net_only = np.array([bool(r) and all(rule in SAFETY_NET_RULES for rule in r)
                             for r in ([h.rule for h in item.hits if h.effect == "flag" and h.value == flag]
                                       for item in encoded)])
        choice = choose_flag_model(flag, rule_flags=rules[~check], model_probabilities=probabilities[~check],
                                   truth=truth[~check], recall_first=True,
                                   min_precision_recall_first=floor_for(flag), safety_net_only=net_only[~check])
        predicted = ((rules & ~net_only) | (net_only & (probabilities >= choice.confirm_threshold))
                     | (probabilities >= choice.threshold))
        print(f"{flag}: CHECK half with thresholds chosen without it ({choice.threshold:.3f}/"
              f"{choice.confirm_threshold:.3f}); before the hazard-state step")
        print(line("blind CHECK half (untuned)", truth[check], predicted[check]))
        if misses == "dev":
            for row in np.flatnonzero((halves == "dev") & (truth != decided)):
                kind = "MISS" if truth[row] else "FALSE ALARM"
                fired = sorted({h.rule for h in encoded[row].hits if h.effect == "flag"})
                print(f"--- {kind} {flag} {ids[row]} p={probabilities[row]:.2f} flags={list(kept[row].flags)} "
                      f"rules={fired}\n{kept[row].body}")
    queues = report["queue_precision"]
    print(f"\nCV TRAIN: emergency-queue precision {queues['emergency']['precision']:.3f} "
          f"(sent {queues['emergency']['sent']}), safeguarding-queue precision "
          f"{queues['safeguarding']['precision']:.3f}, complaint F1 {report['complaint_f1']:.3f}, "
          f"junk F1 {report['junk']['f1']:.3f} (protected as junk {report['junk']['protected_items_labelled_junk']}), "
          f"routed queue accuracy {report['routed_queue_accuracy']:.3f}, automation {report['automation_rate']:.3f}")

if __name__ == "__main__":
    main()
