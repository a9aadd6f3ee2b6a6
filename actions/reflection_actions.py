"""Reflection actions: start/resume, the form's questions and validation (which saves
each answer), the summary, and the share question. Thin: the logic is in
assistant.reflection_flow; each action is one database transaction."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import entity, intent_of, message_id, run_events, run_outcome, text_of
from assistant import reflection_flow as flow
from assistant import reflection_share as sharing
from assistant.config import get_settings
from assistant.db import session_scope


def retries_of(tracker: Tracker) -> int:
    """Unusable replies so far at the current step."""
    return int(tracker.get_slot("step_retries") or 0)


class ActionStartReflection(Action):
    """Start a reflection (from words, a set button or a manager's prompt), or resume the open one."""

    def name(self) -> Text:
        return "action_start_reflection"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        prompt = entity(tracker, "prompt_id")
        return run_events(dispatcher, tracker, lambda s, user: flow.start(
            user, run_id=f"start:{message_id(tracker)}", set_key=entity(tracker, "reflection_set"),
            prompt_id=int(prompt) if prompt and prompt.isdigit() and len(prompt) <= 12 else None, session=s))


def _slot_dict(events: List[Dict]) -> Dict[Text, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _question_validator(n: int):
    """``validate_q<n>``: save the answer to question ``n`` (or explain why not)."""

    def validate(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value in (flow.SAVED, flow.SKIPPED, None):  # set by a start, a resume or an aside; None: a reset
            return {f"q{n}": value}
        events = run_events(dispatcher, tracker, lambda s, user: flow.answer(
            user, tracker.get_slot("reflection_id"), n, str(value or ""), retries=retries_of(tracker), session=s,
            message_id=message_id(tracker)),
            failed_slots={f"q{n}": None})
        return _slot_dict(events)

    validate.__name__ = f"validate_q{n}"
    validate.__doc__ = f"Validate and save the answer to question {n}."
    return validate


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
        """The set: from a button, typed, or the reflection itself (default set)."""
        if tracker.get_slot("reflection_id") or value is None:  # set by a start or resume; None: a reset
            return {"reflection_set": value}
        return _slot_dict(run_events(dispatcher, tracker, lambda s, user: flow.choose_set(
            user, str(value or ""), run_id=f"form:{message_id(tracker)}", retries=retries_of(tracker), session=s),
            failed_slots={"reflection_set": None}))


for _n in range(1, flow.MAX_QUESTIONS + 1):
    setattr(ValidateReflectionForm, f"validate_q{_n}", _question_validator(_n))


class ActionAskReflectionSet(Action):
    """Offer the question sets as buttons (after two unusable replies, with a way out)."""

    def name(self) -> Text:
        return "action_ask_reflection_set"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        with session_scope(get_settings().database_url) as session:
            outcome = flow.ask_set(retries_of(tracker), session=session)
        for message in outcome.messages:
            dispatcher.utter_message(**message)
        return []


class _AskQuestion(Action, ABC):
    """Ask question ``number`` of the chosen set; one subclass per form slot, generated below
    (abstract, so the action server registers only the generated ones)."""

    @property
    @abstractmethod
    def number(self) -> int:
        """1-based question number."""

    def name(self) -> Text:
        return f"action_ask_q{self.number}"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        with session_scope(get_settings().database_url) as session:
            outcome = flow.ask(tracker.get_slot("reflection_set"), self.number, retries=retries_of(tracker),
                               session=session)
        for message in outcome.messages:
            dispatcher.utter_message(**message)
        return []


ASK_QUESTION_ACTIONS = [
    type(f"ActionAskQ{n}", (_AskQuestion,), {"number": n, "__doc__": f"Ask question {n} of the chosen set."})
    for n in range(1, flow.MAX_QUESTIONS + 1)
]


class ActionReflectionEnd(Action):
    """After the form: the summary, and whether the share question comes next."""

    def name(self) -> Text:
        return "action_reflection_end"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        return run_events(dispatcher, tracker, lambda s, user: flow.finish(
            user, tracker.get_slot("reflection_id"), bool(tracker.get_slot("reflection_paused")), session=s),
            failed_slots={"ask_share": False})


class ValidateShareForm(FormValidationAction):
    """The share question: yes or no, typed or pressed."""

    def name(self) -> Text:
        return "validate_share_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        return ["share_choice"] if tracker.get_slot("share_pending") else []

    def validate_share_choice(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        """``yes`` / ``no``; anything else is asked again."""
        if value is None:  # a reset by the action before the form, not a reply
            return {"share_choice": None}
        choice = sharing.share_choice(intent_of(tracker), text_of(tracker))
        if choice is None:
            return {"share_choice": None, "step_retries": float(retries_of(tracker) + 1)}
        return {"share_choice": choice, "step_retries": 0.0}


class ActionAskShareChoice(Action):
    """Ask whether to share the reflection just finished."""

    def name(self) -> Text:
        return "action_ask_share_choice"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        run_outcome(dispatcher, tracker, lambda s, user: sharing.ask_share(user, retries_of(tracker)))
        return []


class ActionSubmitShare(Action):
    """Share the reflection with the line manager, or keep it private, as answered."""

    def name(self) -> Text:
        return "action_submit_share"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        yes = tracker.get_slot("share_choice") == "yes"
        return run_events(dispatcher, tracker, lambda s, user: sharing.share(
            user, tracker.get_slot("share_pending"), yes, session=s))
