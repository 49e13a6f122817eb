"""How much messy writing costs: the held-out TEST split rewritten six ways, scored each time.

    python -m classifier.robustness [--model-dir DIR] [--version V] [--json OUT.json] [--data FILE ...]

Residents type in lower case, without punctuation, with typos and text-speak, and email clients add
signatures and quoted threads. Each perturbation rewrites every TEST item (deterministically: the
same seed gives the same text) and the report gives type macro-F1, category micro-F1 and the recall
of the two safety flags under each, with the drop from the unchanged text. Nothing here is used
for training or for choosing anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from classifier.classifier import Classifier
from classifier.data import LabelledExample, load_examples, seed_files, split_examples
from classifier.evaluation_run import evaluate_classifier

SEED = 20261205
SAFETY_FLAGS = ("urgent_safety", "safeguarding")
MAX_DROP = 0.03  # the target: macro-F1 may fall by at most this much under any perturbation

# Plain word -> how it is often texted (the reverse of resources/sms_shorthand.yaml, picked by hand).
TEXT_SPEAK = {
    "you": "u", "your": "ur", "are": "r", "please": "pls", "thanks": "thx", "thank": "thx", "someone": "sum1",
    "anyone": "any1", "today": "2day", "tomorrow": "2moro", "tonight": "2nite", "for": "4", "to": "2",
    "because": "cos", "before": "b4", "great": "gr8", "later": "l8r", "really": "rly", "message": "msg",
    "text": "txt", "people": "ppl", "about": "abt", "with": "wiv", "what": "wot", "know": "no",
    "don't": "dont", "can't": "cant", "i'm": "im", "it's": "its", "that's": "thats", "won't": "wont",
}
SIGNATURE = ("\n\nKind regards\nJ. Smith\nFlat 2, 14 Example Road\nMob: 07700 900123\n\n"
             "Sent from my iPhone")
QUOTED_THREAD = ("\n\nOn Mon, 30 Nov 2026 at 09:12, Customer Services <enquiries@example-housing.org.uk> wrote:\n"
                 "> Dear Resident,\n>\n> Thank you for contacting us. Your reference is ITM-2026-000123.\n"
                 "> We aim to reply within 10 working days. If your enquiry is about a repair, please\n"
                 "> call our repairs line.\n>\n> Kind regards\n> Customer Services")
KEYBOARD_NEIGHBOURS = {
    "a": "qs", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}
WORD = re.compile(r"[A-Za-z']+")


def _typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: a neighbouring key, a dropped, doubled or swapped letter."""
    position = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0 and word[position].lower() in KEYBOARD_NEIGHBOURS:
        return word[:position] + rng.choice(KEYBOARD_NEIGHBOURS[word[position].lower()]) + word[position + 1:]
    if kind == 1:
        return word[:position] + word[position + 1:]
    if kind == 2:
        return word[:position] + word[position] + word[position:]
    return word[:position - 1] + word[position] + word[position - 1] + word[position + 1:]


def with_typos(text: str, rng: random.Random, share: float = 0.1) -> str:
    """About one word in ten (of four letters or more) gets a typo."""
    return WORD.sub(lambda m: _typo(m.group(), rng) if len(m.group()) >= 4 and rng.random() < share
                    else m.group(), text)


def lower_case(text: str, rng: random.Random) -> str:
    return text.lower()


def no_punctuation(text: str, rng: random.Random) -> str:
    """Punctuation gone (apostrophes too: "dont"), line breaks kept (call transcripts need them)."""
    return re.sub(r"[ \t]+", " ", re.sub(r"[^\w\s£]", "", text))


def text_speak(text: str, rng: random.Random) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group()
        short = TEXT_SPEAK.get(word.lower())
        return short if short is not None and rng.random() < 0.8 else word

    return WORD.sub(swap, text)


def with_signature(text: str, rng: random.Random) -> str:
    return text + SIGNATURE


def with_quoted_thread(text: str, rng: random.Random) -> str:
    return text + QUOTED_THREAD


Perturbation = Callable[[str, random.Random], str]
PERTURBATIONS: dict[str, Perturbation] = {
    "typos": with_typos,
    "lower_case": lower_case,
    "no_punctuation": no_punctuation,
    "text_speak": text_speak,
    "signature": with_signature,
    "quoted_thread": with_quoted_thread,
}
# Where a perturbation happens in real life: an email client adds signatures and quoted threads
# (a web form may hold a pasted signature); a text or a call transcript has neither. Items of
# other channels are scored unchanged. `--all-channels` applies every perturbation everywhere.
CHANNELS_OF = {"signature": ("email", "web_form"), "quoted_thread": ("email",)}


def perturbed(
    examples: Sequence[LabelledExample], perturbation: Perturbation, seed: int = SEED,
    channels: Sequence[str] | None = None,
) -> list[LabelledExample]:
    """Each example with its body rewritten (same labels); the subject is left as it was."""
    rng = random.Random(seed)
    return [dataclasses.replace(example, body=perturbation(example.body, rng))
            if channels is None or example.channel in channels else example for example in examples]


def _scores(report: dict[str, Any]) -> dict[str, float]:
    scores = {"type_macro_f1": report["type_macro_f1"], "category_micro_f1": report["category_micro_f1"]}
    for flag in SAFETY_FLAGS:
        scores[f"{flag}_recall"] = report["flag_recall"].get(flag, 1.0)
    return scores


def robustness_report(
    classifier: Classifier, examples: Sequence[LabelledExample], *, all_channels: bool = False
) -> dict[str, Any]:
    """Scores on the examples as written and under each perturbation, with the drops."""
    baseline = _scores(evaluate_classifier(classifier, examples))
    rows: dict[str, Any] = {"original": {**baseline, "macro_f1_drop": 0.0}}
    for name, perturbation in PERTURBATIONS.items():
        channels = None if all_channels else CHANNELS_OF.get(name)
        scores = _scores(evaluate_classifier(classifier, perturbed(examples, perturbation, channels=channels)))
        rows[name] = {**scores, "macro_f1_drop": round(baseline["type_macro_f1"] - scores["type_macro_f1"], 4)}
    worst = max(row["macro_f1_drop"] for row in rows.values())
    return {"n": len(examples), "model_version": classifier.version, "max_allowed_drop": MAX_DROP,
            "all_channels": all_channels,
            "worst_macro_f1_drop": round(worst, 4), "met": worst <= MAX_DROP, "perturbations": rows}


def format_report(report: dict[str, Any]) -> str:
    lines = [f"Robustness of {report['model_version']} on {report['n']} items (drop allowed {MAX_DROP})",
             f"{'perturbation':<16}{'macro-F1':>10}{'drop':>8}{'category':>10}{'urgent rec':>12}{'safeg. rec':>12}"]
    for name, row in report["perturbations"].items():
        lines.append(f"{name:<16}{row['type_macro_f1']:>10.3f}{row['macro_f1_drop']:>8.3f}"
                     f"{row['category_micro_f1']:>10.3f}{row['urgent_safety_recall']:>12.3f}"
                     f"{row['safeguarding_recall']:>12.3f}")
    lines.append(f"worst drop {report['worst_macro_f1_drop']:.3f}: {'met' if report['met'] else 'MISSED'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", help="JSONL file(s) (default: the seed TEST split)")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--version", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the report as JSON here")
    parser.add_argument("--all-channels", action="store_true",
                        help="add signatures and quoted threads to texts and calls too")
    args = parser.parse_args(argv)
    examples = load_examples(args.data) if args.data else split_examples(load_examples(seed_files()))[1]
    report = robustness_report(Classifier.load(args.model_dir, args.version), examples,
                               all_channels=args.all_channels)
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
