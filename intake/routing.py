"""The route step: which queue an item's case sits in, decided here and nowhere else in intake/.

The table (routing.yaml) and its pure function live in `triage_rules.routing`; the classifier uses
the same function for its own suggestion. This module applies it to an item with what only the
pipeline knows — a sender's declared role, a case the message follows up, a hold for review — and
records the reason on the item. Corrections and escalations call `route_item` too, so a queue is
always chosen the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from models import Item
from triage_rules.routing import RoutingDecision, route
from triage_rules.taxonomy import REVIEW_QUEUE

# What a sender says about themselves on the contact form counts like a rule that fired.
FLAGS_BY_DECLARED_ROLE = {"acting_for": "third_party", "elected_office": "designated_person"}


def decide(item_type: str | None, flags: Iterable[str], *, confident: bool = True) -> RoutingDecision:
    """The queue for these labels (routing.yaml's overrides first, then the type's queue)."""
    return route(item_type, flags, confident=confident)


def route_item(item: Item, *, confident: bool = True, why: str | None = None) -> RoutingDecision:
    """Set `item.queue` from its type and flags; `why` prefixes the recorded reason."""
    decision = decide(item.type, item.flags, confident=confident)
    item.queue = decision.queue
    item.routing_reason = f"{why}; {decision.reason}" if why else decision.reason
    return decision


def route_new_item(item: Item, *, root: Item | None, confident: bool) -> None:
    """The pipeline's route step, after classification and linking."""
    if item.type is None and item.queue == REVIEW_QUEUE and not item.flags:
        return  # unreadable, or no model: the classify step already said why it waits for a person
    role = item.details.get("sender_role") or ""
    flag = FLAGS_BY_DECLARED_ROLE.get(role)
    if flag is not None and flag not in item.flags:
        item.flags = sorted({*item.flags, flag})
        route_item(item, confident=confident, why=f"sender declared '{role}' on the form")
    if item.details.get("quoted_case_id") is not None:
        item.queue = REVIEW_QUEUE  # the linking step held it: quotes a case its sender is not party to
        return
    if root is not None and item.queue != "emergency" and not (item.review_reason and item.queue == REVIEW_QUEUE):
        item.queue = root.queue
        item.routing_reason = f"follow-up on case {root.reference}: sits in the case's queue"
