"""A user setting their own password: with a one-time link an administrator gave them, or by
changing it while logged in (``*, session``; no commits). The rules are in
:mod:`assistant.accounts`' docstring; this is the part the account's owner does."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.accounts import AccountInvalid, end_sessions, record_change
from assistant.models import User, utcnow
from assistant.login import LOGIN_FAILED, LoginLimits, authenticate
from assistant.users import MIN_PASSWORD_CHARS, hash_password, token_digest


def check_new_password(password: str) -> None:
    """A new password long enough, or :class:`AccountInvalid`."""
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountInvalid(f"The new password must be at least {MIN_PASSWORD_CHARS} characters.",
                             code="weak_password")


def redeem_link(token: str, new_password: str, *, session: Session, now: Optional[dt.datetime] = None) -> User:
    """Set a password with a one-time link: it works once, before it expires, for an active user."""
    check_new_password(new_password)
    now = now or utcnow()
    digest = token_digest(token or "")
    new_hash = hash_password(new_password)  # before the update, so no row is locked while hashing
    # one statement decides, so two uses at once can't both succeed
    done = session.execute(
        update(User).where(User.password_reset_hash == digest, User.password_reset_used_at.is_(None),
                           User.password_reset_expires_at > now, User.active.is_(True))
        .values(password_hash=new_hash, password_reset_used_at=now, must_change_password=False)
        .execution_options(synchronize_session=False)).rowcount
    user = session.scalars(select(User).where(User.password_reset_hash == digest)).first()
    if user is not None:
        session.refresh(user)
    if not done:
        if user is None or not user.active:
            raise AccountInvalid("This link is not valid. Ask an administrator for a new one.", code="link_invalid")
        if user.password_reset_used_at is not None:
            raise AccountInvalid("This link has already been used. Log in with the password you set, "
                                 "or ask an administrator for a new link.", code="link_used")
        raise AccountInvalid("This link has expired. Ask an administrator for a new one.", code="link_expired")
    end_sessions(user.id, session=session)
    record_change(user, "password_set", user, {"via": "link"}, session=session)
    return user


def change_own_password(user: User, current_password: str, new_password: str, *, address: str,
                        limits: LoginLimits, keep_token: Optional[str], session: Session) -> User:
    """Change ``user``'s own password after checking the current one like a login (counted and
    throttled: a stolen session can't guess it quickly; commit even when this raises). Their
    other sessions end; the must-change flag clears."""
    check_new_password(new_password)
    outcome = authenticate(user.username, current_password, address=address, limits=limits, session=session)
    if outcome.user is None or outcome.user.id != user.id:
        raise AccountInvalid("Your current password is not right. " + LOGIN_FAILED.split(". ", 1)[1],
                             code="wrong_password")
    if new_password == current_password:
        raise AccountInvalid("Choose a new password, not the current one.", code="same_password")
    user.password_hash, user.must_change_password = hash_password(new_password), False
    end_sessions(user.id, keep_token_hash=token_digest(keep_token) if keep_token else None, session=session)
    record_change(user, "password_changed", user, {}, session=session)
    return user
