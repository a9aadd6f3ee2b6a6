"""User administration (the ``admin`` role, or the command line): list, create, change role
and line manager, deactivate and reactivate, reset passwords (``*, session``; no commits).

``actor`` is the administrator making the change, or None for the command line (whoever runs
it has the database already). Every change goes in the audit log (who, when, what).

Rules kept here, whoever calls:

* A line manager is an active ``manager``, not the user themself, and not someone below the
  user in the line (no cycles). A manager with active team members keeps the role and stays
  active until they are moved to someone else.
* There is always an active ``admin``: the last one can't be deactivated or lose the role
  (active admins are locked while counted, so two admins can't remove each other at once).
  Through the API an admin can't change their own role, status or password by reset at all:
  another admin (or the command line) does, so no one locks themself out by a slip.
* A new account or a reset gets either a one-time link (``link``: only its SHA-256 is stored,
  it expires after ``RESET_LINK_HOURS`` and works once) or a temporary password
  (``temporary``: shown once; the user must change it before anything else). Either way the
  old password stops working and every session of theirs ends.
* Deactivation ends the user's sessions at once; login refuses them (assistant.login). Their
  reflections stay theirs and are deleted by the usual retention purge; nobody else gets to
  read them. If they have any, the caller must confirm that the user was offered their own
  export first (``export_offered``).
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Optional, Tuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assistant.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from assistant.faq_admin import audit
from assistant.models import ROLES, Reflection, User, WebSession, utcnow
from assistant.users import create_user, get_user_by_username, hash_password, token_digest

RESET_LINK_HOURS = 72
METHODS = ("link", "temporary")
# the user's own download of their reflections (routes_reflections), passed on by the admin
OWN_EXPORT_PATH = "/api/reflections/export?format=md"


class AccountError(DomainError):
    """An account change that can't be made (message safe to show); on its own, invalid input."""


class AccountNotFound(AccountError, NotFound):
    """No such account."""


class AccountNotAllowed(AccountError, NotAllowed):
    """Not something this caller may do (not an admin, or their own account)."""


class AccountConflict(AccountError, Conflict):
    """Clashes with the current state: a taken username, the last admin, a team to move."""


class AccountInvalid(AccountError, Invalid):
    """Breaks a rule: a manager who isn't one, a short password, an unused link."""


@dataclass(frozen=True)
class Credential:
    """What an administrator hands on once: a link token or a temporary password."""

    method: str  # link | temporary
    secret: str
    expires_at: Optional[dt.datetime] = None

    @property
    def link_path(self) -> Optional[str]:
        """The page that redeems a link (in the fragment: never sent to a server or logged)."""
        return f"/password#token={self.secret}" if self.method == "link" else None


def record_change(actor: Optional[User], action: str, user: User, detail: dict, *, session: Session) -> None:
    """Put an account change in the audit log: who (or the command line), what, whose account."""
    audit(actor, f"account.{action}", user.username, {**detail, "user_id": user.id,
                                                      "by": actor.username if actor else "command line"},
          session=session)


def _check_actor(actor: Optional[User], user: Optional[User] = None, what: str = "") -> None:
    if actor is not None and (actor.role != "admin" or not actor.active):
        raise AccountNotAllowed("Only an administrator can change accounts.")
    if actor is not None and user is not None and actor.id == user.id and what:
        raise AccountNotAllowed(f"You can't {what} your own account: ask another administrator.")


def get_account(user_id: int, *, session: Session) -> User:
    """The account with ``user_id``, or :class:`AccountNotFound`."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountNotFound("No account with that id.")
    return user


def _validated_manager(user: Optional[User], manager_id: Optional[int], *, session: Session) -> Optional[User]:
    """The manager with ``manager_id`` if they may manage ``user`` (None: a new account)."""
    if manager_id is None:
        return None
    manager = session.get(User, manager_id)
    if manager is None:
        raise AccountInvalid("No account with that line manager id.", code="bad_manager")
    if manager.role != "manager":
        raise AccountInvalid(f"{manager.display_name} is a {manager.role}, not a manager: "
                             "only a manager can be a line manager.", code="bad_manager")
    if not manager.active:
        raise AccountInvalid(f"{manager.display_name} is deactivated and can't be a line manager.",
                             code="bad_manager")
    if user is not None:
        if manager.id == user.id:
            raise AccountInvalid("Nobody can be their own line manager.", code="bad_manager")
        seen, above = set(), manager
        while above is not None and above.id not in seen:  # up the line from the new manager
            if above.manager_id == user.id:
                raise AccountInvalid(f"{manager.display_name} reports to {user.display_name} "
                                     "(directly or further up): that would make a loop.", code="bad_manager")
            seen.add(above.id)
            above = above.manager
    return manager


def _keep_an_admin(user: User, *, session: Session) -> None:
    """Refuse to take ``user`` out of the active admins if they are the last one."""
    if user.role != "admin" or not user.active:
        return
    # locked, so a concurrent change counts after this one (PostgreSQL; SQLite has one writer)
    admins = session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))
                             .with_for_update()).all()
    if len(admins) <= 1:
        raise AccountConflict(f"{user.display_name} is the last active administrator: make someone "
                              "else an administrator first.", code="last_admin")


def _has_team(user: User, *, session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(
        User.manager_id == user.id, User.active.is_(True), User.id != user.id)) or 0


def _no_team_left(user: User, *, session: Session) -> None:
    """A manager keeps their role and account while anyone active still reports to them."""
    if user.role == "manager" and (team := _has_team(user, session=session)):
        raise AccountConflict(f"{user.display_name} manages {team} active team member(s): give them "
                              "another line manager first.", code="has_team")


def end_sessions(user_id: int, *, keep_token_hash: Optional[str] = None, session: Session) -> int:
    """Delete the user's login sessions (but the one ``keep_token_hash``); returns how many."""
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token_hash:
        stmt = stmt.where(WebSession.token_hash != keep_token_hash)
    return session.execute(stmt).rowcount


def _new_credential(user: User, method: str, *, hours: float) -> Credential:
    """Replace ``user``'s password by a link or a temporary password (the old one stops working)."""
    if method not in METHODS:
        raise AccountInvalid("method must be 'link' or 'temporary'")
    if method == "temporary":
        secret = secrets.token_urlsafe(12)  # 16 characters
        user.password_hash, user.must_change_password = hash_password(secret), True
        user.password_reset_hash = user.password_reset_expires_at = user.password_reset_used_at = None
        return Credential("temporary", secret)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(hours=hours)
    # nobody knows this password: the account can't be used until the link is
    user.password_hash, user.must_change_password = hash_password(secrets.token_urlsafe(32)), False
    user.password_reset_hash, user.password_reset_expires_at = token_digest(token), expires
    user.password_reset_used_at = None
    return Credential("link", token, expires)


def create_account(*, actor: Optional[User], username: str, display_name: Optional[str], role: str,
                   manager_id: Optional[int] = None, method: str = "link", hours: float = RESET_LINK_HOURS,
                   session: Session) -> Tuple[User, Credential]:
    """A new account and how its owner first signs in (a one-time link or a temporary password)."""
    _check_actor(actor)
    if method not in METHODS:
        raise AccountInvalid("method must be 'link' or 'temporary'")
    display_name = (display_name or "").strip() or None
    if get_user_by_username(username, session=session) is not None:
        raise AccountConflict(f"The username {username.strip().lower()!r} is taken.", code="username_taken")
    manager = _validated_manager(None, manager_id, session=session)
    user = create_user(username=username, password=secrets.token_urlsafe(32), role=role,
                       display_name=display_name, session=session)
    user.manager_id = manager.id if manager else None
    credential = _new_credential(user, method, hours=hours)
    session.flush()
    record_change(actor, "create", user, {"role": role, "manager_id": user.manager_id, "method": method},
                  session=session)
    return user, credential


def set_role(user_id: int, role: str, *, actor: Optional[User], session: Session) -> User:
    """Change an account's role (the last admin keeps theirs; a manager's team moves first)."""
    user = get_account(user_id, session=session)
    _check_actor(actor)
    if role not in ROLES:
        raise AccountInvalid(f"role must be one of {', '.join(ROLES)}")
    if role == user.role:
        return user
    _keep_an_admin(user, session=session)  # the last admin hears why first, not "ask another"
    _check_actor(actor, user, "change the role of")
    _no_team_left(user, session=session)
    record_change(actor, "role", user, {"from": user.role, "to": role}, session=session)
    user.role = role
    return user


def set_manager(user_id: int, manager_id: Optional[int], *, actor: Optional[User], session: Session) -> User:
    """Change (or, with None, remove) an account's line manager."""
    user = get_account(user_id, session=session)
    _check_actor(actor)
    manager = _validated_manager(user, manager_id, session=session)
    new_id = manager.id if manager else None
    if new_id != user.manager_id:
        record_change(actor, "manager", user, {"from": user.manager_id, "to": new_id}, session=session)
        user.manager_id = new_id
    return user


def reflection_summary(user_id: int, *, retention_days: int, session: Session) -> dict:
    """How many reflections the user has and when the last will go at the latest (no content)."""
    count, newest = session.execute(
        select(func.count(Reflection.id), func.max(func.coalesce(Reflection.completed_at, Reflection.updated_at)))
        .where(Reflection.author_id == user_id)).one()
    return {"count": count, "kept_until": (newest + dt.timedelta(days=retention_days)) if newest else None}


def deactivate(user_id: int, *, actor: Optional[User], export_offered: bool, retention_days: int,
               session: Session) -> User:
    """Deactivate an account: their sessions end at once and login refuses them. If they have
    reflections, ``export_offered`` must say they were offered their own export first."""
    user = get_account(user_id, session=session)
    _check_actor(actor)
    if not user.active:
        return user
    _keep_an_admin(user, session=session)  # the last admin hears why first, not "ask another"
    _check_actor(actor, user, "deactivate")
    _no_team_left(user, session=session)
    held = reflection_summary(user.id, retention_days=retention_days, session=session)
    if held["count"] and not export_offered:
        raise AccountConflict(
            f"{user.display_name} has {held['count']} reflection(s). Only they can read them: ask them to "
            "download them (My reflections, Download) before you deactivate the account, then confirm "
            f"that you offered it. Afterwards they are kept until the retention period ends "
            f"({retention_days} days after each was last written), then deleted.",
            code="export_first", reflections=held["count"], export_path=OWN_EXPORT_PATH)
    user.active = False
    user.password_reset_hash = user.password_reset_expires_at = user.password_reset_used_at = None
    ended = end_sessions(user.id, session=session)
    record_change(actor, "deactivate", user, {"sessions_ended": ended, "reflections": held["count"],
                                              "export_offered": export_offered}, session=session)
    return user


def reactivate(user_id: int, *, actor: Optional[User], session: Session) -> User:
    """Let a deactivated account log in again (a line manager no longer active is removed)."""
    user = get_account(user_id, session=session)
    _check_actor(actor)
    if user.active:
        return user
    detail = {}
    if user.manager is not None and (not user.manager.active or user.manager.role != "manager"):
        detail["manager_removed"], user.manager_id = user.manager_id, None
    user.active = True
    record_change(actor, "reactivate", user, detail, session=session)
    return user


def reset_password(user_id: int, method: str, *, actor: Optional[User], hours: float = RESET_LINK_HOURS,
                   session: Session) -> Credential:
    """Replace a password by a one-time link or a temporary one; every session of theirs ends."""
    user = get_account(user_id, session=session)
    _check_actor(actor, user, "reset the password of")
    if not user.active:
        raise AccountConflict(f"{user.display_name}'s account is deactivated: reactivate it first.",
                              code="inactive")
    credential = _new_credential(user, method, hours=hours)
    ended = end_sessions(user.id, session=session)
    record_change(actor, "reset_password", user, {"method": method, "sessions_ended": ended}, session=session)
    return credential
