"""CPU per classified item, first pass and best warm pass: a steadier A/B than the full bench on a busy machine.

    PYTHONPATH=<tree> .venv/bin/python bench/classifier_passes.py [--model-dir var/models] [--warm-passes 4]

Loads the model, freezes the heap as `intake worker` does, warms up on 50 messages, then classifies the
3,682 seed messages in batches of 256: prints the CPU ms per item of the first pass (per-word memos, spaCy's
vocabulary and tokenizer cache being filled) and of the best of the warm passes. Run it for main's tree and
a branch's alternately, several times, and compare the smallest figures.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from classifier.classifier import Classifier
from classifier.data import load_examples, seed_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--warm-passes", type=int, default=4)
    arguments = parser.parse_args()
    examples = load_examples(seed_files())
    classifier = Classifier.load(arguments.model_dir)
    gc.collect()
    gc.freeze()
    classifier.classify_many(examples[:50])

    def one_pass() -> float:
        started = time.process_time()
        for start in range(0, len(examples), 256):
            classifier.classify_many(examples[start:start + 256])
        return (time.process_time() - started) * 1000 / len(examples)

    first = one_pass()
    warm = min(one_pass() for _ in range(arguments.warm_passes))
    print(f"first_pass_cpu_ms_per_item {first:.4f}\nwarm_pass_cpu_ms_per_item  {warm:.4f}")


if __name__ == "__main__":
    main()
