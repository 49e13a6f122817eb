"""The `intake` command: serve, worker, db, tokens, ingest, demo — and the classifier's commands."""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from intake.clock import SYSTEM_CLOCK
from intake.errors import SERVICE_ERRORS, IntakeError
from intake.runtime import Runtime, get_runtime
from intake.settings import get_settings

if TYPE_CHECKING:
    from intake.learning_loop import LearningLoop
    from intake.workers import WorkerOptions

app = typer.Typer(help="Housing intake and triage.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
model_app = typer.Typer(help="Model versions: ensure one exists, list, promote, roll back.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tokens_app, name="tokens")
app.add_typer(model_app, name="model")
audit_app = typer.Typer(help="The audit log: check that nobody has changed it.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
console = Console(stderr=True)

DEMO_FILE = Path(__file__).with_name("demo_messages.jsonl")


def _runtime() -> Runtime:
    return get_runtime()


def _fail(error: Exception) -> None:
    console.print(f"[red]error:[/red] {error}")
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Create or migrate the database to the latest schema."""
    runtime = _runtime()
    runtime.database.upgrade(revision)
    console.print(
        f"database at {revision}: {runtime.database.engine.url.render_as_string(hide_password=True)}"
    )


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 and name each entry that was changed or removed."""
    from intake.audit import verify

    with _runtime().database.session() as session:
        result = verify(session)
    for problem in result.problems:
        console.print(f"[red]tampered:[/red] {problem}")
    console.print(
        f"{result.checked} chained entries checked"
        + (f", {result.unchained} from before the chain" if result.unchained else "")
    )
    if result.head_id is not None:
        # Printed to stdout so it can be kept elsewhere: a later run that no longer reaches this
        # head shows that the newest entries were removed.
        typer.echo(f"head {result.head_id} {result.head_hash}")
    if not result.intact:
        raise typer.Exit(1)


@tokens_app.command("create")
def tokens_create(
    name: str,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="items:write (post items; the default) and/or items:read (read any item back)"),
    ] = None,
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    from intake.tokens import DEFAULT_SCOPES, create_token

    try:
        with _runtime().database.session() as session:
            token = create_token(session, name, scopes=scope or DEFAULT_SCOPES)
    except SERVICE_ERRORS as error:
        _fail(error)
    console.print(f"token for {name!r} (shown once, store it now):")
    typer.echo(token)


@tokens_app.command("revoke")
def tokens_revoke(name: str) -> None:
    from intake.tokens import revoke_token

    try:
        with _runtime().database.session() as session:
            revoke_token(session, name, actor="cli")
    except SERVICE_ERRORS as error:
        _fail(error)
    console.print(f"revoked {name!r}")


@model_app.command("ensure")
def model_ensure() -> None:
    """Train a model from the seed corpus when none is installed yet (used by `make run`)."""
    from classifier import ModelRegistry
    from classifier.registry import SEED_INPUTS_KEY, seed_inputs_hash

    settings = get_settings()
    registry = ModelRegistry(settings.model_dir)
    current = registry.current_version()
    if current is not None:
        from classifier.classifier import add_inference_form
        from classifier.inference import read_inference
        from classifier.registry import INFERENCE_FILE

        if read_inference(registry.path_of(current) / INFERENCE_FILE) is None:
            # Saved before the inference form existed (or its file is damaged): write it, so workers
            # load the model with NumPy alone instead of scikit-learn and skops (~90 MB less each).
            add_inference_form(settings.model_dir, current)
            console.print(f"model {current}: inference form written")
        console.print(f"model {current} is installed in {settings.model_dir}")
        return
    from classifier import train_model
    from classifier.data import load_examples, seed_files, split_examples

    train, _ = split_examples(load_examples(seed_files()))
    console.print(f"no model yet: training on {len(train)} seed examples (offline, under a minute)")
    # What it was trained from, so the tests' pinned model (tests/conftest.py) can start from a copy
    # of it instead of training the same model again.
    train_model(
        train,
        out_dir=settings.model_dir,
        clock=SYSTEM_CLOCK,  # the CLI is the edge: the machine's clock
        notes={SEED_INPUTS_KEY: seed_inputs_hash()},
    )
    console.print(f"model {ModelRegistry(settings.model_dir).current_version()} installed")


@model_app.command("list")
def model_list() -> None:
    """Model versions with their held-out metrics; the current one is marked."""
    from classifier import ModelRegistry

    registry = ModelRegistry(get_settings().model_dir)
    current = registry.current_version()
    for version in registry.versions():
        metrics = registry.metadata(version).get("metrics", {})
        summary = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items() if isinstance(v, float))
        typer.echo(f"{'*' if version == current else ' '} {version}  {summary}")


@model_app.command("promote")
def model_promote(version: str) -> None:
    from classifier import ModelRegistry

    ModelRegistry(get_settings().model_dir).promote(version)
    console.print(f"{version} is now the current model (restart or reload workers to pick it up)")


@model_app.command("rollback")
def model_rollback() -> None:
    from classifier import ModelRegistry

    try:
        previous = ModelRegistry(get_settings().model_dir).rollback()
    except SERVICE_ERRORS as error:
        _fail(error)
    console.print(f"rolled back to {previous}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="API processes (needs PostgreSQL for more than one)")] = 1,
    job_workers: Annotated[
        int, typer.Option(help="Worker processes started beside the server (database queue); 0: none")
    ] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (one write per request)")] = False,
) -> None:
    """Serve the API, the contact form and the staff workspace.

    Without Redis, jobs go to the database queue and this also starts `intake worker` beside the
    server, so no request waits for classification or sending. With Redis, run `intake worker`.
    """
    import uvicorn

    settings = get_settings()
    worker_process: subprocess.Popen[bytes] | None = None
    if settings.job_mode == "database" and job_workers > 0:
        worker_process = subprocess.Popen(
            [sys.executable, "-m", "intake", "worker", "--processes", str(job_workers), "--stop-with-parent"]
        )
        console.print(f"jobs: database queue, {job_workers} worker process(es) started beside the server")

        def stop_worker_then_exit(signum: int, _frame: object) -> None:
            # uvicorn hands a SIGTERM/SIGINT it caught back to this handler once it has shut down.
            _stop_process(worker_process)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop_worker_then_exit)
        signal.signal(signal.SIGINT, stop_worker_then_exit)
    elif settings.job_mode == "inline":
        from intake.workers import WorkerOptions

        _start_sweeper(
            WorkerOptions(
                sweep_every=settings.sweep_interval_seconds,
                report_facts_every=settings.report_facts_refresh_seconds,
            )
        )
        console.print("jobs run inline in the server process (INTAKE_JOBS=inline)")
    _print_addresses(host, port)
    try:
        uvicorn.run(
            "intake.app:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=access_log,
            loop="auto",  # uvloop when installed
            http="auto",  # httptools when installed
            # The app believes forwarded headers only from INTAKE_TRUSTED_PROXIES (intake/app.py).
            proxy_headers=False,
        )
    finally:
        _stop_process(worker_process)


def _stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _print_addresses(host: str, port: int) -> None:
    """Where to go next, so a newcomer never has to guess the URLs."""
    from intake.users import has_active_users

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown_host}:{port}"
    console.print(f"front page        {base}/")
    console.print(f"contact form      {base}/contact")
    console.print(f"staff sign-in     {base}/staff/login")
    console.print(f"API documentation {base}/docs")
    try:
        with get_runtime().database.session() as session:
            first_run = not has_active_users(session)
    except Exception:  # an unmigrated database is reported by the server itself
        return
    if first_run:
        console.print(
            "no staff account yet: create the first admin with "
            "[bold].venv/bin/intake users add YOUR-NAME --role admin[/bold]"
        )


def _start_sweeper(options: WorkerOptions) -> None:
    from intake.jobs import sweep
    from intake.workers import sweep_due

    def loop() -> None:
        since_facts = 0.0
        while options.sweep_every > 0:
            time.sleep(options.sweep_every)
            since_facts += options.sweep_every
            due = sweep_due(options, since_sweep=options.sweep_every, since_facts=since_facts)
            if due.report_facts:
                since_facts = 0.0
            try:
                sweep(report_facts=due.report_facts)
            except Exception:
                logging.getLogger("intake.sweep").exception("sweep failed")

    threading.Thread(target=loop, name="sweeper", daemon=True).start()


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Run until the queues are empty, then exit")] = False,
    processes: Annotated[int, typer.Option(help="Worker processes, each running jobs one after another")] = 1,
    batch_size: Annotated[
        int | None, typer.Option(help="Items classified together (default INTAKE_WORKER_BATCH_SIZE)")
    ] = None,
    sweep_every: Annotated[int, typer.Option(help="Seconds between sweeps for stuck work; 0 disables")] = 60,
    poll_email: Annotated[
        bool, typer.Option("--poll-email", help="Also poll the IMAP mailboxes (in one worker is enough)")
    ] = False,
    stop_with_parent: Annotated[
        bool, typer.Option("--stop-with-parent", hidden=True, help="Stop when the starting process ends")
    ] = False,
    niceness: Annotated[
        int | None,
        typer.Option(min=0, max=19, help="Lower CPU priority than the API, 0-19 (default INTAKE_WORKER_NICENESS, 10)"),
    ] = None,
) -> None:
    """Run worker processes for the job queues: rq with INTAKE_REDIS_URL, else the database queue."""
    from intake.workers import WorkerOptions, run

    settings = get_settings()
    if settings.job_mode == "inline":
        _fail(IntakeError("INTAKE_JOBS=inline: jobs run in the process that queues them; no worker needed"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries that log every HTTP call at INFO (twilio's client logs ~10 lines per text) would cost a
    # write per line per job: their warnings are enough.
    for noisy in ("twilio.http_client", "httpx", "rq.worker"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    runtime = _runtime()
    poller = None
    if poll_email and not burst:
        # A process of its own: the worker supervisor stays single-threaded, because it forks.
        poller = subprocess.Popen([sys.executable, "-m", "intake", "poll-email", "--forever"])
    options = WorkerOptions(
        processes=processes,
        burst=burst,
        batch_size=batch_size or settings.worker_batch_size,
        poll_seconds=settings.worker_poll_seconds,
        sweep_every=sweep_every,
        report_facts_every=settings.report_facts_refresh_seconds,
        parent_pid=os.getppid() if stop_with_parent else None,
        niceness=settings.worker_niceness if niceness is None else niceness,
        max_resident_mb=settings.worker_max_resident_mb,
    )
    try:
        code = run(runtime, options)
    finally:
        if poller is not None:
            poller.terminate()
            poller.wait()
    raise typer.Exit(code)


@app.command("sweep")
def sweep_command() -> None:
    """Re-queue stuck items and acknowledgements due a retry (the worker does this every minute)."""
    from intake.jobs import sweep

    typer.echo(json.dumps(sweep()))


@app.command("failed-jobs")
def failed_jobs() -> None:
    """List jobs that failed after all their retries."""
    runtime = _runtime()
    if not hasattr(runtime.jobs, "failed_jobs"):
        typer.echo("[]")
        return
    typer.echo(json.dumps(runtime.jobs.failed_jobs(), indent=2))


@app.command()
def ingest(
    file: Path,
    channel: Annotated[
        str | None, typer.Option(help="Channel of the messages (default: each line's own)")
    ] = None,
) -> None:
    """Ingest a file: a JSONL of messages in the classifier's data format, or one plain-text message."""
    from intake.ingest_files import messages_from_file
    from intake.pipeline import ingest as ingest_message

    runtime = _runtime()
    try:
        messages = messages_from_file(file, channel=channel, now=runtime.clock.now())
    except SERVICE_ERRORS as error:
        _fail(error)
    created = duplicates = failed = 0
    with _progress() as progress:
        task = progress.add_task("ingesting", total=len(messages))
        for line_number, message in messages:
            try:
                result = ingest_message(runtime, message, actor="cli")
            except SERVICE_ERRORS as error:
                failed += 1
                console.print(f"[yellow]line {line_number}:[/yellow] {error}")
            else:
                created += result.created
                duplicates += not result.created
            progress.advance(task)
    console.print(f"{created} new, {duplicates} already received, {failed} refused")
    if failed:
        raise typer.Exit(1)


@app.command()
def demo() -> None:
    """Run sample messages from every channel through the real pipeline, to fill the queues."""
    from intake.ingest_files import messages_from_file
    from intake.pipeline import ingest as ingest_message

    runtime = _runtime()
    runtime.database.upgrade()
    messages = messages_from_file(DEMO_FILE, channel=None)
    with _progress() as progress:
        task = progress.add_task("demo messages", total=len(messages))
        for _, message in messages:
            message.external_id = f"demo:{message.external_id}"
            ingest_message(runtime, message, actor="demo")
            progress.advance(task)
    from sqlalchemy import func, select

    from models import Item

    with runtime.database.session() as session:
        rows = session.execute(select(Item.queue, func.count()).group_by(Item.queue)).all()
    for queue, count in sorted(rows, key=lambda r: str(r[0])):
        typer.echo(f"{queue or '(unprocessed)':<20} {count}")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
    )


def _corrections_as_training_examples() -> list:  # type: ignore[type-arg]
    from intake.learning_loop import corrections_as_examples

    return corrections_as_examples(_runtime())


# Commands contributed by other packages, in one explicit list.
COMMAND_PROVIDERS = [
    "classifier.cli:register",
    "intake.web.cli:register",
    "intake.reports.cli:register",
    "intake.email_cli:register",
    "intake.privacy.cli:register",
]


@functools.cache
def _learning_loop() -> LearningLoop:
    from intake.learning_loop import LearningLoop

    return LearningLoop(_runtime)


def _register_providers() -> None:
    for target in COMMAND_PROVIDERS:
        module_name, _, attribute = target.partition(":")
        register = getattr(importlib.import_module(module_name), attribute)
        if module_name == "classifier.cli":
            # `intake train`: all staff corrections except the newest few, kept back to test the new
            # version, which is promoted only when it is not worse (intake/learning_loop.py).
            register(
                app,
                clock=SYSTEM_CLOCK,  # the command line is the edge: the machine's clock
                extra_training_examples=lambda: _learning_loop().training_examples(),
                promotion_gate=lambda *args: _learning_loop().gate(*args),
            )
        else:
            register(app)


_register_providers()
