"""FAQ data functions used by the actions and the web app (``*, session``; no commits)."""
from __future__ import annotations

from typing import Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.errors import NotFound
from assistant.models import AnswerFeedback, AnswerLog, Faq, UnansweredQuestion, User, utcnow

MAX_STORED_QUESTION_CHARS = 2000


def get_published_faq(key: str, *, session: Session) -> Optional[Faq]:
    """The published FAQ with ``key``, or None."""
    return session.scalars(select(Faq).where(Faq.key == key, Faq.status == "published")).first()


def faq_questions(keys: List[str], *, session: Session) -> Dict[str, str]:
    """Canonical question per published key (for "Did you mean" buttons)."""
    if not keys:
        return {}
    rows = session.execute(
        select(Faq.key, Faq.question).where(Faq.key.in_(keys), Faq.status == "published")
    )
    return {key: question for key, question in rows}


def user_id_for_sender(sender_id: str, *, session: Session) -> Optional[int]:
    """The user id behind a Rasa sender id (the web app sends the user's id), or None."""
    if not sender_id or not sender_id.isdigit():
        return None
    user = session.get(User, int(sender_id))
    return user.id if user else None


def _insert_once(obj, unique_filter, *, session: Session) -> bool:
    """Add ``obj`` unless a row matching ``unique_filter`` exists; True if added."""
    if session.scalars(select(type(obj)).where(unique_filter)).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError:  # a concurrent replay won the race
        return False
    return True


def record_answer(
    *, answer_id: str, user_id: Optional[int], faq_key: str, confidence: Optional[float],
    session: Session,
) -> bool:
    """Log one FAQ answer; replays of the same ``answer_id`` are ignored."""
    row = AnswerLog(answer_id=answer_id, user_id=user_id, faq_key=faq_key, confidence=confidence)
    return _insert_once(row, AnswerLog.answer_id == answer_id, session=session)


def record_unanswered(
    *, text: str, reason: str, user_id: Optional[int], top_key: Optional[str],
    confidence: Optional[float], message_id: Optional[str], session: Session,
) -> bool:
    """Store a declined or low-confidence question for the programme team (idempotent)."""
    row = UnansweredQuestion(
        text=(text or "")[:MAX_STORED_QUESTION_CHARS], reason=reason, user_id=user_id,
        top_key=top_key, confidence=confidence, message_id=message_id,
    )
    if message_id is None:
        session.add(row)
        return True
    return _insert_once(row, UnansweredQuestion.message_id == message_id, session=session)


class FeedbackError(NotFound):
    """Feedback refers to an answer this user was not given."""

    code = "answer_not_found"


def record_feedback(*, user_id: int, answer_id: str, helpful: bool, session: Session) -> AnswerFeedback:
    """Store helpful / not helpful for an answer the user received; a second vote replaces the first."""
    log = session.scalars(select(AnswerLog).where(AnswerLog.answer_id == answer_id)).first()
    if log is None or log.user_id != user_id:
        raise FeedbackError("That answer was not found in your conversation.")
    row = session.scalars(
        select(AnswerFeedback).where(
            AnswerFeedback.user_id == user_id, AnswerFeedback.answer_id == answer_id
        )
    ).first()
    if row is None:
        row = AnswerFeedback(user_id=user_id, answer_id=answer_id, faq_key=log.faq_key, helpful=helpful)
        session.add(row)
    else:
        row.helpful = helpful
        row.updated_at = utcnow()
    session.flush()
    return row


def feedback_for_answers(user_id: int, answer_ids: List[str], *, session: Session) -> Dict[str, bool]:
    """The user's helpful/not-helpful votes for the given answers."""
    if not answer_ids:
        return {}
    rows = session.execute(
        select(AnswerFeedback.answer_id, AnswerFeedback.helpful).where(
            AnswerFeedback.user_id == user_id, AnswerFeedback.answer_id.in_(answer_ids)
        )
    )
    return {answer_id: helpful for answer_id, helpful in rows}
