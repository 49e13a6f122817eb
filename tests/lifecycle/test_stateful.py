"""Random sequences of arrivals and staff actions (Hypothesis stateful testing) on top of the fixed
quarter: whatever happens in whatever order, the invariants of the simulated quarter hold."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from bench.simulate_quarter import Quarter, QuarterConfig
from channels.message import InboundMessage
from intake import case_links, cases, deadlines
from intake.errors import InvalidTransition
from intake.pipeline import ingest
from intake.runtime import Runtime, use_runtime
from models import Item
from tests.conftest import make_settings

BODIES = (
    "I want to make a formal complaint, nobody has fixed my boiler in three weeks",
    "there is black mould in the bedroom and my son has asthma, please come and inspect the damp",
    "I can smell gas in the kitchen right now",
    "can you tell me when the bins are collected",
    "thank you so much to the caretaker, lovely job on the stairs",
    "please can someone fix my back door it wont lock",
    "any news on this? still waiting",
)
PHONES = ("+447911123001", "+447911123002", "+441632960003")  # the last is a landline
NAMES = ("Pat Jones", "Sam Okafor", None)
START = datetime(2026, 10, 5, 9, tzinfo=UTC)


class CaseLifecycle(RuleBasedStateMachine):
    """One landlord's cases under random arrivals and staff actions; checked after every step."""

    runtime: Runtime
    template: Path
    model: object

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        shutil.copy(self.template, self.folder / "intake.db")
        settings_ = make_settings(self.folder, f"sqlite:///{self.folder / 'intake.db'}")
        self.runtime = Runtime.build(settings_)
        self.runtime.__dict__["classifier"] = self.model
        self.travel = time_machine.travel(START, tick=False)
        self.traveller = self.travel.start()
        self.runtime_context = use_runtime(self.runtime)
        self.runtime_context.__enter__()
        self.quarter = Quarter(self.runtime, QuarterConfig(messages=0))
        self.number = 0

    @initialize()
    def first_message(self) -> None:
        self.arrive(0, 0, 0, 0)

    @rule(body=st.integers(0, len(BODIES) - 1), phone=st.integers(0, len(PHONES) - 1),
          name=st.integers(0, len(NAMES) - 1), days_late=st.sampled_from((0, 0, 0, 3, 20)))
    def arrive(self, body: int, phone: int, name: int, days_late: int) -> None:
        self.number += 1
        now = self.runtime.clock.now()
        ingest(self.runtime, InboundMessage(
            channel="sms" if NAMES[name] is None else "call_transcript",
            external_id=f"state-{self.number}", body=BODIES[body], sender_address=PHONES[phone],
            sender_phone=PHONES[phone], sender_name=NAMES[name],
            received_at=now - timedelta(days=days_late) if days_late else None,
        ))

    @rule(hours=st.sampled_from((1, 8, 26, 24 * 7, 24 * 30)))
    def time_passes(self, hours: int) -> None:
        self.traveller.shift(timedelta(hours=hours))

    @rule(choice=st.integers(0, 50), action=st.sampled_from(
        ("respond", "escalate", "close", "reopen", "extend", "made_safe", "hazard_inspected", "called_back",
         "unlink", "merge")))
    def staff(self, choice: int, action: str) -> None:
        with self.runtime.database.session() as session:
            items = list(session.scalars(select(Item).order_by(Item.id)))
            if not items:
                return
            item = items[choice % len(items)]
            try:
                if action == "respond":
                    cases.record_response(self.runtime, session, item, actor="s", summary="reply")
                elif action == "escalate":
                    cases.escalate(self.runtime, session, item, actor="s")
                elif action == "close":
                    cases.close(self.runtime, session, item, actor="s", outcome="resolved")
                elif action == "reopen":
                    cases.reopen(self.runtime, session, item, actor="s", reason="again")
                elif action == "extend":
                    respond = next(d for d in deadlines.current(item) if d.kind == "respond")
                    cases.extend(self.runtime, session, item, actor="s", until=respond.due_at + timedelta(days=10),
                                 reason="waiting for a survey")
                elif action == "unlink":
                    case_links.unlink(self.runtime, session, item, actor="s", reason="someone else")
                elif action == "merge":
                    other = items[(choice * 7 + 1) % len(items)]
                    case_links.merge(self.runtime, session, item, other, actor="s", reason="same matter")
                else:
                    cases.record_action(self.runtime, session, item, action=action, actor="s")
            except (InvalidTransition, StopIteration):
                session.rollback()

    @invariant()
    def every_date_is_right(self) -> None:
        day = self.runtime.clock.now().date()
        self.quarter.check_day(day)
        assert self.quarter.figures.violations == [], self.quarter.figures.violations

    def teardown(self) -> None:
        self.runtime_context.__exit__(None, None, None)
        self.travel.stop()
        self.runtime.database.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_random_arrivals_and_staff_actions_keep_every_date_right(_sqlite_template, loaded_classifier) -> None:  # type: ignore[no-untyped-def]
    CaseLifecycle.template = _sqlite_template
    CaseLifecycle.model = loaded_classifier
    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(max_examples=8, stateful_step_count=12, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck)),
    )
