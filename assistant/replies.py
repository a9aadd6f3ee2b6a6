"""Build the assistant's replies to FAQ questions (used by the Rasa actions).

Each reply is a dict of keyword arguments for ``dispatcher.utter_message``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy.orm import Session

from assistant import faq as faq_data
from assistant import reflections
from assistant.answering import Decision

DECLINE_TEXT = (
    "Sorry, I can't answer that. I can help with the new Probation Rules and National "
    "Standards 2011, professional discretion, and the Offender Engagement Programme's "
    "practice models (SEED, RSM, SPA, desistance). I've passed your question to the "
    "programme team so they can improve what I know."
)
# Declined while a reflection is in progress: the text may be part of it, so it is kept
# nowhere (not in the review queue) and the reply says how to carry on.
DECLINE_WHILE_REFLECTING_TEXT = (
    "Sorry, I can't answer that. If you were answering your reflection, say "
    "\"continue my reflection\" and I'll ask the next question."
)
SUGGEST_TEXT = "I'm not sure I understood. Did you mean one of these?"
UNAVAILABLE_TEXT = (
    "Sorry, I couldn't look that up just now. Please try again in a minute; "
    "if it keeps happening, tell the programme team."
)


def faq_button(key: str, question: str) -> Dict[str, str]:
    """A "Did you mean" button that asks for ``key`` directly."""
    return {"title": question, "payload": '/faq{"faq_key": "%s"}' % key}


def build_reply(
    decision: Decision, *, text: str, message_id: Optional[str], user_id: Optional[int],
    session: Session,
) -> List[Dict[str, Any]]:
    """Replies for ``decision``; records answers and unanswered questions as a side effect."""
    if decision.kind == "answer":
        faq = faq_data.get_published_faq(decision.key, session=session)
        if faq is not None:
            answer_id = message_id or None
            payload = {
                "type": "faq_answer",
                "faq_key": faq.key,
                "question": faq.question,
                "text": faq.answer,
                "source": faq.source,
                "answer_id": answer_id,
            }
            if answer_id:
                faq_data.record_answer(
                    answer_id=answer_id, user_id=user_id, faq_key=faq.key,
                    confidence=decision.confidence, session=session,
                )
            return [{"json_message": payload}]
        decision = Decision("decline", key=decision.key, confidence=decision.confidence)

    # what someone types mid-reflection stays in the reflection tables, nowhere else
    private = user_id is not None and reflections.reflecting_recently(
        user_id, hours=reflections.REFLECTING_HOURS, session=session)
    if decision.kind == "suggest":
        questions = faq_data.faq_questions(decision.suggestions, session=session)
        buttons = [faq_button(k, questions[k]) for k in decision.suggestions if k in questions]
        if buttons:
            if not private:
                faq_data.record_unanswered(
                    text=text, reason="low_confidence", user_id=user_id, top_key=decision.key,
                    confidence=decision.confidence, message_id=message_id, session=session,
                )
            return [{"text": SUGGEST_TEXT, "buttons": buttons}]

    if private:
        return [{"text": DECLINE_WHILE_REFLECTING_TEXT}]
    faq_data.record_unanswered(
        text=text, reason="declined", user_id=user_id, top_key=decision.key,
        confidence=decision.confidence, message_id=message_id, session=session,
    )
    return [{"text": DECLINE_TEXT}]
