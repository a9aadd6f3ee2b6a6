"""FAQ actions: answer from the database, suggest, or decline (and record it)."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from assistant.answering import Decision, decide
from assistant.config import get_settings
from assistant.db import session_scope
from assistant.faq import user_id_for_sender
from assistant.replies import UNAVAILABLE_TEXT, build_reply

logger = logging.getLogger(__name__)


def _respond(dispatcher: CollectingDispatcher, tracker: Tracker, decision: Decision) -> None:
    settings = get_settings()
    message = tracker.latest_message or {}
    try:
        with session_scope(settings.database_url) as session:
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


def _decide_and_respond(dispatcher: CollectingDispatcher, tracker: Tracker, answer_outright: bool) -> None:
    settings = get_settings()
    decision = decide(
        tracker.latest_message or {},
        answer_threshold=settings.answer_threshold if answer_outright else 1.01,
        suggest_threshold=settings.suggest_threshold,
    )
    _respond(dispatcher, tracker, decision)


class ActionAnswerFaq(Action):
    """Answer the FAQ the message asks about, suggest close matches, or decline."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        _decide_and_respond(dispatcher, tracker, answer_outright=True)
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
        _decide_and_respond(dispatcher, tracker, answer_outright=False)  # never answer outright here
        return []
