"""What every reflection and team action shares: one database transaction per action,
the logged-in user, the latest message, and turning an Outcome into Rasa events."""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from assistant.config import get_settings
from assistant.db import session_scope
from assistant.models import User
from assistant.reflection_flow import Outcome
from assistant.reflections import ReflectionError

logger = logging.getLogger(__name__)
NOT_SAVED = ("Sorry, something went wrong and that wasn't saved (nothing was half-saved). "
             "Please try again in a moment.")
LOGIN_NEEDED = "Reflections are only available when you're logged in through the chat page."


def user_of(tracker: Tracker, session) -> Optional[User]:
    """The logged-in user the web app relays for (the sender id is their user id)."""
    sender = tracker.sender_id or ""
    return session.get(User, int(sender)) if sender.isdigit() and len(sender) <= 18 else None


def latest(tracker: Tracker) -> Dict[str, Any]:
    """The latest user message's parse data (never None)."""
    return tracker.latest_message or {}


def intent_of(tracker: Tracker) -> Optional[str]:
    """The latest message's intent name."""
    return (latest(tracker).get("intent") or {}).get("name")


def text_of(tracker: Tracker) -> str:
    """The latest message's text."""
    return str(latest(tracker).get("text") or "")


def entity(tracker: Tracker, name: str) -> Optional[str]:
    """The value of the first ``name`` entity of the latest message."""
    for e in latest(tracker).get("entities") or []:
        if e.get("entity") == name and e.get("value") is not None:
            return str(e["value"])
    return None


def message_id(tracker: Tracker) -> str:
    """Rasa's id of the latest message (the key of everything made from it)."""
    return str(latest(tracker).get("message_id") or tracker.events[-1].get("timestamp", ""))


def run_outcome(dispatcher: CollectingDispatcher, tracker: Tracker,
                work: Callable[[Any, User], Outcome], failed_slots: Optional[Dict] = None) -> Outcome:
    """Run ``work`` in one transaction and send its messages; returns the outcome.

    A database or domain error leaves nothing half-written: the user is told, and the
    slots in ``failed_slots`` are set instead of the outcome's."""
    try:
        with session_scope(get_settings().database_url) as session:
            user = user_of(tracker, session)
            if user is None:
                outcome = Outcome().say(LOGIN_NEEDED)
                outcome.slots = {"reflection_paused": True}
            else:
                outcome = work(session, user)
    except (SQLAlchemyError, ReflectionError) as exc:
        # no traceback: database errors carry statement parameters (reflection text)
        logger.error("action failed: %s", type(exc).__name__)
        outcome = Outcome().say(str(exc) if isinstance(exc, ReflectionError) else NOT_SAVED)
        outcome.slots = dict(failed_slots or {})
        outcome.failed = True
    for message in outcome.messages:
        dispatcher.utter_message(**message)
    return outcome


def run_events(dispatcher: CollectingDispatcher, tracker: Tracker,
        work: Callable[[Any, User], Outcome], failed_slots: Optional[Dict] = None) -> List[Dict]:
    """:func:`run_outcome`, returning the slot events."""
    outcome = run_outcome(dispatcher, tracker, work, failed_slots)
    return [SlotSet(k, v) for k, v in outcome.slots.items()] + list(outcome.events)
