"""Reflection prompts (from managers, or after a recorded supervision session) and
supervision sessions (``*, session``; never commit). Prompts live in the database,
so they survive restarts.

The database keeps naive UTC datetimes; working hours and "today" are local time in
``Settings.timezone`` (Europe/London by default), so a prompt due "at 9" arrives at 9 on the
practitioner's clock in British Summer Time too (08:00 UTC), not an hour late."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assistant.config import get_settings
from assistant.models import ReflectionPrompt, SupervisionSession, User, utcnow
from assistant.reflections import ReflectionError, ReflectionNotAllowed, ReflectionNotFound, get_set

MAX_NOTE_CHARS = 1000


def zone(tz: str | None = None) -> ZoneInfo:
    """The time zone ``tz``, else the one in the settings (Europe/London unless configured)."""
    if tz is None:
        tz = get_settings().timezone  # read when used: settings are never read at import
    return ZoneInfo(tz)


def local_today(tz: str | None = None, *, now: dt.datetime | None = None) -> dt.date:
    """Today's date in ``tz`` (default: the settings' zone); ``now`` is naive UTC (for tests)."""
    return (now or utcnow()).replace(tzinfo=dt.timezone.utc).astimezone(zone(tz)).date()


def next_working_time(when: dt.datetime, *, start_hour: int, end_hour: int, tz: str | None = None) -> dt.datetime:
    """``when`` (naive UTC, as stored) if it falls in working hours (Mon-Fri, start..end on the
    clock in ``tz``), else the next start of a working day; returned as naive UTC."""
    local = when.replace(tzinfo=dt.timezone.utc).astimezone(zone(tz))
    if local.weekday() < 5 and start_hour <= local.hour < end_hour:
        return when
    if local.weekday() < 5 and local.hour < start_hour:
        start = local.replace(hour=start_hour, minute=0, second=0, microsecond=0)
    else:
        # ZoneInfo datetimes add days on the wall clock, so "next day at 9" stays 9 across a clock change
        start = (local + dt.timedelta(days=1)).replace(hour=start_hour, minute=0, second=0, microsecond=0)
        while start.weekday() >= 5:
            start += dt.timedelta(days=1)
    return start.astimezone(dt.timezone.utc).replace(tzinfo=None)


def create_prompts(
    *, manager: User, practitioner_ids: Iterable[int], set_key: str | None, note: str | None,
    due_date: dt.date | None, session: Session, tz: str | None = None,
) -> list[ReflectionPrompt]:
    """A manager asks members of their own team to reflect. Anyone outside the team is refused,
    and so is a due date before today in ``tz`` (default: the settings' zone)."""
    if manager.role != "manager":
        raise ReflectionNotAllowed("Only line managers can send reflection prompts.")
    ids = list(dict.fromkeys(practitioner_ids))
    if not ids:
        raise ReflectionError("Choose at least one person from your team.")
    set_row = get_set(set_key, session=session)
    if set_row is None:
        raise ReflectionError(f"There is no question set called {set_key!r}.")
    if note and len(note) > MAX_NOTE_CHARS:
        raise ReflectionError(f"The note can be up to {MAX_NOTE_CHARS:,} characters.")
    team = {u.id: u for u in session.scalars(select(User).where(User.manager_id == manager.id, User.active.is_(True)))}
    outside = [i for i in ids if i not in team]
    if outside:
        raise ReflectionNotAllowed("You can only prompt people in your own team.")
    if due_date and due_date < local_today(tz):
        raise ReflectionError("The due date is in the past.")
    prompts = [ReflectionPrompt(practitioner_id=i, manager_id=manager.id, set_key=set_row.key,
                                note=(note or "").strip() or None, due_date=due_date) for i in ids]
    session.add_all(prompts)
    session.flush()
    return prompts


def record_session(
    *, practitioner_id: int, occurred_at: dt.datetime | None, external_ref: str | None,
    created_by: int | None, delay_minutes: int, start_hour: int, end_hour: int, session: Session,
    tz: str | None = None, caller: User | None = None,
) -> tuple:
    """Record a supervision session and a reflection prompt for after it, delivered in working
    hours in ``tz`` (default: the settings' zone); ``occurred_at`` is naive UTC. A replay
    with the same ``external_ref`` returns the first records. Returns (session, prompt, created).

    ``caller`` is the logged-in user (None for a trusted case-management system): a
    practitioner records only their own sessions, a manager their team's, nobody else any."""
    practitioner = session.get(User, practitioner_id)
    if caller is not None:
        allowed = caller.id == practitioner_id or (
            caller.role == "manager" and practitioner is not None and practitioner.manager_id == caller.id)
        if caller.role == "programme" or not allowed:
            raise ReflectionNotAllowed("You can only record sessions for yourself or your own team.")
    if practitioner is None or not practitioner.active or practitioner.role != "practitioner":
        raise ReflectionNotFound("Unknown practitioner.")
    if external_ref:
        existing = session.scalars(select(SupervisionSession).where(
            SupervisionSession.practitioner_id == practitioner_id,
            SupervisionSession.external_ref == external_ref)).first()
        if existing is not None:
            prompt = session.scalars(select(ReflectionPrompt).where(
                ReflectionPrompt.session_id == existing.id)).first()
            return existing, prompt, False
    occurred_at = occurred_at or utcnow()
    if occurred_at > utcnow() + dt.timedelta(minutes=5):
        raise ReflectionError("A session can't be recorded before it has happened.")
    row = SupervisionSession(practitioner_id=practitioner_id, occurred_at=occurred_at,
                             external_ref=external_ref, created_by=created_by)
    session.add(row)
    session.flush()
    default = get_set(None, session=session)
    deliver = next_working_time(max(occurred_at, utcnow() - dt.timedelta(days=30))
                                + dt.timedelta(minutes=delay_minutes), start_hour=start_hour, end_hour=end_hour, tz=tz)
    prompt = ReflectionPrompt(practitioner_id=practitioner_id, session_id=row.id,
                              set_key=default.key if default else "what_so_what_now_what",
                              note="A supervision session was recorded: take a few minutes to reflect on it.",
                              deliver_after=deliver)
    session.add(prompt)
    session.flush()
    return row, prompt, True


def pending_prompts(practitioner_id: int, *, session: Session, now: dt.datetime | None = None) -> list[ReflectionPrompt]:
    """Prompts due to be shown now (not dismissed, completed or snoozed); marks them delivered."""
    now = now or utcnow()
    rows = list(session.scalars(select(ReflectionPrompt).where(
        ReflectionPrompt.practitioner_id == practitioner_id,
        ReflectionPrompt.status.in_(("pending", "started")),
        ReflectionPrompt.deliver_after <= now,
        or_(ReflectionPrompt.snoozed_until.is_(None), ReflectionPrompt.snoozed_until <= now),
    ).order_by(ReflectionPrompt.created_at)))
    for row in rows:
        row.delivered_at = row.delivered_at or now
    return rows


def own_prompt(prompt_id: int, practitioner_id: int, *, session: Session) -> ReflectionPrompt:
    """The practitioner's own prompt, or :class:`ReflectionNotFound`."""
    row = session.get(ReflectionPrompt, prompt_id)
    if row is None or row.practitioner_id != practitioner_id:
        raise ReflectionNotFound("That reflection prompt was not found.")
    return row


def snooze(prompt: ReflectionPrompt, hours: int, *, session: Session) -> ReflectionPrompt:
    """Hide a prompt for ``hours`` (1 to 168)."""
    if not 1 <= hours <= 168:
        raise ReflectionError("Snooze for between 1 hour and 7 days.")
    prompt.snoozed_until = utcnow() + dt.timedelta(hours=hours)
    session.flush()
    return prompt


def dismiss(prompt: ReflectionPrompt, *, session: Session) -> ReflectionPrompt:
    """Dismiss a prompt (the manager sees it as not completed, nothing more)."""
    prompt.status = "dismissed"
    session.flush()
    return prompt


def outstanding_for_manager(manager_id: int, *, session: Session) -> list[ReflectionPrompt]:
    """Prompts this manager sent that are not yet completed or dismissed."""
    return list(session.scalars(select(ReflectionPrompt).where(
        ReflectionPrompt.manager_id == manager_id, ReflectionPrompt.status.in_(("pending", "started")),
    ).order_by(ReflectionPrompt.created_at.desc())))
