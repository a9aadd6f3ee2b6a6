"""FAQ actions: answer from the database, suggest, or decline (and record it)."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from assistant.answering import Decision
from assistant.config import get_settings
from assistant.db import session_scope
from assistant.faq import user_id_for_sender
from assistant.faq_decision import decide_for
from assistant.replies import UNAVAILABLE_TEXT, build_reply

logger = logging.getLogger(__name__)


def _respond(dispatcher: CollectingDispatcher, tracker: Tracker, decision: Optional[Decision],
             mode: str = "chat") -> None:
    """Decide (unless ``decision`` is given) and reply, in one database session."""
    settings = get_settings()
    message = tracker.latest_message or {}
    try:
        with session_scope(settings.database_url) as session:
            if decision is None:
                decision = decide_for(message, session=session, mode=mode, settings=settings)
            replies = build_reply(
                decision,
                text=message.get("text") or "",
                message_id=message.get("message_id"),
                user_id=user_id_for_sender(tracker.sender_id, session=session),
                session=session,
            )
    except SQLAlchemyError as exc:
        # no traceback: database errors carry statement parameters (the user's text)
        logger.error("database error while answering: %s", type(exc).__name__)
        replies = [{"text": UNAVAILABLE_TEXT}]
    for reply in replies:
        dispatcher.utter_message(**reply)


class ActionAnswerFaq(Action):
    """Answer the FAQ the message asks about, suggest close matches, or decline."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        _respond(dispatcher, tracker, None, mode="chat")
        return []


class ActionDecline(Action):
    """Politely decline an out-of-scope question and pass it to the programme team."""

    def name(self) -> Text:
        return "action_decline"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message or {}).get("intent") or {}
        _respond(dispatcher, tracker, Decision("decline", confidence=intent.get("confidence")))
        return []


class ActionDefaultFallback(Action):
    """Dialogue fallback: treat the turn like a question we could not place."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        _respond(dispatcher, tracker, None, mode="fallback")  # never answer outright here
        return []
