"""Processing items in batches: a worker that holds N items classifies them together.

`Classifier.classify_many` amortises the model's per-call work over a batch (≈ 0.8 ms an item in
batches against ≈ 1.8 ms one at a time, docs/benchmarks.md). A worker that claims N `process_item`
jobs calls `classify_ahead` with their items first; each job then runs the unchanged
`pipeline.process_item`, whose call to `runtime.classifier.classify(...)` is answered from what was
classified ahead, or — for any item that changed in between or was never primed — by the model as
before. The result is the same either way; the cache only saves time.

Each item is still written in its own transaction (process_item's): one item that fails rolls back
only itself, and is retried alone.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from intake.runtime import Runtime
from models import Item

if TYPE_CHECKING:
    from classifier import Classifier

log = logging.getLogger(__name__)

MAX_PRIMED = 4096  # results held at most; a batch's leftovers are dropped with the next batch

Key = tuple[str, str, str | None, str | None, str | None]


class PrimedClassifier:
    """The loaded Classifier, answering `classify` from results computed ahead in a batch when it can."""

    def __init__(self, inner: Classifier) -> None:
        self.inner = inner
        self._ready: dict[Key, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def around(cls, classifier: Any) -> Any:
        return classifier if isinstance(classifier, cls) else cls(classifier)

    def prime(self, keys: list[Key]) -> int:
        """Classify these messages together now; later `classify` calls for them are answered at once."""
        todo = list(dict.fromkeys(key for key in keys if key not in self._ready))
        if not todo:
            return 0
        from classifier.encoding import MessageInput

        results = self.inner.classify_many([MessageInput(*key) for key in todo])
        with self._lock:
            if len(self._ready) + len(todo) > MAX_PRIMED:
                self._ready.clear()
            self._ready.update(zip(todo, results, strict=True))
        return len(todo)

    def classify(
        self,
        text: str,
        *,
        channel: str = "email",
        subject: str | None = None,
        sender: str | None = None,
        sender_name: str | None = None,
    ) -> Any:
        with self._lock:
            ready = self._ready.pop((text, channel, subject, sender, sender_name), None)
        if ready is not None:
            return ready
        return self.inner.classify(text, channel=channel, subject=subject, sender=sender, sender_name=sender_name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def classify_ahead(runtime: Runtime, item_ids: list[int]) -> int:
    """Classify the still-unprocessed, readable items among `item_ids` in one `classify_many` call."""
    classifier = runtime.__dict__.get("classifier")
    if not isinstance(classifier, PrimedClassifier):
        return 0
    with runtime.database.session() as session:
        rows = session.execute(
            select(Item.body, Item.channel, Item.subject, Item.sender_address, Item.sender_name).where(
                Item.id.in_(item_ids), Item.status == "received", Item.parse_error.is_(None)
            )
        ).all()
    try:
        return classifier.prime([tuple(row) for row in rows])  # type: ignore[misc]
    except Exception:  # each job classifies its own item as before: nothing is lost but time
        log.exception("classifying a batch ahead failed")
        return 0
