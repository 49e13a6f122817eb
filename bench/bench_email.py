"""Email intake benchmark: poll and ingest 2,000 messages from the test Dovecot.

    .venv/bin/python bench/bench_email.py [--messages 2000] [--model-dir DIR]
        [--postgres-url URL] [--redis-url URL] [--json OUT]

Not a test: it prints the figures recorded in docs/benchmarks.md (## Email). It starts the same
Dovecot the tests use (tests/channels/mail_servers.py), appends the messages with IMAP APPEND, and
measures three stages, each in a fresh child process (so peak RSS is the stage's own):

- parse:  IMAP fetch (batches of 50, BODY.PEEK[]) and `parse_email` — no database;
- store:  the poller with `ingest` into the database, processing jobs queued to Redis (the production
          shape: one process polls, workers classify) — skipped without Redis;
- full:   the poller with in-process jobs: every message classified, routed, given deadlines and
          acknowledged over SMTP (aiosmtpd on loopback) before the next is read.

The messages cycle through the hand-written corpus (tests/channels/email_corpus, 60 shapes: Outlook,
Gmail, iPhone, HTML-only, quoted-printable, base64, non-UTF-8 charsets, bounces, out-of-office…),
each with its own Message-ID and sender. `--postgres-url` must name a scratch database: its public
schema is dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CORPUS_DIR = REPO / "tests" / "channels" / "email_corpus"
FOLDER = "Bench"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def bench_messages(count: int) -> list[bytes]:
    """`count` messages cycling through the corpus, each with a unique Message-ID and sender."""
    corpus = [path.read_bytes().replace(b"\r\n", b"\n") for path in sorted(CORPUS_DIR.glob("*.eml"))]
    messages = []
    for number in range(count):
        raw = corpus[number % len(corpus)]
        head, separator, body = raw.partition(b"\n\n")
        head = re.sub(rb"(?im)^message-id:.*(\n[ \t].*)*\n?", b"", head + b"\n").rstrip(b"\n")
        head = re.sub(
            rb"(?im)^(from:.*?)([\w.+-]+)@", rb"\g<1>\g<2>.b" + str(number).encode() + rb"@", head, count=1
        )
        head += f"\nMessage-ID: <bench.{number}@bench.example>".encode()
        messages.append((head + separator + body).replace(b"\n", b"\r\n"))
    return messages


# --- the parent: servers, messages, one child per stage ------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="a trained model (default: train one now)"
    )
    parser.add_argument("--postgres-url", default=None, help="also run store/full on this scratch database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args)))
        return

    from tests.channels.mail_servers import DovecotServer, find_dovecot

    binary = find_dovecot()
    if binary is None:
        sys.exit("dovecot is not installed: apt-get install dovecot-imapd")
    model_dir = args.model_dir or ensure_model()
    server = DovecotServer(binary)
    server.start()
    results: dict[str, Any] = {"messages": args.messages}
    try:
        messages = bench_messages(args.messages)
        results["mailbox_mb"] = sum(len(m) for m in messages) / 1e6
        with server.session() as client:
            client.create_folder(FOLDER)
            started = time.perf_counter()
            for start in range(0, len(messages), 100):
                client.multiappend(FOLDER, messages[start : start + 100])
            results["append_s"] = time.perf_counter() - started
        databases = {"sqlite": None, **({"postgresql": args.postgres_url} if args.postgres_url else {})}
        stages: list[tuple[str, str | None]] = [("parse", None)]
        stages += [(stage, name) for stage in ("store", "full") for name in databases]
        for stage, database in stages:
            label = stage if database is None else f"{stage}/{database}"
            print(f"running {label} …", file=sys.stderr)
            command = [
                sys.executable,
                __file__,
                "--child",
                stage,
                "--port",
                str(server.port),
                "--model-dir",
                str(model_dir),
                "--redis-url",
                args.redis_url,
                "--messages",
                str(args.messages),
            ]
            if database is not None and databases[database]:
                command += ["--database-url", databases[database]]
            finished = subprocess.run(command, capture_output=True, text=True, check=False)
            if finished.returncode != 0:
                print(finished.stderr[-3000:], file=sys.stderr)
                results[label] = {"error": finished.stderr.strip().splitlines()[-1:]}
                continue
            results[label] = json.loads(finished.stdout.strip().splitlines()[-1])
    finally:
        server.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def ensure_model() -> Path:
    from classifier import train_model
    from classifier.data import load_examples, seed_files, split_examples
    from intake.clock import SYSTEM_CLOCK

    out_dir = Path(tempfile.mkdtemp(prefix="bench-email-model-"))
    train, _ = split_examples(load_examples(seed_files()))
    print(f"training a model on {len(train)} seed examples …", file=sys.stderr)
    train_model(train, out_dir=out_dir, clock=SYSTEM_CLOCK)
    return out_dir


# --- a child: one stage, measured in its own process -----------------------------------------


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    from tests.channels.mail_servers import PASSWORD

    if args.child == "parse":
        return parse_stage(args.port, PASSWORD)
    return poll_stage(args, PASSWORD)


def parse_stage(port: int, password: str) -> dict[str, Any]:
    from imapclient import IMAPClient

    from channels.email_parse import parse_email

    rss_before = peak_rss_mb()
    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=60)
    client.login("intake", password)
    client.select_folder(FOLDER, readonly=True)
    uids = sorted(client.search(["ALL"]))
    started = time.perf_counter()
    parsed = unreadable = 0
    fetch_seconds = 0.0
    for start in range(0, len(uids), 50):
        fetch_started = time.perf_counter()
        fetched = client.fetch(uids[start : start + 50], ["BODY.PEEK[]", "INTERNALDATE"])
        fetch_seconds += time.perf_counter() - fetch_started
        for data in fetched.values():
            message = parse_email(data[b"BODY[]"], received_at=data[b"INTERNALDATE"])
            parsed += 1
            unreadable += bool(message.parse_error)
    seconds = time.perf_counter() - started
    client.logout()
    return {
        "messages": parsed,
        "seconds": seconds,
        "messages_per_s": parsed / seconds,
        "fetch_share": fetch_seconds / seconds,
        "unreadable": unreadable,
        "peak_rss_mb": peak_rss_mb(),
        "rss_at_start_mb": rss_before,
    }


def poll_stage(args: argparse.Namespace, password: str) -> dict[str, Any]:
    from pydantic import SecretStr
    from sqlalchemy import create_engine, func, select, text

    from intake.email_mailboxes import mailboxes_from_settings, poller_for
    from intake.runtime import Runtime, set_runtime
    from intake.settings import ImapSettings, Settings, SmtpSettings
    from models import Acknowledgement, Item
    from tests.channels.mail_servers import SmtpServer

    workdir = Path(tempfile.mkdtemp(prefix="bench-email-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'intake.db'}"
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    smtp = SmtpServer()
    smtp.start()
    redis_url = None
    if args.child == "store":
        from redis import Redis

        Redis.from_url(args.redis_url).ping()  # no Redis: this stage fails loudly and is reported
        redis_url = args.redis_url
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        queue_name=f"bench-email-{os.getpid()}",  # its own queue, emptied afterwards
        model_dir=args.model_dir,
        outbox_dir=workdir / "outbox",
        landlord_addresses=["@riverside-homes.example"],
        max_acknowledgements_per_sender_per_day=10_000,
        imap=ImapSettings(
            host="127.0.0.1",
            port=args.port,
            user="intake",
            password=SecretStr(password),
            folder=FOLDER,
            ssl=False,
        ),
        smtp=SmtpSettings(
            host=smtp.host, port=smtp.port, from_address="contact@riverside-homes.example", starttls=False
        ),
    )
    runtime = Runtime.build(settings)
    set_runtime(runtime)  # in-process jobs find the runtime through get_runtime()
    runtime.database.upgrade()
    if args.child == "full":
        runtime.classifier  # noqa: B018 - load the model before the clock starts
        runtime.policy  # noqa: B018
    rss_before = peak_rss_mb()
    mailbox = mailboxes_from_settings(settings)[0]
    started = time.perf_counter()
    with poller_for(runtime, mailbox) as poller:
        report = poller.poll()
    seconds = time.perf_counter() - started
    with runtime.database.session() as session:
        items = session.scalar(select(func.count()).select_from(Item))
        sent = session.scalar(
            select(func.count()).select_from(Acknowledgement).where(Acknowledgement.status == "sent")
        )
    smtp.stop()
    queued = 0
    if redis_url:
        queue = runtime.jobs.queue  # type: ignore[attr-defined]
        queued = queue.count
        queue.empty()
    result = {
        "database": database_url.split(":", 1)[0],
        "messages": report.fetched,
        "created": report.created,
        "duplicates": report.duplicates,
        "items": items,
        "acknowledgements_sent": sent,
        "jobs_queued": queued,
        "smtp_received": len(smtp.received),
        "seconds": seconds,
        "messages_per_s": report.fetched / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_poll_mb": rss_before,
    }
    if items != args.messages or report.created != args.messages:
        result["error"] = f"expected {args.messages} items, found {items}"
    return result


if __name__ == "__main__":
    main()
