"""Precision and recall of the rule layer's flags on the TRAINING part of the seed corpus.

    .venv/bin/python bench/rules_coverage.py                 # table per flag
    .venv/bin/python bench/rules_coverage.py --show-errors   # plus every miss and false alarm

Items whose id hashes into the test split (sha1(id) % 5 == 0, the project-wide rule) are never
read here, so the rules are not tuned on them. Each message is prepared by the classifier's
`classifier.preparation.prepare` and the engine reads what the rule-layer contract says it gets:
the caller's turns of a call transcript, SMS with shorthand expanded, an email without its quoted
history (signature kept). `--as-wired` instead passes `prepared.rules_text` for every channel, which
is what `classifier/rule_layer.py` passes today.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from classifier.preparation import PreparedText, prepare
from triage_rules.rules import flags_from, load_rule_engine
from triage_rules.taxonomy import FLAGS

SEED_DIR = Path(__file__).resolve().parents[1] / "data" / "seed"


def in_test_split(item_id: str) -> bool:
    return int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 5 == 0


def training_items(seed_dir: Path) -> list[dict[str, Any]]:
    items = []
    for path in sorted(seed_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue  # a file still being written may end in half a line
            if isinstance(item, dict) and "id" in item and not in_test_split(item["id"]):
                items.append(item)
    return items


def rules_input(prepared: PreparedText, channel: str, *, as_wired: bool) -> str:
    """The text the rule layer is meant to read for this channel."""
    if as_wired or channel not in ("call_transcript", "sms"):
        return prepared.rules_text
    return prepared.text  # the caller's turns / the SMS with shorthand expanded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed-dir", type=Path, default=SEED_DIR)
    parser.add_argument("--show-errors", action="store_true", help="print every miss and false alarm")
    parser.add_argument("--as-wired", action="store_true", help="pass prepared.rules_text for every channel")
    args = parser.parse_args(argv)

    engine = load_rule_engine()
    items = training_items(args.seed_dir)
    true_pos: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    false_neg: Counter[str] = Counter()
    errors: list[str] = []
    started = time.perf_counter()
    for item in items:
        channel = item.get("channel") or "email"
        prepared = prepare(item.get("body") or "", channel=channel, subject=item.get("subject") or None)
        text = rules_input(prepared, channel, as_wired=args.as_wired)
        hits = engine.match(text, subject=prepared.subject, sender=item.get("sender"),
                            sender_name=item.get("sender_name"), channel=channel)
        predicted, expected = set(flags_from(hits)), set(item.get("flags") or [])
        for flag in FLAGS:
            if flag in predicted and flag in expected:
                true_pos[flag] += 1
            elif flag in predicted:
                false_pos[flag] += 1
                fired = ", ".join(f"{h.rule}<{h.matched}>" for h in hits if h.value == flag)
                errors.append(f"FALSE ALARM {flag:18} {item['id']}: {fired}")
            elif flag in expected:
                false_neg[flag] += 1
                errors.append(f"MISSED      {flag:18} {item['id']}: {text[:160]!r}")
    elapsed = time.perf_counter() - started

    print(f"training items: {len(items)} (test split held out); {len(items) / elapsed:,.0f} items/s")
    print("| flag | support | TP | FP | FN | precision | recall | F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for flag in FLAGS:
        tp, fp, fn = true_pos[flag], false_pos[flag], false_neg[flag]
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        print(f"| `{flag}` | {tp + fn} | {tp} | {fp} | {fn} | {precision:.3f} | {recall:.3f} | {f1:.3f} |")
    if args.show_errors:
        print("\n".join(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
