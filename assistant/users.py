"""Accounts, password hashing (argon2) and login sessions (``*, session``; no commits).

Checking a login and throttling failures is :mod:`assistant.login`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from functools import lru_cache
from typing import List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.errors import Invalid
from assistant.models import ROLES, User, WebSession, utcnow

MIN_PASSWORD_CHARS = 10
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserError(Invalid):
    """Invalid account data (message is safe to show)."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if ``password`` matches ``password_hash``."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = None  # made on first use (see dummy_hash)


def dummy_hash() -> str:
    """A hash of a random password, to verify against when there is no user, so timing does not tell."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def create_user(
    *, username: str, password: str, role: str, display_name: Optional[str] = None,
    manager_username: Optional[str] = None, session: Session,
) -> User:
    """Create an account; raises :class:`UserError` on invalid input or a taken username."""
    username = (username or "").strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise UserError("username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise UserError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if get_user_by_username(username, session=session):
        raise UserError(f"username {username!r} is taken")
    manager = None
    if manager_username:
        manager = get_user_by_username(manager_username, session=session)
        if manager is None or manager.role != "manager":
            raise UserError(f"{manager_username!r} is not a manager")
    user = User(
        username=username, display_name=(display_name or username).strip()[:120],
        password_hash=hash_password(password), role=role, manager_id=manager.id if manager else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user_by_username(username: str, *, session: Session) -> Optional[User]:
    """The account with ``username`` (case-insensitive), or None."""
    return session.scalars(select(User).where(User.username == (username or "").strip().lower())).first()


def team_of(manager_id: int, *, session: Session) -> List[User]:
    """The active users whose line manager is ``manager_id``."""
    return list(session.scalars(
        select(User).where(User.manager_id == manager_id, User.active.is_(True)).order_by(User.display_name)
    ))


def token_digest(token: str) -> str:
    """How a secret token is stored: its SHA-256 (login session cookies here, one-time
    password links in :mod:`assistant.accounts`); the token itself never is."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(user: User, *, hours: float, session: Session) -> str:
    """Create a login session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(
        token_hash=token_digest(token), user_id=user.id, created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    ))
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token


def user_for_token(token: Optional[str], *, session: Session) -> Optional[User]:
    """The active user of a live session token, or None (missing, unknown or expired)."""
    if not token or len(token) > 200:
        return None
    row = session.get(WebSession, token_digest(token))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user


def end_session(token: Optional[str], *, session: Session) -> None:
    """Log out: delete the session for ``token`` if any."""
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))


def staff_names(*, session: Session) -> List[str]:
    """Display names and usernames of the active users: chat masking keeps these (and so their first
    names), so a manager's "ask Alex Rowan to reflect" still names the team member."""
    rows = session.execute(select(User.display_name, User.username).where(User.active.is_(True))).all()
    return [name for row in rows for name in row if name]
