"""Messages that change the system's own state instead of being triaged: SMS keywords (STOP, START,
HELP) and email delivery-failure reports (bounces).

They are acted on only from facts the channel itself established on a message it received and
verified — a keyword the SMS adapter read from a Twilio-signed webhook, a bounce the email parser
recognised in a delivery status notification. What a sending system writes in an API item's
`metadata` is kept under `details["client_metadata"]` as data only and is never read here, so no
integration can opt a resident out of texts or close an item untriaged.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit
from intake.acknowledgements import plan_help_reply
from intake.opt_outs import apply_keyword
from intake.references import make_reference
from intake.runtime import Runtime
from models import Acknowledgement, Item

# The channel that may establish each fact. An item from the JSON API (source "api:…") establishes
# none, whatever channel it names.
KEYWORD_CHANNEL = "sms"
BOUNCE_CHANNEL = "email"


def channel_fact(item: Item, key: str, channel: str) -> str | None:
    """`details[key]` when the channel itself set it on an item it received, else None."""
    if item.channel != channel or str(item.details.get("source", "")).startswith("api:"):
        return None
    value = item.details.get(key)
    return value if isinstance(value, str) and value else None


def handle_without_triage(runtime: Runtime, session: Session, item: Item) -> bool:
    """Act on an SMS keyword or a bounce and close the item untriaged; False for every other item."""
    keyword = channel_fact(item, "sms_keyword", KEYWORD_CHANNEL)
    if keyword and item.sender_address:
        outcome = apply_keyword(session, phone=item.sender_address, keyword=keyword, item_id=item.id)
        close_untriaged(session, item, f"SMS keyword {keyword}: {outcome.replace('_', ' ')}")
        if outcome == "help":
            help_reply = plan_help_reply(runtime, session, item)
            # Queued with the transaction (a worker's batch commits once), never before it commits.
            runtime.jobs.enqueue_acknowledgement(help_reply.id, session=session)
        return True
    bounced = channel_fact(item, "bounce_of", BOUNCE_CHANNEL)
    if bounced:
        acknowledgement = session.scalars(
            select(Acknowledgement).where(Acknowledgement.provider_id == bounced)
        ).first()
        if acknowledgement is not None:
            acknowledgement.status = "bounced"
            acknowledgement.last_error = (item.subject or "delivery failure")[:500]
            item.case_id = acknowledgement.item.case_root_id
            audit.record(
                session,
                actor="worker",
                action="acknowledgement_bounced",
                item_id=acknowledgement.item_id,
                acknowledgement_id=acknowledgement.id,
                bounce_item_id=item.id,
            )
        close_untriaged(session, item, "delivery status notification (bounce)")
        return True
    return False


def close_untriaged(session: Session, item: Item, why: str) -> None:
    item.status = "processed"
    item.case_status = "closed"
    item.review_reason = None
    item.routing_reason = why
    item.suppress_acknowledgement_reason = item.suppress_acknowledgement_reason or why
    if item.reference is None:
        item.reference = make_reference(item.received_at, item.id)
    audit.record(session, actor="worker", action="stored_not_triaged", item_id=item.id, reason=why)
