"""`intake privacy …`: subject access export, erasure, restriction, legal holds, retention, the request list.

The wall clock is read here, at the edge, and handed to the services.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from intake.errors import IntakeError
from intake.privacy import retention, service
from intake.privacy.requests import list_requests
from intake.privacy.subjects import SubjectMatch, SubjectQuery
from intake.runtime import get_runtime

app = typer.Typer(help="Residents' data rights: export, erase, restrict, retention.", no_args_is_help=True)
console = Console(stderr=True)

Email = Annotated[str | None, typer.Option("--email", help="The person's email address")]
Phone = Annotated[str | None, typer.Option("--phone", help="The person's phone number")]
ContactId = Annotated[int | None, typer.Option("--contact", help="The person's contact id")]
Include = Annotated[
    list[int] | None,
    typer.Option("--include", help="A candidate item (listed by `find`) confirmed as theirs; repeatable"),
]


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="privacy")


def _query(email: str | None, phone: str | None, contact: int | None) -> SubjectQuery:
    try:
        return SubjectQuery(email=email, phone=phone, contact_id=contact)
    except IntakeError as error:
        _fail(error)
        raise


def _fail(error: Exception) -> None:
    console.print(f"[red]error:[/red] {error}")
    raise typer.Exit(2)


def _show_match(match: SubjectMatch) -> None:
    console.print(f"{len(match.item_ids)} items are theirs (contacts {match.contact_ids or 'none'}): {match.item_ids}")
    for candidate in match.candidates:
        console.print(f"  candidate item {candidate.item_id}: {candidate.why} (add --include {candidate.item_id})")


@app.command("find")
def find(email: Email = None, phone: Phone = None, contact: ContactId = None) -> None:
    """List a person's items and the candidates (case parties, name mentions) to confirm; records nothing."""
    _show_match(service.look_up(get_runtime(), _query(email, phone, contact)))


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip")],
    email: Email = None, phone: Phone = None, contact: ContactId = None, include: Include = None,
    actor: Annotated[str, typer.Option(help="Who is answering the request")] = "cli",
) -> None:
    """Subject access: every item, file, acknowledgement, note and correction about them, zipped."""
    runtime = get_runtime()
    query = _query(email, phone, contact)
    try:
        _show_match(service.look_up(runtime, query))
        result = service.export_subject(runtime, query, actor=actor, now=runtime.clock.now(), confirm=include or [])
    except IntakeError as error:
        _fail(error)
    out.write_bytes(result.content)
    console.print(f"request {result.request_id}: wrote {out}")
    typer.echo(json.dumps({"request": result.request_id, **result.counts}))


@app.command("erase")
def erase(
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with the request)")],
    email: Email = None, phone: Phone = None, contact: ContactId = None, include: Include = None,
    override: Annotated[
        str | None, typer.Option(help="Erase despite an open complaint or legal hold, for this recorded reason")
    ] = None,
    actor: Annotated[str, typer.Option(help="Who authorised the erasure")] = "cli",
) -> None:
    """Replace their personal data everywhere with the marker; refused while a complaint is open or held."""
    runtime = get_runtime()
    try:
        result = service.erase_subject(
            runtime, _query(email, phone, contact), actor=actor, now=runtime.clock.now(), reason=reason,
            confirm=include or [], override=override,
        )
    except IntakeError as error:
        _fail(error)
    if result.refused:
        console.print(f"[red]refused[/red] (request {result.request_id}): " + "; ".join(result.refused))
        console.print("an admin may override with --override 'the reason'")
        raise typer.Exit(1)
    typer.echo(json.dumps({"request": result.request_id, **result.counts}))
    if result.retrain_needed:
        versions = ", ".join(result.counts["model_versions_to_retrain"])
        console.print(f"[yellow]retrain needed:[/yellow] model versions {versions} learned from their corrections; "
                      "run `intake train`, then remove those versions from the model directory")


@app.command("restrict")
def restrict(
    email: Email = None, phone: Phone = None, contact: ContactId = None, include: Include = None,
    lift: Annotated[bool, typer.Option("--lift", help="Show the items to staff again")] = False,
    actor: Annotated[str, typer.Option()] = "cli",
) -> None:
    """Keep their items but hide them from everyone except admins (or --lift the restriction)."""
    runtime = get_runtime()
    try:
        request_id, changed = service.restrict_subject(
            runtime, _query(email, phone, contact), actor=actor, now=runtime.clock.now(),
            confirm=include or [], lift=lift,
        )
    except IntakeError as error:
        _fail(error)
    typer.echo(json.dumps({"request": request_id, "items": changed, "restricted": not lift}))


@app.command("hold")
def hold(
    item: Annotated[int, typer.Option("--item", help="An item of the case")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why the case must be kept")] = None,
    release: Annotated[bool, typer.Option("--release")] = False,
    actor: Annotated[str, typer.Option()] = "cli",
) -> None:
    """Set a legal hold on a case (no erasure, no retention) or --release it."""
    if not release and not reason:
        _fail(IntakeError("give --reason for the hold, or --release"))
    try:
        service.set_legal_hold(get_runtime(), item, actor=actor, reason=None if release else reason)
    except IntakeError as error:
        _fail(error)
    console.print("legal hold released" if release else "legal hold set")


@app.command("retention")
def retention_command(
    apply: Annotated[bool, typer.Option("--apply", help="Anonymise what is listed (default: a dry run)")] = False,
) -> None:
    """List the cases past their retention period; with --apply, anonymise them and audit the counts."""
    runtime = get_runtime()
    result = retention.run(runtime, now=runtime.clock.now(), apply=apply, actor="cli")
    for expired in result.expired:
        typer.echo(f"{expired.reference or expired.root_id}\t{expired.rule}\texpired {expired.expired_at:%Y-%m-%d}"
                   f"\t{len(expired.item_ids)} items")
    verb = "anonymised" if apply else "would anonymise"
    console.print(f"{verb} {len(result.expired)} cases, {result.items} items: {result.by_rule or {}}")


@app.command("log")
def log_command(
    kind: Annotated[str, typer.Option("--kind", help="export / erase / restrict / unrestrict")],
    email: Email = None, phone: Phone = None, contact: ContactId = None,
    received: Annotated[
        str | None, typer.Option(help="The day it reached the landlord, YYYY-MM-DD (default: today)")
    ] = None,
    actor: Annotated[str, typer.Option()] = "cli",
) -> None:
    """Record a request as it arrives; the one-month clock runs from the day it was received."""
    runtime = get_runtime()
    try:
        received_at = datetime.combine(date.fromisoformat(received), time(9), tzinfo=UTC) if received else None
        request_id = service.log_request(runtime, _query(email, phone, contact), kind=kind, actor=actor,
                                         now=runtime.clock.now(), received_at=received_at)
    except ValueError:
        _fail(IntakeError("--received must be a date such as 2026-11-03"))
    except IntakeError as error:
        _fail(error)
    typer.echo(json.dumps({"request": request_id}))


@app.command("requests")
def requests_command() -> None:
    """Data-rights requests with their due dates (one month from receipt) and days left."""
    runtime = get_runtime()
    now = runtime.clock.now()
    with runtime.database.session() as session:
        rows = list_requests(session, now=now)
        for row in rows:
            request = row.request
            left = f"{row.days_left} days left" if request.status == "open" else request.status
            typer.echo(f"{request.id}\t{request.kind}\t{request.subject_hint}\treceived {request.received_at:%Y-%m-%d}"
                       f"\tdue {request.due_at:%Y-%m-%d}\t{left}")
