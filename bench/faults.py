"""The fault campaign: all four channels under traffic while faults land at random, then the promises
are checked — every message stored once, processed, acknowledged at most once (or marked `unknown`
for a person), and the audit log complete.

Everything runs privately, on free ports, in a temp dir: a PostgreSQL cluster of its own (initdb +
pg_ctl; never the shared server), a redis-server of its own, Dovecot, an SMTP sink and the Twilio
stand-in from tests/channels, the API (`intake serve`) and three rq workers (`intake worker`: one
polls the mailbox, one sweeps, one only works). A supervisor restarts any of our processes that
dies after a second, as systemd's Restart=always would.

    .venv/bin/python bench/faults.py --faults 200 --round 10      # the long campaign
    .venv/bin/python bench/faults.py --faults 13 --round 13 --no-probe   # the short one in `make test`

It prints one JSON report (per kind of fault: how many, recovery time; per round: lost, duplicated,
sent twice, unprocessed, unknown) and exits 1 when a promise was broken.
"""

from __future__ import annotations

import argparse
import contextlib
import email.message
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aiosmtpd.controller import Controller  # noqa: E402
from fault_rig import (  # noqa: E402
    Dovecot,
    FaultySmtpHandler,
    PrivatePostgres,
    PrivateRedis,
    Supervisor,
    descendants,
    log,
    pids_connected_to,
    wait_until,
)
from sqlalchemy import create_engine, text  # noqa: E402

from tests.channels.mail_servers import find_dovecot, free_port  # noqa: E402
from tests.channels.twilio_standin import TwilioStandIn  # noqa: E402
from tests.channels.twilio_support import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    LANDLORD_NUMBER,
    PUBLIC_BASE_URL,
    sign,
    sms_form,
    transcription_form,
)

FOLDER = "Intake"
TWILIO_TIMEOUT = 3.0
STUCK_AFTER = 5  # seconds before the sweep re-queues an item, or marks a `sending` acknowledgement unknown
PROBE_CEILING = 600  # seconds: a probe not processed by then is reported as not recovered
NO_FAULT = "no fault (traffic before the first fault of a round)"
SETTLED_ACKS = {"sent", "delivered", "unknown", "suppressed", "needs_callback", "failed", "bounced"}
TEXTS = [
    "The kitchen tap at my flat has been dripping for a week, can someone come and fix it?",
    "This is the third time I have reported the mould in my son's bedroom and nobody has come.",
    "How do I apply for a parking permit for my new car?",
    "There is a strong smell of gas on the landing outside my flat",
    "Thank you to the caretaker for clearing the bins so quickly, much appreciated",
    "The communal front door does not lock any more, anyone can walk in",
]


# --- traffic -------------------------------------------------------------------------------------


@dataclass
class Sent:
    marker: str
    channel: str
    recipient: str  # where its acknowledgement would go (unique per message)
    # The last fault that landed before it was sent: what it is counted against, per kind of fault.
    after_fault: str


class Traffic:
    """Messages on all four channels, each carrying a unique marker; every one is retried until taken."""

    def __init__(self, api: str, token: str, dovecot: Dovecot) -> None:
        self.api = api
        self.token = token
        self.dovecot = dovecot
        self.sent: list[Sent] = []
        self.refused_attempts = 0
        self.fault_window = NO_FAULT
        self._stop = threading.Event()
        self._numbers = iter(range(1, 10**6))
        self.thread: threading.Thread | None = None

    def start(self, interval: float) -> None:
        self._stop.clear()
        self.thread = threading.Thread(target=self._loop, args=(interval,), daemon=True, name="traffic")
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout=600)

    def _loop(self, interval: float) -> None:
        channels = ["email", "sms", "web_form", "call_transcript"]
        while not self._stop.wait(interval):
            self.send(channels[len(self.sent) % 4])

    def send(self, channel: str) -> Sent:
        number = next(self._numbers)
        window = self.fault_window  # read before delivery: a fault may land while it is retried
        marker = f"fx{uuid.uuid4().hex[:10]}"
        body = f"{random.choice(TEXTS)} (ref {marker})"
        mobile = f"+447400{number:06d}"  # a UK mobile (phonenumbers: MOBILE), unique per message
        address = f"resident-{marker}@example.org"
        # Built once: a retried delivery is the same delivery (same SIDs), as Twilio's retries are.
        sms = sms_form(body, sender=mobile)
        call = transcription_form(f"Caller: {body}", caller=mobile)
        deliver = {
            "email": lambda: self._email(marker, body, address),
            "sms": lambda: self._twilio("/webhooks/twilio/sms", sms),
            "call_transcript": lambda: self._twilio("/webhooks/twilio/transcription", call),
            "web_form": lambda: self._api_item(marker, body, address),
        }[channel]
        self._until_taken(deliver)
        sent = Sent(marker, channel, address if channel in ("email", "web_form") else mobile, window)
        self.sent.append(sent)
        return sent

    def _until_taken(self, deliver: Callable[[], bool]) -> None:
        # An upstream retries a delivery that was not answered 2xx (Twilio, a form's resubmission).
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if deliver():
                    return
            except Exception:
                pass
            self.refused_attempts += 1
            time.sleep(0.5)
        raise TimeoutError("a message could not be delivered for 10 minutes")

    def _email(self, marker: str, body: str, address: str) -> bool:
        message = email.message.EmailMessage()
        message["From"] = address
        message["To"] = "complaints@landlord.example"
        message["Subject"] = f"Repair {marker}"
        message["Message-ID"] = f"<{marker}@example.org>"
        message.set_content(body)
        with self.dovecot.session() as client:
            # Appending twice (a retry after an unanswered APPEND) is harmless: Message-ID dedupes.
            client.append(FOLDER, message.as_bytes())
        return True

    def _twilio(self, path: str, form: dict[str, str]) -> bool:
        response = httpx.post(self.api + path, data=form, headers={"X-Twilio-Signature": sign(path, form)},
                              timeout=30)
        return response.status_code < 300

    def _api_item(self, marker: str, body: str, address: str) -> bool:
        response = httpx.post(
            self.api + "/api/v1/items",
            json={"channel": "web_form", "external_id": marker, "body": body, "sender_email": address,
                  "sender_name": "Pat Resident", "subject": "Contact form"},
            headers={"Authorization": f"Bearer {self.token}"}, timeout=30,
        )
        return response.status_code < 300


# --- the campaign --------------------------------------------------------------------------------


class Campaign:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.random = random.Random(seed)
        self.postgres = PrivatePostgres(root)
        self.redis = PrivateRedis(root)
        binary = find_dovecot()
        if binary is None:
            raise SystemExit("Dovecot is missing: `make system-deps` installs it")
        self.dovecot = Dovecot(binary)
        self.smtp_handler = FaultySmtpHandler()
        self.smtp_port = free_port()
        self.smtp = Controller(self.smtp_handler, hostname="127.0.0.1", port=self.smtp_port)
        self.twilio = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN)
        self.api_port = free_port()
        self.faults: list[dict[str, Any]] = []
        self.rounds: list[dict[str, Any]] = []
        self.outcomes: dict[str, dict[str, bool]] = {}  # per marker, from the latest check
        self.progress: Path | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Campaign]:
        logs = self.root / "logs"
        logs.mkdir()
        try:
            self.postgres.init()
            self.redis.start()
            self.dovecot.start()
            with self.dovecot.session() as client:
                client.create_folder(FOLDER)
            self.smtp.start()
            self.twilio.start()
            env = self._env()
            subprocess.run([sys.executable, "-m", "intake", "db", "upgrade"], env=env, check=True, cwd=REPO,
                           stdout=subprocess.DEVNULL)
            self.token = self._api_token()
            self.supervisor = Supervisor(env, logs)
            self.supervisor.add("api", "serve", "--host", "127.0.0.1", "--port", str(self.api_port))
            self.supervisor.add("poller", "worker", "--sweep-every", "0", "--poll-email")
            self.supervisor.add("sweeper", "worker", "--sweep-every", "3")
            self.supervisor.add("worker", "worker", "--sweep-every", "0")
            self.supervisor.run()
            self.traffic = Traffic(f"http://127.0.0.1:{self.api_port}", self.token, self.dovecot)
            wait_until(lambda: httpx.get(f"{self.traffic.api}/healthz", timeout=5).status_code == 200,
                       "the API answers", 300)
            yield self
        finally:
            with contextlib.suppress(Exception):
                self.traffic.stop()
            with contextlib.suppress(Exception):
                self.supervisor.stop()
            for stop in (self.twilio.stop, self.smtp.stop, self.dovecot.stop, self.redis.kill, self.postgres.stop):
                with contextlib.suppress(Exception):
                    stop()

    def _env(self) -> dict[str, str]:
        from tests.conftest import _cached_model

        models = self.root / "models"
        shutil.copytree(_cached_model(), models)
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")},
            "INTAKE_ENVIRONMENT": "test",
            "INTAKE_DATABASE_URL": self.postgres.url(),
            "INTAKE_REDIS_URL": self.redis.url,
            "INTAKE_QUEUE_NAME": "intake",
            "INTAKE_MODEL_DIR": str(models),
            "INTAKE_OUTBOX_DIR": str(self.root / "outbox"),
            "INTAKE_RAW_STORE_DIR": str(self.root / "raw"),
            "INTAKE_STUCK_AFTER_SECONDS": str(STUCK_AFTER),
            "INTAKE_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "INTAKE_LANDLORD_ADDRESSES": '["landlord.example"]',
            "INTAKE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "INTAKE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "INTAKE_TWILIO_FROM_NUMBER": LANDLORD_NUMBER,
            "INTAKE_TWILIO_API_BASE_URL": self.twilio.url,
            "INTAKE_TWILIO_TIMEOUT_SECONDS": str(TWILIO_TIMEOUT),
            "INTAKE_SMTP_HOST": "127.0.0.1",
            "INTAKE_SMTP_PORT": str(self.smtp_port),
            "INTAKE_SMTP_STARTTLS": "false",
            "INTAKE_SMTP_FROM_ADDRESS": "Riverside Homes <contact@landlord.example>",
            "INTAKE_SMTP_TIMEOUT_SECONDS": "5",
            "INTAKE_IMAP_HOST": "127.0.0.1",
            "INTAKE_IMAP_PORT": str(self.dovecot.port),
            "INTAKE_IMAP_USER": self.dovecot.user,
            "INTAKE_IMAP_PASSWORD": self.dovecot.password,
            "INTAKE_IMAP_FOLDER": FOLDER,
            "INTAKE_IMAP_SSL": "false",
            "INTAKE_IMAP_POLL_INTERVAL_SECONDS": "1",
        }

    def _api_token(self) -> str:
        from sqlalchemy.orm import Session

        from intake.clock import SYSTEM_CLOCK, install_clock
        from intake.tokens import create_token

        engine = create_engine(self.postgres.url())
        install_clock(engine, SYSTEM_CLOCK.now)  # the token's audit entry is stamped by the engine's clock
        with Session(engine) as session:
            token = create_token(session, "faults")
            session.commit()
        engine.dispose()
        return token

    # --- faults ----------------------------------------------------------------------------------

    def fault_kinds(self) -> dict[str, Callable[[], str | None]]:
        return {
            "kill the API process": lambda: self._kill("api"),
            "kill a work horse": self._kill_horse,
            "kill a worker": lambda: self._kill("worker"),
            "kill the email poller": lambda: self._kill("poller"),
            "kill the sweeper": lambda: self._kill("sweeper"),
            "stop and restart PostgreSQL": self._restart_postgres,
            "restart Redis empty": self._restart_redis,
            "SMTP answers errors": lambda: self._set(self.smtp_handler, "refusals", 2),
            "SMTP drops the connection after accepting": lambda: self._set(self.smtp_handler, "drops", 1),
            "Twilio answers errors": lambda: self.twilio.fail_next(2, status=503),
            "Twilio times out (after accepting)": lambda: self.twilio.stall_next(1, seconds=TWILIO_TIMEOUT + 2),
            "restart Dovecot mid-fetch": self.dovecot.restart,
            "change the mailbox's UIDVALIDITY": self._change_uidvalidity,
        }

    def _set(self, target: object, name: str, value: int) -> None:
        setattr(target, name, value)

    def _kill(self, name: str) -> None:
        self.supervisor.kill(name)

    def _kill_horse(self) -> str | None:
        workers = [self.supervisor.processes[n].pid for n in ("worker", "sweeper", "poller")]

        def horses() -> list[int]:
            children = [pid for worker in workers for pid in descendants(worker)]
            return pids_connected_to(self.postgres.port, children)

        try:
            wait_until(horses, "a work horse is running a job", 10)
        except TimeoutError:
            return "skipped: no job was running"
        found = horses()
        if not found:
            return "skipped: no job was running"
        os.kill(self.random.choice(found), signal.SIGKILL)
        return None

    def _restart_postgres(self) -> None:
        self.postgres.stop("immediate")
        time.sleep(self.random.uniform(0.5, 3.0))
        self.postgres.start()

    def _restart_redis(self) -> None:
        self.redis.kill()
        time.sleep(self.random.uniform(0.2, 1.5))
        self.redis.start()

    def _change_uidvalidity(self) -> None:
        # What a restored backup or a server migration does: the same mail under a new UIDVALIDITY.
        with self.dovecot.session() as client:
            current = int(client.select_folder(FOLDER, readonly=True)[b"UIDVALIDITY"])
        subprocess.run(
            ["doveadm", "-c", str(self.dovecot.root / "dovecot.conf"), "mailbox", "update", "-u", self.dovecot.user,
             "--uid-validity", str(current + self.random.randint(1, 10**6)), FOLDER],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def probe(self) -> float | None:
        """Seconds until a fresh message, sent now, is processed: the system is whole again.

        None when it was not processed within PROBE_CEILING: reported as a finding, and the campaign
        goes on (the round's check then says whether that message was lost or only late).
        """
        started = time.monotonic()
        sent = self.traffic.send(self.random.choice(["sms", "web_form"]))
        try:
            wait_until(lambda: self._processed(sent.marker), "the probe is processed", PROBE_CEILING)
        except TimeoutError:
            log(f"a probe ({sent.marker}) was not processed within {PROBE_CEILING} s")
            return None
        return time.monotonic() - started

    def _processed(self, marker: str) -> bool:
        engine = create_engine(self.postgres.url(), pool_pre_ping=True)
        try:
            with engine.connect() as connection:
                return bool(connection.execute(
                    text("SELECT count(*) FROM items WHERE status = 'processed' AND body LIKE :m"),
                    {"m": f"%{marker}%"}).scalar())
        finally:
            engine.dispose()

    def run(self, faults: int, per_round: int, interval: float, *, probe: bool = True,
            budget_seconds: float | None = None, only: list[str] | None = None) -> None:
        deadline = time.monotonic() + budget_seconds if budget_seconds else None
        kinds = self.fault_kinds()
        if only:  # one kind of fault alone, e.g. to time its recovery before and after a fix
            unknown = sorted(set(only) - set(kinds))
            if unknown:
                raise SystemExit(f"no such kind of fault: {unknown}; the kinds are {sorted(kinds)}")
            kinds = {kind: fault for kind, fault in kinds.items() if kind in only}
        if probe:  # how long a message takes end to end with no fault: recovery times compare with it
            self.baseline = [None if t is None else round(t, 2) for t in (self.probe() for _ in range(3))]
        order: list[str] = []  # every kind once, in a random order, then again: each kind lands evenly
        for _ in range(faults // len(kinds) + 2):
            cycle = list(kinds)
            self.random.shuffle(cycle)
            order = cycle + order
        landed = 0
        round_number = 0
        while landed < faults:
            round_number += 1
            self.traffic.fault_window = NO_FAULT
            self.traffic.start(interval)
            round_faults = 0
            while round_faults < per_round and landed < faults:
                if deadline is not None and time.monotonic() > deadline:
                    faults = landed  # out of time: finish this round, check it, report what landed
                    break
                time.sleep(self.random.uniform(0.5, 2.5))
                kind = order.pop()
                started = time.monotonic()
                outcome = kinds[kind]()
                if outcome:  # e.g. no horse to kill right now
                    self.faults.append({"kind": kind, "round": round_number, "outcome": outcome})
                    continue
                landed += 1
                round_faults += 1
                self.traffic.fault_window = kind
                if not probe:  # the short campaign: faults back to back, promises checked at the end
                    self.faults.append({"kind": kind, "round": round_number})
                    log(f"fault {landed}/{faults}: {kind}")
                    continue
                recovery = self.probe()
                self.faults.append({"kind": kind, "round": round_number,
                                    "recovery_seconds": None if recovery is None else round(recovery, 2),
                                    "fault_to_recovered": round(time.monotonic() - started, 2)})
                log(f"fault {landed}/{faults}: {kind} — "
                    + ("not recovered" if recovery is None else f"recovered in {recovery:.1f} s"))
            self.traffic.stop()
            self.rounds.append(self.check(round_number))
            log(f"round {round_number}: {json.dumps(self.rounds[-1])}")
            if self.progress is not None:  # a run cut short still leaves the figures of its checked rounds
                self.progress.write_text(json.dumps(self.report(), indent=2) + "\n")

    # --- the promises ----------------------------------------------------------------------------

    def check(self, round_number: int) -> dict[str, Any]:
        """Wait (with a ceiling) for everything sent to settle, then count what broke a promise."""
        self.smtp_handler.refusals = self.smtp_handler.drops = 0
        sent = list(self.traffic.sent)
        engine = create_engine(self.postgres.url(), pool_pre_ping=True)

        def rows() -> dict[str, Any]:
            with engine.connect() as connection:
                items = connection.execute(text("SELECT id, body, status FROM items")).all()
                acks = connection.execute(text("SELECT item_id, purpose, status FROM acknowledgements")).all()
                audit = connection.execute(text("SELECT item_id, action FROM audit_log")).all()
            return {"items": items, "acks": acks, "audit": audit}

        def settled() -> bool:
            state = rows()
            bodies = " ".join(row.body for row in state["items"])
            return (all(s.marker in bodies for s in sent)
                    and all(row.status == "processed" for row in state["items"])
                    and all(row.status in SETTLED_ACKS for row in state["acks"]))

        try:
            settle_seconds = round(wait_until(settled, "everything settles", 900), 1)
        except TimeoutError:
            settle_seconds = None
        state = rows()
        engine.dispose()
        by_marker: dict[str, list[Any]] = defaultdict(list)
        for item in state["items"]:
            for s in sent:
                if s.marker in item.body:
                    by_marker[s.marker].append(item)
        item_of = {s.marker: by_marker[s.marker][0].id for s in sent if by_marker[s.marker]}
        acks_by_item: dict[int, list[Any]] = defaultdict(list)
        for ack in state["acks"]:
            acks_by_item[ack.item_id].append(ack)
        actions: dict[int, set[str]] = defaultdict(set)
        for entry in state["audit"]:
            actions[entry.item_id].add(entry.action)
        delivered = Counter(r for mail in self.smtp_handler.received for r in mail.recipients)
        delivered.update(request.form.get("To", "") for request in self.twilio.messages)
        statuses = Counter(ack.status for ack in state["acks"])
        self.outcomes = {
            s.marker: {"lost": not by_marker[s.marker], "duplicated": len(by_marker[s.marker]) > 1,
                       "sent_twice": delivered[s.recipient] > 1}
            for s in sent
        }
        return {
            "round": round_number,
            "messages": len(sent),
            "settled_after_seconds": settle_seconds,
            "lost": sum(1 for s in sent if not by_marker[s.marker]),
            "duplicated": sum(1 for s in sent if len(by_marker[s.marker]) > 1),
            "unprocessed": sum(1 for item in state["items"] if item.status != "processed"),
            "sent_twice": sum(1 for s in sent if delivered[s.recipient] > 1),
            "acknowledgements_per_item_over_one": sum(
                1 for acks in acks_by_item.values() if len([a for a in acks if a.purpose == "received"]) > 1),
            "acknowledgement_statuses": dict(statuses),
            "audit_incomplete": sum(
                1 for marker, item_id in item_of.items()
                if not {"received", "processed"} <= actions[item_id]
            ),
            "restarts": dict(self.supervisor.restarts),
        }

    def report(self) -> dict[str, Any]:
        per_kind: dict[str, dict[str, Any]] = {}
        # Each message is counted against the last fault before it was sent (its window).
        sent = list(self.traffic.sent) if hasattr(self, "traffic") else []
        for kind in [*self.fault_kinds(), NO_FAULT]:
            landed = [f for f in self.faults if f["kind"] == kind and "outcome" not in f]
            probed = [f for f in landed if "recovery_seconds" in f]
            times = [f["recovery_seconds"] for f in probed if f["recovery_seconds"] is not None]
            window = [self.outcomes[s.marker] for s in sent if s.after_fault == kind and s.marker in self.outcomes]
            per_kind[kind] = {
                "faults": len(landed),
                "skipped": sum(1 for f in self.faults if f["kind"] == kind and "outcome" in f),
                "messages_in_window": len(window),
                "lost": sum(o["lost"] for o in window),
                "duplicated": sum(o["duplicated"] for o in window),
                "sent_twice": sum(o["sent_twice"] for o in window),
                "recovery_median_s": round(statistics.median(times), 1) if times else None,
                "recovery_max_s": max(times) if times else None,
                "not_recovered": len(probed) - len(times),
            }
        # Each round's check covers every message sent so far: the last round's counts are the totals.
        totals = {key: self.rounds[-1][key] if self.rounds else 0
                  for key in ("messages", "lost", "duplicated", "unprocessed", "sent_twice",
                              "acknowledgements_per_item_over_one", "audit_incomplete")}
        return {"faults": sum(k["faults"] for k in per_kind.values()), "totals": totals,
                "probes_not_recovered": sum(k["not_recovered"] for k in per_kind.values()),
                "baseline_probe_s": getattr(self, "baseline", None),
                "unsettled_rounds": sum(1 for r in self.rounds if r["settled_after_seconds"] is None),
                "per_kind": per_kind, "rounds": self.rounds}


def broken_promises(report: dict[str, Any]) -> list[str]:
    totals = report["totals"]
    broken = [f"{key}: {totals[key]}" for key in ("lost", "duplicated", "unprocessed", "sent_twice",
                                                   "acknowledgements_per_item_over_one", "audit_incomplete")
              if totals[key]]
    if report.get("probes_not_recovered"):
        broken.append(f"probes not processed within {PROBE_CEILING} s: {report['probes_not_recovered']}")
    if report["unsettled_rounds"]:
        broken.append(f"rounds that never settled: {report['unsettled_rounds']}")
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", type=int, default=200)
    parser.add_argument("--round", type=int, default=10, help="faults per round (checked after each)")
    parser.add_argument("--interval", type=float, default=0.4, help="seconds between messages")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--out", type=Path,
                        help="write the JSON report here too (rewritten after every checked round)")
    parser.add_argument("--minutes", type=float, help="stop landing faults after this long (then check)")
    parser.add_argument("--kind", action="append", dest="kinds", metavar="KIND",
                        help="land only this kind of fault (repeatable), e.g. --kind 'kill a worker'")
    parser.add_argument("--no-probe", action="store_true",
                        help="land faults back to back without measuring recovery (the short campaign)")
    args = parser.parse_args(argv)
    random.seed(args.seed)
    root = Path(tempfile.mkdtemp(prefix="intake-faults-"))
    os.chmod(root, 0o755)
    started = time.monotonic()
    try:
        with Campaign(root, args.seed).running() as campaign:
            campaign.progress = args.out
            campaign.run(args.faults, args.round, args.interval, probe=not args.no_probe,
                         budget_seconds=args.minutes * 60 if args.minutes else None, only=args.kinds)
            report = campaign.report()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report["seed"] = args.seed
    report["seconds"] = round(time.monotonic() - started, 1)
    report["broken"] = broken_promises(report)
    text_report = json.dumps(report, indent=2)
    print(text_report)
    if args.out:
        args.out.write_text(text_report + "\n")
    return 1 if report["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
