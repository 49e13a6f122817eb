"""Where a worker's CPU goes, step by step: `profile_worker.py`'s run with each step's thread CPU added up.

    BENCH_DB_PREFIX=worker_bench PYTHONPATH=$PWD .venv/bin/python bench/worker_steps.py \
        --items 1280 --channel sms --redis-url redis://127.0.0.1:6379/4

Takes `profile_worker.py`'s arguments and runs it unchanged, with the worker's steps (classifying,
processing a batch, planning and recording acknowledgements, the ORM's flushes by caller, ...)
wrapped to add up `time.thread_time` — CPU, not waiting — and how often each ran. Steps nest: each
figure includes the steps it calls. The sending threads' share is the process's CPU less the main
thread's (both printed). cProfile charges Python calls several times their cost and py-spy counts
threads waiting on a socket as busy; this counts what the steps themselves used, at the price of
naming them here. Compare A/B trees in the same minutes: run from each tree's directory.
"""

from __future__ import annotations

import atexit
import functools
import runpy
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TREE = Path.cwd()  # the tree under test: its `intake` and its bench/profile_worker.py
sys.path[:0] = [str(TREE), str(TREE / "bench")]

from sqlalchemy.orm import Session  # noqa: E402

import classifier.classifier as classifier_module  # noqa: E402
from intake import acknowledgements, audit, batches, cases, deadlines, pipeline  # noqa: E402

cpu_seconds: Counter[str] = Counter()
calls: Counter[str] = Counter()


@contextmanager
def counted(label: str) -> Iterator[None]:
    """Adds the block's thread CPU and one call to `label`."""
    started = time.thread_time()
    try:
        yield
    finally:
        cpu_seconds[label] += time.thread_time() - started
        calls[label] += 1


def tally(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def measured(*args: Any, **kwargs: Any) -> Any:
        with counted(label):
            return function(*args, **kwargs)

    return measured


def wrap(owner: Any, name: str, label: str) -> None:
    setattr(owner, name, tally(label, getattr(owner, name)))


STEPS = [
    (pipeline, "_free_to_take", "pipeline._free_to_take (taking along)"),
    (pipeline, "_process_locked", "pipeline._process_locked (a batch: its transaction)"),
    (classifier_module.Classifier, "classify_many", "  Classifier.classify_many"),
    (pipeline, "_triage", "  pipeline._triage (each item: store the labels, link, route, dates)"),
    (pipeline, "_set_deadlines", "    pipeline._set_deadlines"),
    (cases, "link_to_case", "    cases.link_to_case"),
    (pipeline, "_finish", "  pipeline._finish (flush, plan acknowledgements, audit)"),
    (pipeline, "plan_acknowledgements", "    acknowledgements.plan_acknowledgements"),
    (acknowledgements, "_route", "      acknowledgements._route"),
    (acknowledgements, "_render", "      acknowledgements._render"),
    (acknowledgements._RecipientStates, "load", "      _RecipientStates.load"),
    (pipeline, "ready_to_send", "  acknowledgements.ready_to_send"),
    (acknowledgements, "send_planned", "acknowledgements.send_planned (sending, main thread)"),
    (acknowledgements, "_take_for_sending", "  acknowledgements._take_for_sending"),
    (acknowledgements, "_call_providers", "  acknowledgements._call_providers (main thread's part)"),
    (acknowledgements, "_record_sent", "  acknowledgements._record_sent"),
    (deadlines, "recompute", "deadlines.recompute (wherever called)"),
    (deadlines, "mark_met", "deadlines.mark_met"),
    (audit, "record", "audit.record (wherever called, its flush for a note included)"),
    (batches, "gather", "batches.gather"),
    (batches, "drop_jobs", "batches.drop_jobs"),
]


def tally_flushes() -> None:
    """Session.flush by the function that asked for it (an autoflush: by our caller of the query)."""
    flush = Session.flush

    def measured(self: Session, objects: Any = None) -> None:
        frame = sys._getframe(1)
        asked_by = frame.f_code.co_name
        if asked_by == "_autoflush":  # name the query's caller in our code instead
            while frame is not None and not frame.f_code.co_filename.startswith(str(TREE / "intake")):
                frame = frame.f_back  # type: ignore[assignment]
            asked_by = f"autoflush before a query in {frame.f_code.co_name}" if frame is not None else "autoflush"
        with counted(f"Session.flush from {asked_by}"):
            flush(self, objects)

    Session.flush = measured  # type: ignore[method-assign]


# The whole: what every step's share is of (`report`).
EVERY_THREAD = "the worker's loop, every thread (the sending threads too)"


def tally_worker_loop() -> None:
    from rq.worker.base import BaseWorker

    work = BaseWorker.work

    def measured(self: BaseWorker, *args: Any, **kwargs: Any) -> Any:
        thread, process = time.thread_time(), time.process_time()
        try:
            return work(self, *args, **kwargs)
        finally:
            cpu_seconds["the worker's loop, main thread"] += time.thread_time() - thread
            cpu_seconds[EVERY_THREAD] += time.process_time() - process

    BaseWorker.work = measured  # type: ignore[method-assign]


def report() -> None:
    total = cpu_seconds.get(EVERY_THREAD, 0.0)
    print("\nCPU by step (ms; inclusive; share of the worker's loop, every thread)")
    for label, seconds in sorted(cpu_seconds.items(), key=lambda pair: -pair[1]):
        share = f"{100 * seconds / total:5.1f} %" if total else ""
        print(f"  {1000 * seconds:9.1f}  {share}  {calls[label] or '':>6}  {label}")


def main() -> None:
    for owner, name, label in STEPS:
        wrap(owner, name, label)
    tally_flushes()
    tally_worker_loop()
    atexit.register(report)
    sys.argv = [str(TREE / "bench" / "profile_worker.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
