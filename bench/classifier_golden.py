"""Golden records of the classifier's output: write them from one tree, compare another tree's with them.

    PYTHONPATH=<tree> .venv/bin/python bench/classifier_golden.py write OUT.jsonl [--model-dir var/models]
    PYTHONPATH=<tree> .venv/bin/python bench/classifier_golden.py check OUT.jsonl [--model-dir var/models]

A speed change must not change a single output: every seed message and every fresh message is
classified in batches of 256, again in batches of 7, a sample one at a time, and a few awkward
inputs (empty, garbage, bytes, markup, a very long email); each full `Classification.to_dict()` is
recorded, floats to 1e-9. `check` prints the differences and exits 1 when there are any.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from classifier.classifier import Classifier
from classifier.data import LabelledExample, load_examples, seed_files
from classifier.encoding import MessageInput

FRESH = Path(__file__).resolve().parent.parent / "data" / "fresh" / "check.jsonl"


def _awkward() -> list[MessageInput]:
    long_body = " ".join(["The boiler has broken again and there is water coming through the ceiling."] * 120)
    return [
        MessageInput("", "sms"),
        MessageInput("   \n\t ", "email", subject="Re: nothing"),
        MessageInput("\x00\x01\x02 ���� ####", "sms"),
        MessageInput("<p>The <b>kitchen</b> tap is leaking</p><br>Thanks", "email", subject="Tap"),
        MessageInput(long_body, "email", subject="Leak", sender="someone@example.org", sender_name="A Resident"),
        MessageInput("Mae'r boeler wedi torri ac mae'n oer iawn yn y tŷ", "sms"),
        MessageInput("mould in bedroom, kids coughing. cant get thru on phone!!!", "sms", sender="+447911123456"),
        MessageInput("Caller: hi\nAgent: how can I help\nCaller: my door won't lock and someone tried to get in",
                     "call_transcript"),
    ]


def _as_input(example: LabelledExample) -> MessageInput:
    return MessageInput(example.body, example.channel, example.subject, example.sender, example.sender_name)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def records(model_dir: Path | None) -> Iterator[dict[str, Any]]:
    classifier = Classifier.load(model_dir)
    seed = [_as_input(example) for example in load_examples(seed_files())]
    fresh = [_as_input(example) for example in load_examples([FRESH])]
    awkward = _awkward()
    runs: list[tuple[str, list[MessageInput], int]] = [
        ("seed/256", seed, 256),
        ("fresh/256", fresh, 256),
        ("awkward/256", awkward, 256),
        ("seed/7", seed, 7),
        ("seed/1", seed[::9], 1),
        ("fresh/1", fresh, 1),
        ("awkward/1", awkward, 1),
    ]
    for name, messages, batch in runs:
        for start in range(0, len(messages), batch):
            results = classifier.classify_many(messages[start:start + batch])
            for offset, result in enumerate(results):
                record = _rounded(result.to_dict())
                record["_types"] = {key: type(value).__name__ for key, value in result.__dict__.items()}
                yield {"run": name, "index": start + offset, "result": record}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--model-dir", type=Path, default=Path("var/models"))
    arguments = parser.parse_args()
    produced = [json.dumps(record, sort_keys=True, ensure_ascii=False) for record in records(arguments.model_dir)]
    if arguments.action == "write":
        arguments.path.write_text("\n".join(produced) + "\n", encoding="utf-8")
        print(f"{len(produced)} records written to {arguments.path}")
        return
    expected = arguments.path.read_text(encoding="utf-8").splitlines()
    differences = [(number, want, got) for number, (want, got) in enumerate(zip(expected, produced, strict=False))
                   if want != got]
    if len(expected) != len(produced):
        print(f"record count differs: expected {len(expected)}, got {len(produced)}")
    for number, want, got in differences[:5]:
        print(f"record {number}:\n  expected {want[:2000]}\n  got      {got[:2000]}")
    print(f"{len(produced)} records, {len(differences)} differences")
    sys.exit(1 if differences or len(expected) != len(produced) else 0)


if __name__ == "__main__":
    main()
