"""The process's shared parts — settings, database, job queue, clock, classifier, policy — built once.

API processes and workers each build one from the environment; tests build their own and install it
with `use_runtime`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from intake.clock import Clock, SystemClock, install_clock
from intake.db import Database
from intake.queueing import DatabaseQueue, InProcessJobQueue, JobQueue, RqJobQueue
from intake.settings import Settings, get_settings

if TYPE_CHECKING:
    from channels.base import AcknowledgementSender
    from classifier import Classifier
    from triage_rules.policies import PolicyProfile
    from triage_rules.working_days import WorkingCalendar


@dataclass
class Runtime:
    settings: Settings
    database: Database
    jobs: JobQueue
    clock: Clock = field(default_factory=SystemClock)  # the one "now" domain code reads
    _senders: dict[str, AcknowledgementSender] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # The tables' default timestamps and session-only code read this runtime's clock, whichever
        # clock it holds at the moment (tests may swap it).
        install_clock(self.database.engine, self.now)

    def now(self) -> datetime:
        return self.clock.now()

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        database = Database(settings)
        jobs: JobQueue
        if settings.job_mode == "rq":
            if not settings.redis_url:
                from intake.errors import ConfigurationError

                raise ConfigurationError("INTAKE_JOBS=rq needs INTAKE_REDIS_URL")
            jobs = RqJobQueue(settings.redis_url, settings.queue_name)
        elif settings.job_mode == "database":
            jobs = DatabaseQueue(database)
        else:
            jobs = InProcessJobQueue()
        runtime = cls(settings=settings, database=database, jobs=jobs)
        # The queue's times are domain time: whatever clock this runtime has, even one set later.
        if isinstance(jobs, DatabaseQueue):
            jobs.table.now = lambda: runtime.clock.now()
        elif isinstance(jobs, RqJobQueue):
            jobs.now = lambda: runtime.clock.now()
        return runtime

    @cached_property
    def classifier(self) -> Classifier:
        from classifier import Classifier

        return Classifier.load(self.settings.model_dir)

    def reload_classifier(self) -> None:
        self.__dict__.pop("classifier", None)

    @cached_property
    def policy(self) -> PolicyProfile:
        from triage_rules.policies import load_policy, with_landlord_details

        landlord = self.settings.landlord
        return with_landlord_details(
            load_policy(self.settings.policy),
            landlord_name=landlord.name,
            phone=landlord.phone,
            emergency_repairs_phone=landlord.emergency_repairs_phone,
            email=landlord.email,
            website=landlord.website,
            address=landlord.address,
        )

    @cached_property
    def calendar(self) -> WorkingCalendar:
        from triage_rules.working_days import WorkingCalendar

        return WorkingCalendar(self.settings.nation)

    def sender(self, channel: str) -> AcknowledgementSender:
        from channels.registry import resolve_sender

        with self._lock:
            if channel not in self._senders:
                self._senders[channel] = resolve_sender(channel, self.settings)
            return self._senders[channel]


_current: Runtime | None = None
_current_lock = threading.Lock()


def get_runtime() -> Runtime:
    global _current
    with _current_lock:
        if _current is None:
            _current = Runtime.build(get_settings())
        return _current


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    with _current_lock:
        _current = runtime


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    previous = _current
    set_runtime(runtime)
    try:
        yield runtime
    finally:
        set_runtime(previous)
