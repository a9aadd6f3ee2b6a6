"""The programme team's FAQ editing: list, edit with optimistic locking, create,
history and one-click revert, examples, audit (``*, session``; never commit)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Dict, List, Optional

from pydantic import ValidationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from assistant.content import FaqContent, set_examples
from assistant.errors import Conflict, DomainError, NotFound
from assistant.models import AuditEntry, Faq, FaqExample, FaqRevision, User, utcnow

EDITABLE = ("category", "question", "answer", "source", "status", "last_reviewed", "review_by")
TRAINING_FIELDS = ("examples", "status")  # changes to these need a new model


class FaqAdminError(DomainError):
    """A change that cannot be made (message safe to show); on its own, invalid content."""


class FaqNotFound(FaqAdminError, NotFound):
    """No FAQ with that key, or no such change to revert."""


class FaqConflict(FaqAdminError, Conflict):
    """A newer version was saved meanwhile, or the key is taken."""


def snapshot(faq: Faq) -> Dict:
    """A JSON-able copy of everything editable about an FAQ."""
    return {
        "key": faq.key, "category": faq.category, "question": faq.question, "answer": faq.answer,
        "source": faq.source, "status": faq.status,
        "last_reviewed": faq.last_reviewed.isoformat() if faq.last_reviewed else None,
        "review_by": faq.review_by.isoformat() if faq.review_by else None,
        "examples": [e.text for e in faq.examples], "version": faq.version,
    }


def audit(user: Optional[User], action: str, target: str, detail: Optional[Dict] = None, *, session: Session) -> None:
    """Record a change in the audit log."""
    session.add(AuditEntry(user_id=user.id if user else None, action=action, target=target,
                           detail=json.dumps(detail, default=str) if detail else None))


def _validated(data: Dict) -> FaqContent:
    try:
        return FaqContent.parse_obj(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise FaqAdminError(f"Please correct: {problems}")


def get_faq(key: str, *, session: Session) -> Faq:
    """The FAQ with ``key`` (any status), or :class:`FaqNotFound`."""
    faq = session.scalars(select(Faq).options(selectinload(Faq.examples)).where(Faq.key == key)).first()
    if faq is None:
        raise FaqNotFound("That FAQ was not found.")
    return faq


def list_faqs(*, query: str = "", category: str = "", session: Session) -> List[Faq]:
    """FAQs matching a search (question, answer, key or example) and category."""
    stmt = select(Faq).options(selectinload(Faq.examples)).order_by(Faq.category, Faq.key)
    if category:
        stmt = stmt.where(Faq.category == category)
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Faq.question).like(like), func.lower(Faq.answer).like(like),
                              func.lower(Faq.key).like(like),
                              Faq.id.in_(select(FaqExample.faq_id).where(func.lower(FaqExample.text).like(like)))))
    return list(session.scalars(stmt))


def is_overdue(faq: Faq, today: Optional[dt.date] = None) -> bool:
    """True if the FAQ's review-by date has passed."""
    return bool(faq.review_by and faq.review_by < (today or dt.date.today()))


def _apply(faq: Faq, item: FaqContent) -> None:
    for field in EDITABLE:
        setattr(faq, field, getattr(item, field))
    set_examples(faq, item.examples)


def record_revision(faq: Faq, action: str, before: Optional[Dict], user: Optional[User], *, session: Session) -> FaqRevision:
    rev = FaqRevision(faq_key=faq.key, version=faq.version, action=action, changed_by=user.id if user else None,
                      before=json.dumps(before, default=str) if before else None,
                      after=json.dumps(snapshot(faq), default=str))
    session.add(rev)
    audit(user, f"faq.{action}", faq.key, {"version": faq.version}, session=session)
    return rev


CONFLICT = ("Someone else changed this FAQ since you opened it. Your text is kept below: "
            "copy it, reload to see their version, and save again.")


def _conflict(faq: Faq, yours: Dict, *, session: Session) -> FaqConflict:
    """The refusal, with the FAQ as saved now (re-read: the copy in the session is stale)."""
    current = session.scalars(select(Faq).options(selectinload(Faq.examples)).where(Faq.id == faq.id)
                              .execution_options(populate_existing=True)).one()
    return FaqConflict(CONFLICT, current=snapshot(current), yours=yours)


def _claim(faq: Faq, expected: int, yours: Dict, *, session: Session) -> None:
    """Take version ``expected + 1`` of ``faq`` if the database still holds ``expected``,
    else raise :class:`FaqConflict` with the FAQ as saved now and the caller's ``yours``.

    Reading the version and writing later is a race (two editors both read v, both save).
    A conditional UPDATE is atomic on both databases: PostgreSQL makes the second wait for
    the row lock and re-checks the condition once the first commits; SQLite has one writer
    at a time. So of two saves from one version exactly one matches the row. It must be the
    unit of work's first write to the FAQ (autoflush would otherwise write the loser's
    changes first), so the loser has changed nothing and can still read the winner's text."""
    claimed = session.execute(
        update(Faq).where(Faq.id == faq.id, Faq.version == expected).values(version=expected + 1)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise _conflict(faq, yours, session=session)
    set_committed_value(faq, "version", expected + 1)  # the session's copy = the database


def _saved(faq: Faq, action: str, before: Dict, user: User, *, session: Session) -> Faq:
    """Stamp who and when and record the revision (after :func:`_claim`: one per save)."""
    faq.updated_at, faq.updated_by = utcnow(), user.id
    session.flush()
    record_revision(faq, action, before, user, session=session)
    return faq


def needs_training(before: Optional[Dict], after: Dict) -> bool:
    """True if a change alters what the model must learn (examples, or published status)."""
    if before is None:
        return after["status"] == "published"
    return any(before.get(f) != after.get(f) for f in TRAINING_FIELDS)


def update_faq(key: str, changes: Dict, *, expected_version: int, user: User, session: Session) -> Faq:
    """Apply ``changes``; refused (:class:`FaqConflict`, with both versions) if someone else
    saved since ``expected_version``, whether this request read their save or not."""
    faq = get_faq(key, session=session)
    if faq.version != expected_version:
        raise FaqConflict(CONFLICT, current=snapshot(faq), yours=changes)
    before = snapshot(faq)
    merged = {**before, **{k: v for k, v in changes.items() if k in EDITABLE or k == "examples"}}
    merged.pop("version", None)
    item = _validated(merged)
    _claim(faq, expected_version, changes, session=session)
    _apply(faq, item)
    return _saved(faq, "edit", before, user, session=session)


def create_faq(data: Dict, *, user: User, session: Session) -> Faq:
    """Add a new FAQ (draft or published); duplicate keys are refused."""
    item = _validated({"status": "draft", **data})
    if session.scalars(select(Faq.id).where(Faq.key == item.key)).first() is not None:
        raise FaqConflict(f"An FAQ with the key {item.key!r} already exists.")
    faq = Faq(key=item.key, version=1, updated_by=user.id)
    _apply(faq, item)
    session.add(faq)
    session.flush()
    record_revision(faq, "create", None, user, session=session)
    return faq


def history(key: str, *, session: Session) -> List[FaqRevision]:
    """The FAQ's revisions, newest first."""
    return list(session.scalars(select(FaqRevision).where(FaqRevision.faq_key == key)
                                .order_by(FaqRevision.id.desc())))


def revert(key: str, revision_id: int, *, user: User, session: Session) -> Faq:
    """Undo one change: restore the FAQ as it was before that revision (a new revision)."""
    faq = get_faq(key, session=session)
    rev = session.get(FaqRevision, revision_id)
    if rev is None or rev.faq_key != key or not rev.before:
        raise FaqNotFound("That change can't be reverted.")
    old = json.loads(rev.before)
    before = snapshot(faq)
    old.pop("version", None)
    item = _validated(old)
    _claim(faq, before["version"], {"revert": revision_id}, session=session)
    _apply(faq, item)
    return _saved(faq, "revert", before, user, session=session)


def add_example(key: str, text: str, *, user: User, session: Session) -> Faq:
    """Add one example question to an FAQ (for example from the review queue)."""
    faq = get_faq(key, session=session)
    before = snapshot(faq)
    texts = before["examples"] + [text.strip()]
    _validated({**before, "examples": texts})
    _claim(faq, before["version"], {"examples": texts}, session=session)
    set_examples(faq, texts)
    return _saved(faq, "example", before, user, session=session)
