"""The contact form's fields and the server-side checks, with messages in the style of GOV.UK forms.

`validate_contact_form` turns what the browser sent into a `ContactSubmission`, or into a dict of
field id → message shown next to the field and in the error summary, in the order of the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from channels.message import Attachment
from channels.phone import can_receive_sms, normalise_phone
from intake.web.uploads import Upload, UploadRefused, check_upload

EMAIL_PATTERN = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
SUBMISSION_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_NAME = 200
MAX_SUBJECT = 150
MAX_MESSAGE = 5000

# value → (label on the form, role stored on the contact)
SENDER_ROLES: dict[str, tuple[str, str]] = {
    "tenant": ("I am a tenant or I live in one of your homes", "tenant"),
    "acting_for": ("I am acting for a tenant or resident (for example a relative, carer or advocate)", "advocate"),
    "elected_office": ("I work for an MP or a councillor", "designated_person"),
}
REPLY_CHANNELS: dict[str, str] = {"email": "Email", "sms": "Text message"}


@dataclass
class ContactForm:
    """What the browser sent, kept as typed so the form can be shown again with the errors."""

    full_name: str = ""
    reply_by: str = ""
    email: str = ""
    mobile: str = ""
    sender_role: str = ""
    resident_name: str = ""
    subject: str = ""
    message: str = ""
    submission_token: str = ""
    website: str = ""  # the honeypot: hidden from people, filled in by bots
    uploads: list[Upload] = field(default_factory=list)


@dataclass(frozen=True)
class ContactSubmission:
    full_name: str
    reply_by: str  # "email" or "sms"
    email: str | None
    mobile: str | None  # E.164
    sender_role: str  # a key of SENDER_ROLES
    resident_name: str | None
    subject: str
    message: str
    submission_token: str
    attachments: tuple[Attachment, ...]


def _tidy(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\x00", "").strip()


def validate_contact_form(
    form: ContactForm, *, max_attachments: int, max_attachment_bytes: int
) -> ContactSubmission | dict[str, str]:
    errors: dict[str, str] = {}
    full_name = " ".join(_tidy(form.full_name).split())
    if not full_name:
        errors["full_name"] = "Enter your full name"
    elif len(full_name) > MAX_NAME:
        errors["full_name"] = f"Your name must be {MAX_NAME} characters or fewer"

    if form.sender_role not in SENDER_ROLES:
        errors["sender_role"] = "Select who you are"
    resident_name = " ".join(_tidy(form.resident_name).split())
    if form.sender_role in ("acting_for", "elected_office") and not resident_name:
        errors["resident_name"] = "Enter the name of the person you are contacting us about"
    elif len(resident_name) > MAX_NAME:
        errors["resident_name"] = f"The name must be {MAX_NAME} characters or fewer"

    if form.reply_by not in REPLY_CHANNELS:
        errors["reply_by"] = "Select how you would like us to reply"
    email = _tidy(form.email)
    if email and (len(email) > 320 or not EMAIL_PATTERN.match(email)):
        errors["email"] = "Enter an email address in the correct format, like name@example.com"
    elif form.reply_by == "email" and not email:
        errors["email"] = "Enter your email address, or choose a text message reply"
    mobile_raw = _tidy(form.mobile)
    mobile = normalise_phone(mobile_raw) if mobile_raw else None
    if mobile_raw and mobile is None:
        errors["mobile"] = "Enter a mobile number, like 07700 900 982 or +44 7700 900 982"
    elif form.reply_by == "sms" and not mobile_raw:
        errors["mobile"] = "Enter your mobile number, or choose an email reply"
    elif form.reply_by == "sms" and not can_receive_sms(mobile):
        errors["mobile"] = "Enter a mobile number that can receive text messages, or choose an email reply"

    subject = " ".join(_tidy(form.subject).split())
    if not subject:
        errors["subject"] = "Enter what your message is about"
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = f"What your message is about must be {MAX_SUBJECT} characters or fewer"
    message = _tidy(form.message)
    if not message:
        errors["message"] = "Enter your message"
    elif len(message) > MAX_MESSAGE:
        errors["message"] = f"Your message must be {MAX_MESSAGE:,} characters or fewer"

    attachments: list[Attachment] = []
    uploads = [upload for upload in form.uploads if upload.filename]
    if len(uploads) > max_attachments:
        errors["attachments"] = f"Select up to {max_attachments} files"
    else:
        problems = []
        for upload in uploads:
            try:
                attachments.append(check_upload(upload, max_bytes=max_attachment_bytes))
            except UploadRefused as refusal:
                problems.append(str(refusal))
        if problems:
            errors["attachments"] = "; ".join(problems)

    if errors:
        return errors
    return ContactSubmission(
        full_name=full_name,
        reply_by=form.reply_by,
        email=email or None,
        mobile=mobile,
        sender_role=form.sender_role,
        resident_name=resident_name or None,
        subject=subject,
        message=message,
        submission_token=form.submission_token,
        attachments=tuple(attachments),
    )
