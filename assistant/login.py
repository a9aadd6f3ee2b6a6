"""Checking a login: :func:`authenticate` and its throttling of failures (``*, session``;
no commits).

Login throttling (:func:`authenticate`; the numbers are Settings ``login_*``)
----------------------------------------------------------------------------

What it must stop: guessing passwords (also from many addresses, also with many requests at
once), locking someone out by typing their username with wrong passwords, and telling which
usernames exist.

* No account lock. A fixed lock after N failures lets anyone who knows a username keep its
  owner out, forever, with N requests per lock period. Instead failures buy a growing delay.
* Per (username, client address): ``login_failures_per_address`` failures are free (typos),
  then the next attempt must wait ``login_delay_seconds``, doubling with each further
  failure up to ``login_max_delay_minutes``. A success from that address clears it. An
  attacker's address slows down; the owner, from their own address, is not affected.
* Per username, over every address: the same, after the looser
  ``login_failures_per_account``, so guessing from many addresses is bounded too (with the
  defaults: 20 guesses, then about one an hour). It does not apply to an address the user
  logged in from in the last ``login_known_address_days``: the owner's usual addresses get
  in while a distributed attack holds the username's counter down; a new address of theirs
  waits like the attacker. A run of failures is forgotten ``login_forget_hours`` after its
  last counted attempt.
* Counted in the database, atomically: one upsert per counter that increments only when an
  attempt is allowed (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``), on SQLite and
  PostgreSQL alike. Concurrent attempts queue on the row, so each is counted; the password
  check's answer is used only if its attempt was counted, so a burst of parallel guesses gets
  no more answers than the same guesses one by one. The count happens after the argon2 check
  so no lock is held while hashing (the route commits straight after).
* Keyed by the username as typed, whether or not it exists, and every failure does the same
  work (one argon2 verification, against the user's hash or a dummy one, even when throttled
  or deactivated) and gets the same answer (:data:`LOGIN_FAILED`, one message that also says
  to wait), so neither the answer nor its timing tells an unknown username from a known one.
* Rows stay bounded: idle counters are deleted on every attempt (:func:`prune_login_throttles`).

The client address is a plain string from the caller (the web app uses the socket's peer; a
proxy's X-Forwarded-For only when ``login_trust_forwarded_for`` says so). Behind a proxy
without that setting every client shares one address: the per-address delay then acts per
username (still a delay, never a lock).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import case, delete, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from assistant.models import LoginThrottle, User, utcnow
from assistant.users import dummy_hash, get_user_by_username, verify_password

LOGIN_FAILED = (
    "Incorrect username or password. After several failed attempts, wait a few minutes "
    "before trying again."
)
# The throttle row for a username over every address it has not logged in from lately; a
# real client address (from the socket, or a proxy's header) is never "*".
ANY_ADDRESS = "*"


@dataclass(frozen=True)
class LoginLimits:
    """How hard login failures are throttled (values from Settings, see the module docstring)."""

    failures_per_address: int
    failures_per_account: int
    delay: dt.timedelta
    max_delay: dt.timedelta
    forget_after: dt.timedelta
    known_address_for: dt.timedelta

    @classmethod
    def from_settings(cls, settings) -> "LoginLimits":
        """The limits configured in :class:`assistant.config.Settings`."""
        return cls(
            failures_per_address=settings.login_failures_per_address,
            failures_per_account=settings.login_failures_per_account,
            delay=dt.timedelta(seconds=settings.login_delay_seconds),
            max_delay=dt.timedelta(minutes=settings.login_max_delay_minutes),
            forget_after=dt.timedelta(hours=settings.login_forget_hours),
            known_address_for=dt.timedelta(days=settings.login_known_address_days),
        )

    def wait_after(self, failures: int, free: int) -> dt.timedelta:
        """How long the next attempt must wait after ``failures`` counted ones, ``free`` of
        which cost nothing: ``delay`` after the ``free``-th, doubling up to ``max_delay``."""
        if failures < free:
            return dt.timedelta(0)
        doublings = failures - free
        if doublings >= 32 or self.delay * (2 ** doublings) >= self.max_delay:
            return self.max_delay
        return self.delay * (2 ** doublings)


@dataclass(frozen=True)
class LoginOutcome:
    """The result of :func:`authenticate`: the user when the login succeeded, else None.

    ``throttled`` (for logs and tests only) says the attempt was refused without its password
    counting; the caller must answer exactly as for a wrong password."""

    user: Optional[User]
    throttled: bool = False


def _address_key(address: Optional[str]) -> str:
    address = (address or "").strip()[:64] or "unknown"
    return "unknown" if address == ANY_ADDRESS else address


def _throttle_state(username: str, address: str, *, session: Session) -> dict:
    """The pair row and the account row for ``username``, by address (plain values: the
    counters are changed with SQL below, which an identity-mapped object would not see)."""
    t = LoginThrottle.__table__
    rows = session.execute(
        select(t.c.address, t.c.failures, t.c.last_failure_at, t.c.next_allowed_at, t.c.last_success_at)
        .where(t.c.username == username, t.c.address.in_([address, ANY_ADDRESS]))
    ).all()
    return {row.address: row for row in rows}


def _waiting(row, now: dt.datetime, limits: LoginLimits) -> bool:
    """True if the counter ``row`` (or None) refuses an attempt at ``now``."""
    if row is None or row.last_failure_at < now - limits.forget_after:
        return False
    return row.next_allowed_at > now


def _claim(username: str, address: str, free: int, now: dt.datetime, limits: LoginLimits, *,
           session: Session) -> bool:
    """Count one checked attempt against the counter (``username``, ``address``) if it allows
    one at ``now``; True if it did.

    One statement (insert, or update where allowed), so the database decides: concurrent
    attempts queue on the row (PostgreSQL's row lock, SQLite's write lock) and each sees the
    count the others left, so no more than the allowed number are ever counted as allowed.
    """
    t = LoginThrottle.__table__
    forget_before = now - limits.forget_after
    # a run of failures older than forget_after starts again at 1
    failures = case((t.c.last_failure_at < forget_before, 1), else_=t.c.failures + 1)
    # the wait for each count is computed here (the backends share no power or least
    # function); beyond the listed counts it is max_delay
    whens, n = [(failures < free, now)], free
    while limits.wait_after(n, free) < limits.max_delay:
        whens.append((failures == n, now + limits.wait_after(n, free)))
        n += 1
    next_allowed_at = case(*whens, else_=now + limits.max_delay)
    insert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(t)
    statement = insert.values(
        username=username, address=address, failures=1, last_failure_at=now,
        next_allowed_at=now + limits.wait_after(1, free),
    ).on_conflict_do_update(
        index_elements=[t.c.username, t.c.address],
        set_={"failures": failures, "last_failure_at": now, "next_allowed_at": next_allowed_at},
        where=or_(t.c.next_allowed_at <= now, t.c.last_failure_at < forget_before),
    )
    return session.execute(statement).rowcount == 1


def prune_login_throttles(*, limits: LoginLimits, now: Optional[dt.datetime] = None, session: Session,
                          batch: int = 500) -> int:
    """Delete up to ``batch`` counters that can no longer refuse anything and no longer mark
    a known address; returns how many. Called on every login attempt (which adds at most
    two), so the table stays bounded by the attempts of the last ``forget_after`` (or
    ``max_delay``, if longer)."""
    now = now or utcnow()
    t = LoginThrottle.__table__
    idle_before = now - max(limits.forget_after, limits.max_delay)
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway): rows a login is counting right
    # now are left for next time rather than waited for, which could deadlock with it
    idle = (
        select(t.c.username, t.c.address)
        .where(t.c.last_failure_at < idle_before,
               or_(t.c.last_success_at.is_(None), t.c.last_success_at < now - limits.known_address_for))
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    return session.execute(delete(t).where(tuple_(t.c.username, t.c.address).in_(idle))).rowcount


def authenticate(
    username: str, password: str, *, address: str, limits: LoginLimits, session: Session,
    now: Optional[dt.datetime] = None,
) -> LoginOutcome:
    """Check a login from client ``address`` (a plain string: the caller knows where it came
    from). Counts and throttles attempts as the module docstring describes; every failure
    (unknown or deactivated user, wrong password, throttled) takes the same work and
    returns the same :class:`LoginOutcome` but for ``throttled``. Answer every failure with
    :data:`LOGIN_FAILED`, and commit even on failure (the count must be kept)."""
    now = now or utcnow()
    dummy = dummy_hash()  # created before anything else, so no first attempt of a kind pays for it
    name = (username or "").strip().lower()[:200]
    address = _address_key(address)
    state = _throttle_state(name, address, session=session)
    pair = state.get(address)
    known = bool(pair is not None and pair.last_success_at is not None
                 and pair.last_success_at >= now - limits.known_address_for)
    throttled = _waiting(pair, now, limits) or (not known and _waiting(state.get(ANY_ADDRESS), now, limits))
    user = get_user_by_username(name, session=session)
    candidate = user if user is not None and user.active and not throttled else None
    # Always one argon2 verification, against the user's hash or the dummy one, so an
    # unknown, deactivated or throttled username costs as long as a wrong password.
    matches = verify_password(candidate.password_hash if candidate else dummy, password or "")
    if throttled:
        # Note the refusal (for the record, and so a refused attempt writes as much as a
        # counted one and takes as long).
        t = LoginThrottle.__table__
        for row_address in (address, ANY_ADDRESS):  # one at a time, in the order claims lock them
            session.execute(update(t).where(t.c.username == name, t.c.address == row_address)
                            .values(refused=t.c.refused + 1))
    else:
        # Counted after the (slow) check, so no lock is held while hashing; the check's
        # answer is only used if the attempt could be counted, so attempts racing past the
        # read above learn nothing. The account counter is claimed only once the pair one
        # is, so an address that is already waiting can't run it up.
        throttled = not _claim(name, address, limits.failures_per_address, now, limits, session=session)
        if not throttled and not known:
            throttled = not _claim(name, ANY_ADDRESS, limits.failures_per_account, now, limits, session=session)
    prune_login_throttles(limits=limits, now=now, session=session)
    if throttled or candidate is None or not matches:
        return LoginOutcome(None, throttled=throttled)
    t = LoginThrottle.__table__
    session.execute(update(t).where(t.c.username == name, t.c.address == address).values(
        failures=0, next_allowed_at=now, last_success_at=now,
    ))
    if not known:
        # take back this attempt's count on the account counter (its wait stays as set: at
        # most one step longer for other new addresses, and only during an attack)
        session.execute(update(t).where(t.c.username == name, t.c.address == ANY_ADDRESS, t.c.failures > 0)
                        .values(failures=t.c.failures - 1))
    return LoginOutcome(candidate)
