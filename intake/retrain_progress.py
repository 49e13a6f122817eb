"""How far a running retraining has got, for the Model versions page.

The retraining (`intake.learning_loop.retrain`, in an rq worker or a thread of the web process)
writes its stage to a small JSON file beside the model versions: every process that can load the
models can read it, and a progress tick costs no database write (the audit log records only that a
retraining was asked for and the decision at its end). The file is replaced atomically, so a reader
never sees half of it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from intake.clock import Clock

log = logging.getLogger(__name__)

PROGRESS_FILE = ".retrain-progress.json"  # a dot name: the registry never takes it for a version

# The classifier's own stage names (classifier/training.py) and ours, as a manager reads them.
STAGE_WORDS = {
    "collecting corrections": "Collecting staff corrections",
    "preparing text": "Preparing the text of each message",
    "cross-validating": "Cross-checking on the training data",
    "training": "Training",
    "choosing thresholds": "Choosing confidence thresholds",
    "evaluating held-out data": "Testing on held-out examples",
    "saving": "Saving the new version",
    "comparing": "Comparing with the version in use",
    "finished": "Finished",
    "failed": "Failed",
}


@dataclass(frozen=True)
class RetrainProgress:
    stage: str
    done: int
    total: int
    started_at: datetime
    updated_at: datetime

    @property
    def words(self) -> str:
        return STAGE_WORDS.get(self.stage, self.stage.capitalize())

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total > 1 else None


class ProgressWriter:
    """A `classifier.training.Progress` callback that keeps the progress file current."""

    def __init__(self, model_dir: Path, clock: Clock) -> None:
        self.path = Path(model_dir) / PROGRESS_FILE
        self.clock = clock
        self.started_at = clock.now()

    def __call__(self, stage: str, done: int, total: int) -> None:
        record: dict[str, Any] = {
            "stage": stage,
            "done": done,
            "total": total,
            "started_at": self.started_at.isoformat(),
            "updated_at": self.clock.now().isoformat(),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{PROGRESS_FILE}.{os.getpid()}")
            partial.write_text(json.dumps(record), encoding="utf-8")
            partial.replace(self.path)
        except OSError as error:  # progress is a courtesy: never fail a retraining over it
            log.warning("could not write retraining progress: %s", type(error).__name__)


def read_progress(model_dir: Path) -> RetrainProgress | None:
    """The last progress written, or None when no retraining has reported any (or the file is unreadable)."""
    try:
        record = json.loads((Path(model_dir) / PROGRESS_FILE).read_text(encoding="utf-8"))
        return RetrainProgress(
            stage=str(record["stage"]),
            done=int(record["done"]),
            total=int(record["total"]),
            started_at=datetime.fromisoformat(record["started_at"]),
            updated_at=datetime.fromisoformat(record["updated_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
