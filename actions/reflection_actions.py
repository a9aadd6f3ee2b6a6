"""Reflection actions: start/resume, the form's questions and validation (which saves
each answer), the summary, sharing, and managers prompting their team. Thin: the
logic is in assistant.reflection_flow; each action is one database transaction."""
from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
import logging
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from assistant import reflection_flow as flow
from assistant.config import get_settings
from assistant.db import session_scope
from assistant.masking import mask
from assistant.models import User
from assistant.prompts import create_prompts
from assistant.reflections import ReflectionError
from assistant.replies import build_reply
from assistant.answering import Decision
from assistant.users import team_of

logger = logging.getLogger(__name__)
NOT_SAVED = ("Sorry, something went wrong and that wasn't saved (nothing was half-saved). "
             "Please try again in a moment.")
LOGIN_NEEDED = "Reflections are only available when you're logged in through the chat page."


def _user(tracker: Tracker, session) -> Optional[User]:
    sender = tracker.sender_id or ""
    return session.get(User, int(sender)) if sender.isdigit() else None


def _entity(tracker: Tracker, name: str) -> Optional[str]:
    for e in (tracker.latest_message or {}).get("entities") or []:
        if e.get("entity") == name and e.get("value") is not None:
            return str(e["value"])
    return None


def _run(dispatcher: CollectingDispatcher, tracker: Tracker,
         work: Callable[[Any, User], flow.Outcome], failed_slots: Optional[Dict] = None) -> List[Dict]:
    """Run ``work`` in one transaction; send its messages and return its slot events."""
    try:
        with session_scope(get_settings().database_url) as session:
            user = _user(tracker, session)
            if user is None:
                outcome = flow.Outcome().say(LOGIN_NEEDED)
                outcome.slots = {"reflection_paused": True}
            else:
                outcome = work(session, user)
    except (SQLAlchemyError, ReflectionError) as exc:
        # no traceback: database errors carry statement parameters (reflection text)
        logger.error("reflection action failed: %s", type(exc).__name__)
        outcome = flow.Outcome().say(str(exc) if isinstance(exc, ReflectionError) else NOT_SAVED)
        outcome.slots = dict(failed_slots or {})
    for message in outcome.messages:
        dispatcher.utter_message(**message)
    return [SlotSet(k, v) for k, v in outcome.slots.items()]


def _message_id(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("message_id") or tracker.events[-1].get("timestamp", ""))


class ActionStartReflection(Action):
    """Start a reflection (from words, a set button or a manager's prompt), or resume the open one."""

    def name(self) -> Text:
        return "action_start_reflection"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        prompt = _entity(tracker, "prompt_id")
        return _run(dispatcher, tracker, lambda s, user: flow.start(
            user, run_id=f"start:{_message_id(tracker)}", set_key=_entity(tracker, "reflection_set"),
            prompt_id=int(prompt) if prompt and prompt.isdigit() else None, session=s))


class ValidateReflectionForm(FormValidationAction):
    """Asks as many questions as the chosen set has; validates and saves each answer."""

    def name(self) -> Text:
        return "validate_reflection_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        with session_scope(get_settings().database_url) as session:
            return flow.required_slots(tracker.get_slot("reflection_set"), session=session)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        events = await super().run(dispatcher, tracker, domain)
        if any(e.get("name") == "reflection_paused" and e.get("value") is True for e in events):
            events += [SlotSet("requested_slot", None), ActiveLoop(None)]
        return events

    def validate_reflection_set(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("reflection_id"):  # set by action_start_reflection (new or resumed)
            return {"reflection_set": value}
        events = _run(dispatcher, tracker, lambda s, user: flow.choose_set(
            user, str(value or ""), run_id=f"form:{_message_id(tracker)}", session=s),
            failed_slots={"reflection_set": None})
        return {e["name"]: e["value"] for e in events}

    def _answer(self, n: int, value, dispatcher, tracker) -> Dict[Text, Any]:
        if value in (flow.SAVED, flow.SKIPPED):  # pre-filled on resume: already in the database
            return {f"q{n}": value}
        parse = tracker.latest_message or {}
        settings = get_settings()
        intent = (parse.get("intent") or {}).get("name")
        if intent == "start_reflection" and flow.asks_to_reflect(str(value or "")):
            dispatcher.utter_message(text="You're already in the middle of a reflection, so let's carry on.")
            return {f"q{n}": None}
        key = flow.faq_interruption(parse, answer_threshold=max(settings.answer_threshold, 0.6))
        if key:
            events = _run(dispatcher, tracker, lambda s, user: flow.Outcome(messages=build_reply(
                Decision("answer", key=key), text=mask(parse.get("text") or "").text,
                message_id=parse.get("message_id"), user_id=user.id, session=s)))
            dispatcher.utter_message(text="Now, back to your reflection.")
            return {f"q{n}": None, **{e["name"]: e["value"] for e in events}}
        events = _run(dispatcher, tracker, lambda s, user: flow.answer(
            user, tracker.get_slot("reflection_id"), n, str(value or ""), session=s),
            failed_slots={f"q{n}": None})
        return {e["name"]: e["value"] for e in events}

    def validate_q1(self, value, dispatcher, tracker, domain):
        return self._answer(1, value, dispatcher, tracker)

    def validate_q2(self, value, dispatcher, tracker, domain):
        return self._answer(2, value, dispatcher, tracker)

    def validate_q3(self, value, dispatcher, tracker, domain):
        return self._answer(3, value, dispatcher, tracker)

    def validate_q4(self, value, dispatcher, tracker, domain):
        return self._answer(4, value, dispatcher, tracker)

    def validate_q5(self, value, dispatcher, tracker, domain):
        return self._answer(5, value, dispatcher, tracker)

    def validate_q6(self, value, dispatcher, tracker, domain):
        return self._answer(6, value, dispatcher, tracker)

    def validate_q7(self, value, dispatcher, tracker, domain):
        return self._answer(7, value, dispatcher, tracker)


class ActionAskReflectionSet(Action):
    """Offer the question sets as buttons."""

    def name(self) -> Text:
        return "action_ask_reflection_set"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        from assistant.reflections import list_sets

        with session_scope(get_settings().database_url) as session:
            sets = list_sets(session=session)
            dispatcher.utter_message(text="Which questions would you like to use?", buttons=flow.set_buttons(sets))
        return []


class _AskQuestion(Action, ABC):
    """Ask question ``number`` of the chosen set (abstract: one subclass per form slot)."""

    @property
    @abstractmethod
    def number(self) -> int:
        """1-based question number."""

    def name(self) -> Text:
        return f"action_ask_q{self.number}"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        with session_scope(get_settings().database_url) as session:
            outcome = flow.ask(tracker.get_slot("reflection_set"), self.number, session=session)
        for message in outcome.messages:
            dispatcher.utter_message(**message)
        return []


class ActionAskQ1(_AskQuestion):
    """Ask question 1 of the chosen set."""
    number = 1


class ActionAskQ2(_AskQuestion):
    """Ask question 2 of the chosen set."""
    number = 2


class ActionAskQ3(_AskQuestion):
    """Ask question 3 of the chosen set."""
    number = 3


class ActionAskQ4(_AskQuestion):
    """Ask question 4 of the chosen set."""
    number = 4


class ActionAskQ5(_AskQuestion):
    """Ask question 5 of the chosen set."""
    number = 5


class ActionAskQ6(_AskQuestion):
    """Ask question 6 of the chosen set."""
    number = 6


class ActionAskQ7(_AskQuestion):
    """Ask question 7 of the chosen set."""
    number = 7


class ActionReflectionEnd(Action):
    """After the form: summary and the share question, or nothing more when paused."""

    def name(self) -> Text:
        return "action_reflection_end"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        return _run(dispatcher, tracker, lambda s, user: flow.finish(
            user, tracker.get_slot("reflection_id"), bool(tracker.get_slot("reflection_paused")), session=s))


class ActionShareReflection(Action):
    """Share the just-finished reflection with the line manager, or keep it private."""

    def name(self) -> Text:
        return "action_share_reflection"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        yes = ((tracker.latest_message or {}).get("intent") or {}).get("name") == "affirm"
        return _run(dispatcher, tracker, lambda s, user: flow.share(
            user, tracker.get_slot("share_pending"), yes, session=s))


class ActionPromptTeam(Action):
    """A manager asks their whole team to reflect (default set, due in a week)."""

    def name(self) -> Text:
        return "action_prompt_team"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        def work(session, user: User) -> flow.Outcome:
            if user.role != "manager":
                return flow.Outcome().say("Only line managers can ask a team to reflect.")
            team = team_of(user.id, session=session)
            if not team:
                return flow.Outcome().say("You don't have anyone in your team yet.")
            note = mask((tracker.latest_message or {}).get("text") or "").text
            create_prompts(manager=user, practitioner_ids=[m.id for m in team], set_key=None, note=note,
                           due_date=dt.date.today() + dt.timedelta(days=7), session=session)
            names = ", ".join(m.display_name for m in team)
            return flow.Outcome().say(
                f"Done: I've asked {len(team)} {'person' if len(team) == 1 else 'people'} to reflect ({names}), "
                "due in a week. They'll see it next time they open the chat. You'll see who has completed one, "
                "and any reflections they choose to share, on your team page.")

        return _run(dispatcher, tracker, work)
