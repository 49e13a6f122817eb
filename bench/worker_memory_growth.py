"""How a worker process's memory grows with traffic it has never seen: the classifier over seed
messages, each made unique the way residents' messages are (a reference, a phone number, an email
address, a flat, a typo), in batches of 256, printing the resident size and spaCy's store sizes.

    PYTHONPATH=$PWD .venv/bin/python bench/worker_memory_growth.py --messages 30720 [--model-dir var/models]

spaCy keeps every string and word it has read (its StringStore and Vocab only grow), and the
classifier's own memos grow up to their bounds: why `intake worker` replaces a process that has
passed INTAKE_WORKER_MAX_RESIDENT_MB (intake/workers.py). Not a test.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from classifier.classifier import Classifier  # noqa: E402
from classifier.data import LabelledExample, load_examples, seed_files  # noqa: E402
from classifier.encoding import MessageInput  # noqa: E402
from intake.process_memory import resident_mb  # noqa: E402
from intake.workers import settle_garbage_collector  # noqa: E402
from triage_rules.nlp import get_nlp  # noqa: E402

BATCH = 256


def made_unique(example: LabelledExample, rng: random.Random) -> MessageInput:
    """The message with what makes real ones unique appended (fixed seed: the same run every time)."""
    extra = (
        f" Ref HX{rng.randrange(10**7):07d}, call me on 07{rng.randrange(10**9):09d} or"
        f" j.{rng.randrange(10**6)}@example.org. Flat {rng.randrange(300)}{chr(65 + rng.randrange(26))},"
        f" block{rng.randrange(10**5)}. Thnks{rng.randrange(10**4)}"
    )
    return MessageInput(example.body + extra, example.channel, example.subject, example.sender, example.sender_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30_720)
    parser.add_argument("--model-dir", type=Path, default=REPO / "var" / "models")
    parser.add_argument("--every", type=int, default=20, help="print after this many batches")
    arguments = parser.parse_args()
    examples = load_examples(seed_files())
    classifier = Classifier.load(arguments.model_dir)
    gc.collect()
    settle_garbage_collector()  # as the supervisor does before it forks
    nlp = get_nlp()
    rng = random.Random(1)
    print(f"{'messages':>9} {'resident MB':>12} {'spaCy strings':>14} {'lexemes':>8}")
    print(f"{0:>9} {resident_mb():>12.0f} {len(nlp.vocab.strings):>14} {len(nlp.vocab):>8}")
    done = 0
    while done < arguments.messages:
        batch = [made_unique(examples[(done + k) % len(examples)], rng) for k in range(BATCH)]
        classifier.classify_many(batch)
        done += BATCH
        if done % (BATCH * arguments.every) == 0 or done >= arguments.messages:
            print(f"{done:>9} {resident_mb():>12.0f} {len(nlp.vocab.strings):>14} {len(nlp.vocab):>8}", flush=True)


if __name__ == "__main__":
    main()
