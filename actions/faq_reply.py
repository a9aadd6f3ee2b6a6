"""Answer an FAQ question asked in the middle of a flow (the FAQ actions answer the rest)."""
from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import latest, user_of
from assistant.config import get_settings
from assistant.db import session_scope
from assistant.faq_decision import decide_for
from assistant.replies import UNAVAILABLE_TEXT, build_reply

logger = logging.getLogger(__name__)


def faq_reply(dispatcher: CollectingDispatcher, tracker: Tracker, *, text: str, outright_only: bool) -> bool:
    """Reply to the latest message as an FAQ question; True if a reply was sent.

    ``outright_only`` (at a reflection question): reply only with a confident answer and
    otherwise say nothing and return False, so the caller keeps the text as the answer;
    then nothing of it reaches the programme team's review queue."""
    parse = latest(tracker)
    try:
        with session_scope(get_settings().database_url) as session:
            decision = decide_for(parse, session=session, mode="interruption" if outright_only else "chat")
            if outright_only and decision.kind != "answer":
                return False
            user = user_of(tracker, session)
            replies = build_reply(decision, text=text, message_id=parse.get("message_id"),
                                  user_id=user.id if user else None, session=session)
    except SQLAlchemyError as exc:
        logger.error("database error while answering: %s", type(exc).__name__)
        replies = [{"text": UNAVAILABLE_TEXT}]
    for reply in replies:
        dispatcher.utter_message(**reply)
    return True
