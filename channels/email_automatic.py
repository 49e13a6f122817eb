"""Is this email from a machine? The rules that keep acknowledgements from answering robots.

An acknowledgement sent to an out-of-office reply, a bounce or a mailing list is at best noise and at
worst the first move of a mail loop (two auto-responders answering each other forever). Such mail is
still stored and read by staff; it only gets no acknowledgement. The rules are data: each says which
header or pattern marks automatic mail and what to record as the reason. RFC 3834 (Auto-Submitted),
RFC 3464 (delivery status notifications), RFC 8098 (read receipts) and RFC 2369/2919 (list headers)
are the sources; the subject patterns catch mailers that set none of those headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Kinds, most specific first. A bounce is acted on (the acknowledgement it bounced is marked).
BOUNCE = "bounce"
READ_RECEIPT = "read_receipt"
OUT_OF_OFFICE = "out_of_office"
AUTO_REPLY = "auto_reply"
BULK = "bulk"
NO_REPLY_SENDER = "no_reply_sender"


@dataclass(frozen=True)
class AutomaticMail:
    kind: str
    reason: str  # recorded on the item as why no acknowledgement was sent


@dataclass(frozen=True)
class HeaderRule:
    """A header whose presence (or one of whose values) marks automatic mail."""

    header: str  # lower case
    kind: str
    reason: str  # "{value}" is replaced by the header's value
    values: frozenset[str] | None = None  # None: any value except `except_values`
    except_values: frozenset[str] = field(default_factory=frozenset)

    def matches(self, value: str) -> bool:
        token = value.split(";", 1)[0].strip().lower()
        if self.values is not None:
            return token in self.values
        return token not in self.except_values


HEADER_RULES: tuple[HeaderRule, ...] = (
    HeaderRule(
        "auto-submitted",
        AUTO_REPLY,
        "automatic message (Auto-Submitted: {value})",
        except_values=frozenset({"no"}),
    ),
    HeaderRule(
        "x-auto-response-suppress",
        AUTO_REPLY,
        "the sender asked for no automatic replies (X-Auto-Response-Suppress: {value})",
        except_values=frozenset({"", "none"}),
    ),
    HeaderRule("x-autoreply", OUT_OF_OFFICE, "automatic reply (X-Autoreply: {value})"),
    HeaderRule("x-autorespond", OUT_OF_OFFICE, "automatic reply (X-Autorespond)"),
    HeaderRule("x-autoreply-from", OUT_OF_OFFICE, "automatic reply (X-Autoreply-From)"),
    HeaderRule("x-mail-autoreply", OUT_OF_OFFICE, "automatic reply (X-Mail-Autoreply)"),
    HeaderRule(
        "x-ms-exchange-inbox-rules-loop", AUTO_REPLY, "forwarded by a mailbox rule (Exchange loop marker)"
    ),
    HeaderRule("x-loop", AUTO_REPLY, "loop-marked by a mail system (X-Loop: {value})"),
    HeaderRule(
        "precedence",
        BULK,
        "bulk or list mail (Precedence: {value})",
        values=frozenset({"bulk", "junk", "list", "auto_reply"}),
    ),
    HeaderRule("list-id", BULK, "mailing-list mail (List-Id: {value})"),
    HeaderRule("list-unsubscribe", BULK, "bulk mail with an unsubscribe link (List-Unsubscribe)"),
    HeaderRule("feedback-type", BULK, "a feedback or abuse report (Feedback-Type: {value})"),
)

# Local parts of addresses that belong to mail systems, not people.
MAIL_SYSTEM_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounces?)([+.-].*)?$", re.I
)
NO_REPLY_SENDERS = re.compile(
    r"^(no-?reply|do-?not-?reply|donotreply|notifications?-noreply)([+._-].*)?$", re.I
)

# Subjects that mailers without the headers above use. Anchored at the start, after any "Re:".
_PREFIX = r"^\s*(?:(?:re|aw|sv|fw|fwd|tr)\s*:\s*)*"
BOUNCE_SUBJECTS = re.compile(
    _PREFIX + r"(undeliverable\s*:|undelivered mail returned to sender|delivery status notification"
    r"|mail delivery (failed|failure|subsystem)|returned mail\s*:|failure notice|mail system error"
    r"|unzustellbar|non remis)",
    re.I,
)
OUT_OF_OFFICE_SUBJECTS = re.compile(
    _PREFIX + r"(automatic reply|auto(matic)?[- ]?reply|autoreply|auto:|out of (the )?office(?!\s+hours)"
    r"|i am (currently )?out of (the )?office|on (annual )?leave until|away from (the )?office"
    r"|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence du bureau"
    r"|respuesta autom[áa]tica|risposta automatica|autosvar|automatisch antwoord|automaattinen vastaus)",
    re.I,
)


def detect_automatic(
    headers: Mapping[str, str],
    *,
    sender_address: str | None,
    subject: str | None,
    content_type: str = "text/plain",
    report_type: str | None = None,
) -> AutomaticMail | None:
    """Why this message must not be acknowledged as automatic mail, or None for a person's message.

    `headers` maps lower-case header names to their (decoded) values; `content_type` and
    `report_type` are the top-level MIME type and its report-type parameter.
    """
    local_part = (sender_address or "").rpartition("@")[0]
    return_path = headers.get("return-path")
    report = (report_type or "").lower()

    if content_type == "multipart/report" and report == "delivery-status":
        return AutomaticMail(BOUNCE, "delivery status notification (multipart/report)")
    if return_path is not None and return_path.strip() in ("<>", ""):
        kind = (
            BOUNCE
            if BOUNCE_SUBJECTS.search(subject or "") or MAIL_SYSTEM_SENDERS.match(local_part)
            else AUTO_REPLY
        )
        return AutomaticMail(kind, "null return path (Return-Path: <>): sent by a mail system")
    if MAIL_SYSTEM_SENDERS.match(local_part):
        return AutomaticMail(BOUNCE, f"sent by a mail system ({sender_address})")
    if content_type == "multipart/report" and report == "disposition-notification":
        return AutomaticMail(READ_RECEIPT, "read receipt (disposition notification)")
    if content_type == "multipart/report":
        return AutomaticMail(
            AUTO_REPLY, f"automatic report (multipart/report; report-type={report or 'unknown'})"
        )
    if BOUNCE_SUBJECTS.search(subject or ""):
        return AutomaticMail(BOUNCE, "delivery failure notice (subject)")
    if OUT_OF_OFFICE_SUBJECTS.search(subject or ""):
        return AutomaticMail(OUT_OF_OFFICE, "out-of-office or automatic reply (subject)")
    for rule in HEADER_RULES:
        value = headers.get(rule.header)
        if value is not None and rule.matches(value):
            return AutomaticMail(rule.kind, rule.reason.format(value=value.strip()[:200]))
    if NO_REPLY_SENDERS.match(local_part):
        return AutomaticMail(NO_REPLY_SENDER, f"the sender address does not take replies ({sender_address})")
    return None


def is_own_address(address: str | None, own_addresses: Iterable[str]) -> bool:
    """True for one of the landlord's own addresses; an entry "@domain" covers the whole domain."""
    if not address:
        return False
    address = address.strip().lower()
    for own in own_addresses:
        own = own.strip().lower()
        if own and (address == own or (own.startswith("@") and address.endswith(own))):
            return True
    return False
