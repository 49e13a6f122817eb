"""Staff users: create, sign in with argon2 password hashes, lock out after repeated failures.

Passwords must be at least 12 characters and not guessable: zxcvbn (Dropbox's estimator, with its
lists of common passwords, names and keyboard patterns) must score them 3 or more out of 4.
Every refusal to sign in says the same thing, so nobody learns which usernames exist or are locked.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from intake import audit, staff_sessions
from intake.clock import SYSTEM_CLOCK
from intake.errors import InvalidMessage, NotAuthorised
from models import User

ROLES = ("triage", "manager", "admin")
MAX_FAILED_SIGN_INS = 5
LOCK_OUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 is "safely unguessable: moderate protection from offline attack"
MAX_PASSWORD_LENGTH = 1000  # argon2 hashes anything, but nobody types more; zxcvbn is slow on huge input
REFUSED = "the username or password is not right, or the account is locked after repeated failures"
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong username takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class SignInRefused(NotAuthorised):
    """Wrong username or password, or the account is locked (the message never says which user exists)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidMessage(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidMessage(f"a password can have at most {MAX_PASSWORD_LENGTH} characters")
    # zxcvbn's cost grows with length; its first 100 characters are plenty to judge a password.
    verdict = zxcvbn(password[:100], user_inputs=_dictionary_words(user_inputs))
    if verdict["score"] < MIN_PASSWORD_SCORE:
        warning = (verdict["feedback"].get("warning") or "").rstrip(".").lower()
        raise InvalidMessage(
            "this password is too easy to guess"
            + (f" ({warning})" if warning else "")
            + "; use a few unrelated words or a password manager"
        )


def _dictionary_words(values: tuple[str, ...]) -> list[str]:
    """A person's own names as zxcvbn dictionary words: whole, word by word, and run together."""
    words: list[str] = []
    for value in values:
        parts = [part for part in re.split(r"[^a-z0-9]+", value.lower()) if part]
        words += [value.lower(), "".join(parts), *parts]
    return [word for word in dict.fromkeys(words) if len(word) > 1]


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    actor: str,
    full_name: str | None = None,
    email: str | None = None,
) -> User:
    username = username.strip().lower()
    email = normalised_email(email)
    if not USERNAME_PATTERN.match(username):
        raise InvalidMessage(
            "a username is 2 to 60 lower-case letters, digits, dots, dashes or underscores"
        )
    if role not in ROLES:
        raise InvalidMessage(f"role must be one of {', '.join(ROLES)}")
    check_password_rules(password, user_inputs=(username, full_name or ""))
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InvalidMessage(f"there is already a user called {username}")
    _check_email_free(session, email)
    user = User(
        email=email,
        username=username,
        full_name=(full_name or "").strip() or None,
        password_hash=hash_password(password),
        role=role,
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user_created", username=username, role=role)
    return user


def normalised_email(email: str | None) -> str | None:
    """An email address in lower case, or None; refused when it is plainly not an address."""
    if not email or not email.strip():
        return None
    email = email.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(ch.isspace() for ch in email) or len(email) > 320:
        raise InvalidMessage(f"{email!r} is not an email address")
    return email


def _check_email_free(session: Session, email: str | None, *, user_id: int | None = None) -> None:
    # One account per address: single sign-on must never have to choose between two accounts.
    if email is None:
        return
    other = session.scalars(select(User).where(User.email == email)).first()
    if other is not None and other.id != user_id:
        raise InvalidMessage(f"another account ({other.username}) already uses {email}")


def set_email(session: Session, user: User, email: str | None, *, actor: str) -> None:
    """The address single sign-on matches this account by (None: this account signs in by password only)."""
    email = normalised_email(email)
    _check_email_free(session, email, user_id=user.id)
    user.email = email
    audit.record(session, actor=actor, action="user_email_changed", username=user.username)


def single_sign_on_user(session: Session, email: str, *, now: datetime | None = None) -> User:
    """The active, unlocked account with this email, for an OpenID Connect sign-in (intake/web/oidc.py).

    Accounts are never created here: a person the identity provider knows gets into the workspace
    only when an admin has already given them an account (and so a role) with that address.
    """
    now = now or SYSTEM_CLOCK.now()
    address = email.strip().lower()
    user = session.scalars(select(User).where(User.email == address, User.active.is_(True))).first()
    if user is None or (user.locked_until is not None and user.locked_until > now):
        audit.record(session, actor="anonymous", action="sign_in_failed", reason="no account for this identity",
                     method="oidc")
        _refuse(session, SSO_REFUSED)
    audit.record(session, actor=user.username, action="signed_in", method="oidc")
    return user


SSO_REFUSED = (
    "your organisation account is not linked to a workspace account: ask an admin to add your email "
    "address to your account on the Users page"
)


def active_user(session: Session, username: str) -> User | None:
    return session.scalars(
        select(User).where(User.username == username.strip().lower(), User.active.is_(True))
    ).first()


def has_active_users(session: Session) -> bool:
    """False on a new installation, before the first admin is created (the sign-in page says how)."""
    return session.scalars(select(User.id).where(User.active.is_(True)).limit(1)).first() is not None


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def sign_in(session: Session, *, username: str, password: str, now: datetime | None = None) -> User:
    """The user, when the password is right and the account is not locked; failures are counted.

    A refusal commits before it raises: the failure count, the lock and the audit entry must
    survive the caller's rollback, or the lock-out would never happen.
    """
    now = now or SYSTEM_CLOCK.now()
    user = active_user(session, username)
    if user is None:
        _verify(_DUMMY_HASH, password)
        audit.record(session, actor="anonymous", action="sign_in_failed", reason="unknown user")
        _refuse(session, REFUSED)
    if user.locked_until is not None and user.locked_until > now:
        # Refused in the same words and time as a wrong password: a lock reveals nothing.
        _verify(_DUMMY_HASH, password)
        audit.record(session, actor=user.username, action="sign_in_refused", reason="locked")
        _refuse(session, REFUSED)
    if not _verify(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        audit.record(session, actor=user.username, action="sign_in_failed", failures=user.failed_logins)
        if user.failed_logins >= MAX_FAILED_SIGN_INS:
            user.locked_until = now + LOCK_OUT
            user.failed_logins = 0
            audit.record(session, actor=user.username, action="account_locked", until=user.locked_until.isoformat())
        _refuse(session, REFUSED)
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(session, actor=user.username, action="signed_in")
    return user


def _refuse(session: Session, message: str) -> NoReturn:
    session.commit()
    raise SignInRefused(message)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(session: Session, user: User, password: str, *, actor: str) -> None:
    """A new password; every session of the user ends (the caller may open a new one for itself)."""
    check_password_rules(password, user_inputs=(user.username, user.full_name or ""))
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    ended = staff_sessions.end_all_sessions(session, user.id, reason="password_changed")
    audit.record(session, actor=actor, action="password_changed", username=user.username, sessions_ended=ended)


def change_own_password(session: Session, *, username: str, current: str, new: str) -> User:
    """Self-service: the current password must be right (a borrowed session cannot change it)."""
    user = active_user(session, username)
    if user is None or not _verify(user.password_hash, current):
        raise InvalidMessage("your current password is not right")
    if new == current:
        raise InvalidMessage("the new password must differ from the current one")
    set_password(session, user, new, actor=user.username)
    return user


def sign_out_everywhere(session: Session, user: User, *, actor: str) -> int:
    ended = staff_sessions.end_all_sessions(session, user.id, reason="signed_out_everywhere")
    audit.record(session, actor=actor, action="signed_out_everywhere", username=user.username, sessions_ended=ended)
    return ended


def change_role(session: Session, user: User, role: str, *, actor: str) -> None:
    if role not in ROLES:
        raise InvalidMessage(f"role must be one of {', '.join(ROLES)}")
    before = user.role
    user.role = role
    audit.record(session, actor=actor, action="role_changed", username=user.username, before=before, after=role)


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    else:
        staff_sessions.end_all_sessions(session, user.id, reason="deactivated")
    audit.record(
        session, actor=actor, action="user_activated" if active else "user_deactivated", username=user.username
    )
