"""Reflection data functions (``*, session``; never commit): question sets, saving
answers idempotently, completion, sharing, deletion and retention (exports:
:mod:`assistant.reflection_exports`)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Dict, List, Optional

import yaml
from pydantic import BaseModel, conlist, constr
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from assistant import tracker_events
from assistant.content import ContentError
from assistant.db import mark_erased
from assistant.errors import Conflict, DomainError, NotAllowed, NotFound
from assistant.models import (
    Reflection, ReflectionAnswer, ReflectionPrompt, ReflectionQuestion, ReflectionSet, User, utcnow,
)

MAX_QUESTIONS = 7
MAX_ANSWER_CHARS = 4000


class QuestionContent(BaseModel):
    id: constr(regex=r"^[a-z][a-z0-9_]{0,63}$")
    ask: constr(strip_whitespace=True, min_length=5, max_length=500)


class SetContent(BaseModel):
    key: constr(regex=r"^[a-z][a-z0-9_]{1,63}$")
    name: constr(strip_whitespace=True, min_length=2, max_length=200)
    source: constr(strip_whitespace=True, min_length=2, max_length=1000)
    default: bool = False
    questions: conlist(QuestionContent, min_items=1, max_items=MAX_QUESTIONS)


class ReflectionError(DomainError):
    """A reflection operation that cannot be done (message is safe to show); on its own, bad input."""


class AnswerTaken(ReflectionError, Conflict):
    """The question already has an answer from another message (the form was behind)."""

    code = "answer_taken"


class ReflectionNotFound(ReflectionError, NotFound):
    """No such reflection or prompt, or not the caller's own (they are told the same)."""


class ReflectionNotAllowed(ReflectionError, NotAllowed):
    """The caller's role or team does not allow this."""


def load_set_file(path: Path) -> List[SetContent]:
    """Read and validate the reflection sets file."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        items = [SetContent.parse_obj(x) for x in raw]
    except Exception as exc:  # YAML or validation: report as content error
        raise ContentError(f"{path}: {exc}") from exc
    if len({i.key for i in items}) != len(items) or sum(i.default for i in items) != 1:
        raise ContentError(f"{path}: keys must be unique and exactly one set must be the default")
    return items


def seed_sets(items: List[SetContent], *, session: Session) -> int:
    """Insert or update question sets from content; returns how many were written."""
    existing = {s.key: s for s in session.scalars(select(ReflectionSet).options(selectinload(ReflectionSet.questions)))}
    for item in items:
        row = existing.get(item.key) or ReflectionSet(key=item.key)
        row.name, row.source, row.is_default, row.active = item.name, item.source, item.default, True
        # Update questions in place by id: replacing the list would insert the new rows
        # before deleting the old ones and break the (set, question id) unique constraint.
        current = {q.qid: q for q in row.questions}
        questions = []
        for i, q in enumerate(item.questions):
            question = current.get(q.id) or ReflectionQuestion(qid=q.id)
            question.position, question.ask = i, q.ask
            questions.append(question)
        row.questions = questions
        session.add(row)
        session.flush()
    return len(items)


def get_set(key: Optional[str], *, session: Session) -> Optional[ReflectionSet]:
    """The active set with ``key``, the default set if ``key`` is None, else None."""
    query = select(ReflectionSet).options(selectinload(ReflectionSet.questions)).where(ReflectionSet.active.is_(True))
    query = query.where(ReflectionSet.key == key) if key else query.where(ReflectionSet.is_default.is_(True))
    return session.scalars(query).first()


def list_sets(*, session: Session) -> List[ReflectionSet]:
    """Active sets, default first."""
    return list(session.scalars(
        select(ReflectionSet).options(selectinload(ReflectionSet.questions))
        .where(ReflectionSet.active.is_(True)).order_by(ReflectionSet.is_default.desc(), ReflectionSet.id)
    ))


def open_reflection(author_id: int, *, session: Session) -> Optional[Reflection]:
    """The author's reflection in progress (the latest), if any."""
    return session.scalars(
        select(Reflection).options(selectinload(Reflection.answers))
        .where(Reflection.author_id == author_id, Reflection.status == "in_progress")
        .order_by(Reflection.started_at.desc(), Reflection.id.desc())
    ).first()


def start_reflection(
    *, author_id: int, run_id: str, set_row: ReflectionSet, prompt_id: Optional[int] = None,
    session_id: Optional[int] = None, session: Session,
) -> Reflection:
    """Create the reflection for this form run, or return the one already created (idempotent)."""
    row = session.scalars(
        select(Reflection).where(Reflection.author_id == author_id, Reflection.run_id == run_id)
    ).first()
    if row is not None:
        return row
    if prompt_id is not None:
        prompt = session.get(ReflectionPrompt, prompt_id)
        if prompt is None or prompt.practitioner_id != author_id:
            prompt_id = None
        else:
            prompt.status = "started"
            session_id = session_id or prompt.session_id
    row = Reflection(author_id=author_id, run_id=run_id, set_key=set_row.key, set_name=set_row.name,
                     prompt_id=prompt_id, session_id=session_id)
    session.add(row)
    session.flush()
    return row


def get_own(reflection_id: int, author_id: int, *, session: Session) -> Reflection:
    """The author's reflection, or :class:`ReflectionError`."""
    row = session.get(Reflection, reflection_id)
    if row is None or row.author_id != author_id:
        raise ReflectionNotFound("That reflection was not found.")
    return row


def save_answer(
    reflection: Reflection, *, position: int, qid: str, question: str, answer: Optional[str],
    masked_count: int = 0, message_id: Optional[str] = None, session: Session,
) -> ReflectionAnswer:
    """Store one answer (None = skipped). Saving it again from the same message (a retried
    turn) replaces it; an answer from another message raises :class:`AnswerTaken`, so an
    answer the practitioner was told was saved is never overwritten."""
    if answer is not None and len(answer) > MAX_ANSWER_CHARS:
        raise ReflectionError(f"Answers can be up to {MAX_ANSWER_CHARS:,} characters.")
    row = session.scalars(select(ReflectionAnswer).where(
        ReflectionAnswer.reflection_id == reflection.id, ReflectionAnswer.qid == qid)).first()
    if row is None:
        row = ReflectionAnswer(reflection_id=reflection.id, qid=qid, position=position, question=question)
        session.add(row)
    elif message_id and row.message_id and row.message_id != message_id:
        raise AnswerTaken("That question already has an answer.")
    row.answer, row.skipped, row.masked_count = answer, answer is None, masked_count
    row.message_id = message_id or row.message_id
    reflection.updated_at = utcnow()
    session.flush()
    return row


def first_unanswered(reflection: Reflection, set_row: ReflectionSet) -> Optional[int]:
    """The position (1-based) of the first question of the set with no saved answer, or None."""
    answered = {a.qid for a in reflection.answers}
    for n, question in enumerate(set_row.questions, start=1):
        if question.qid not in answered:
            return n
    return None


# How long after a reflection was last touched what its author types may still be part of it
REFLECTING_HOURS = 2.0


def reflecting_recently(author_id: int, *, hours: float, session: Session,
                        now: Optional[dt.datetime] = None) -> bool:
    """True if the author has a reflection in progress touched in the last ``hours``: what
    they type may be part of it, so it must not be kept anywhere else (the review queue)."""
    since = (now or utcnow()) - dt.timedelta(hours=hours)
    return session.scalars(select(Reflection.id).where(
        Reflection.author_id == author_id, Reflection.status == "in_progress",
        Reflection.updated_at >= since).limit(1)).first() is not None


def complete(reflection: Reflection, *, session: Session) -> Reflection:
    """Mark a reflection completed (and its prompt, if any)."""
    if reflection.status != "completed":
        reflection.status, reflection.completed_at = "completed", utcnow()
        if reflection.prompt_id:
            prompt = session.get(ReflectionPrompt, reflection.prompt_id)
            if prompt is not None:
                prompt.status, prompt.completed_at = "completed", utcnow()
    session.flush()
    return reflection


def set_shared(reflection: Reflection, shared: bool, *, session: Session) -> Optional[User]:
    """Share with (or withhold from) the author's line manager of today; returns that person
    if shared. The share is recorded with that person: a later change of line manager does
    not pass it on (sharing again shares with the new manager instead)."""
    author = session.get(User, reflection.author_id)
    manager = author.manager if author else None
    if shared and manager is None:
        raise ReflectionError("You don't have a line manager set up, so this reflection stays private.")
    reflection.shared = bool(shared)
    reflection.shared_at = utcnow() if shared else None
    reflection.shared_with_id = manager.id if shared else None
    session.flush()
    return manager if shared else None


def list_own(author_id: int, *, session: Session) -> List[Reflection]:
    """The author's reflections, newest first."""
    return list(session.scalars(
        select(Reflection).options(selectinload(Reflection.answers))
        .where(Reflection.author_id == author_id).order_by(Reflection.started_at.desc(), Reflection.id.desc())
    ))


def readable_by(reflection: Reflection, user: User, *, session: Session) -> bool:
    """The privacy rule: the author always; the person it was shared with (their line manager
    when it was shared) while it is shared; nobody else."""
    if reflection.author_id == user.id:
        return True
    return bool(reflection.shared) and reflection.shared_with_id is not None \
        and reflection.shared_with_id == user.id and user.role == "manager"


def shared_with_manager(manager_id: int, *, session: Session) -> List[Reflection]:
    """Reflections their authors chose to share with this manager (whoever manages them now)."""
    return list(session.scalars(
        select(Reflection).options(selectinload(Reflection.answers))
        .where(Reflection.shared_with_id == manager_id, Reflection.shared.is_(True))
        .order_by(Reflection.completed_at.desc())
    ))


def _delete_tracker_text(reflection: Reflection, *, session: Session) -> None:
    """Remove the reflection's turns from Rasa's tracker store (the same database): the
    text-bearing events of its author's conversation while it was open, with a few seconds'
    margin either side for the turns that started and ended it."""
    start = reflection.started_at - dt.timedelta(seconds=5)
    end = (reflection.completed_at or reflection.updated_at or utcnow()) + dt.timedelta(seconds=5)
    tracker_events.delete_turns(str(reflection.author_id), start, end, session=session)


def delete_own(reflection_id: int, author_id: int, *, session: Session) -> None:
    """Delete one of the author's reflections, with its text in the conversation store."""
    row = get_own(reflection_id, author_id, session=session)
    _delete_tracker_text(row, session=session)
    session.delete(row)
    session.flush()
    mark_erased(session)


def purge(retention_days: int, *, session: Session, now: Optional[dt.datetime] = None) -> int:
    """Delete reflections (and their conversation text) older than the retention period."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    old = list(session.scalars(select(Reflection).where(
        func.coalesce(Reflection.completed_at, Reflection.updated_at) < cutoff)))
    for row in old:
        _delete_tracker_text(row, session=session)
        session.delete(row)
    tracker_events.delete_before(cutoff, session=session)
    session.execute(delete(ReflectionPrompt).where(ReflectionPrompt.created_at < cutoff))
    session.flush()
    mark_erased(session)
    return len(old)


def weekly_counts(manager_id: int, *, weeks: int, session: Session, now: Optional[dt.datetime] = None) -> List[Dict]:
    """Per team member and ISO week: prompts sent and reflections completed (counts only)."""
    now = now or utcnow()
    since = now - dt.timedelta(weeks=weeks)
    team = list(session.scalars(select(User).where(User.manager_id == manager_id, User.active.is_(True))
                                .order_by(User.display_name)))
    rows = []
    for member in team:
        prompts = session.scalars(select(ReflectionPrompt.created_at).where(
            ReflectionPrompt.practitioner_id == member.id, ReflectionPrompt.created_at >= since)).all()
        done = session.scalars(select(Reflection.completed_at).where(
            Reflection.author_id == member.id, Reflection.status == "completed",
            Reflection.completed_at >= since)).all()
        by_week: Dict[str, Dict[str, int]] = {}
        for stamp, kind in [(p, "prompted") for p in prompts] + [(c, "completed") for c in done]:
            year, week, _ = stamp.isocalendar()
            key = f"{year}-W{week:02d}"
            by_week.setdefault(key, {"prompted": 0, "completed": 0})[kind] += 1
        rows.append({"user_id": member.id, "display_name": member.display_name,
                     "weeks": [dict(week=k, **v) for k, v in sorted(by_week.items(), reverse=True)]})
    return rows
