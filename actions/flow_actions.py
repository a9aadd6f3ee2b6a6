"""The unhappy paths shared by every multi-turn flow (stories/rules.yml): an aside is
answered before the step is asked again; "stop", "cancel", "not now" leave the flow
in one turn; yes/no/change with nothing waiting for it is explained."""
from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import intent_of, latest, message_id, run_events, run_outcome, text_of
from actions.faq_reply import faq_reply
from actions.reflection_actions import retries_of
from assistant import dialogue
from assistant import reflection_flow as flow
from assistant import reflection_share as sharing
from assistant import team_flow
from assistant.masking import mask

REFLECTION, SHARE, TEAM = "reflection_form", "share_form", "team_prompt_form"
NOTHING_RUNNING = ("There's nothing in progress to stop. Ask me a question, or say \"reflect on a session\" "
                   "to start a reflection.")
NOTHING_PENDING = ("There's no question waiting for that answer just now. Ask me something, or say "
                   "\"reflect on a session\" to start a reflection.")


def _question_number(tracker: Tracker) -> int:
    slot = tracker.get_slot("requested_slot") or ""
    return int(slot[1:]) if tracker.active_loop_name == REFLECTION and slot[:1] == "q" and slot[1:].isdigit() else 0


def _save_as_answer(dispatcher: CollectingDispatcher, tracker: Tracker, n: int) -> List[Dict]:
    """The message is the answer to reflection question ``n`` after all: save it."""
    return run_events(dispatcher, tracker, lambda s, user: flow.answer(
        user, tracker.get_slot("reflection_id"), n, text_of(tracker), retries=retries_of(tracker), session=s),
        failed_slots={f"q{n}": None})


class ActionFlowAside(Action):
    """Something other than the step's answer, in the middle of a flow: answer an FAQ,
    reply briefly to chit-chat, or, at a reflection question, keep it as the answer when
    it is not clearly anything else. The rule then runs the form, which asks the step again."""

    def name(self) -> Text:
        return "action_flow_aside"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        loop, text, intent = tracker.active_loop_name, text_of(tracker), intent_of(tracker)
        n = _question_number(tracker)
        if loop == REFLECTION and tracker.get_slot("requested_slot") == "reflection_set" \
                and not tracker.get_slot("reflection_id") and not dialogue.is_clear_question(text) \
                and flow.kind_of_answer(text) != "stop":
            events = run_events(dispatcher, tracker, lambda s, user: flow.choose_set(
                user, text, run_id=f"form:{message_id(tracker)}", retries=retries_of(tracker), session=s),
                failed_slots={"reflection_set": None})
            if any(e.get("name") == "reflection_set" and e.get("value") for e in events):
                return events  # it was the choice of set (or the reflection itself) after all
        aside = dialogue.classify_aside(intent, text, answering_question=n > 0)
        if aside.kind == "answer":
            return _save_as_answer(dispatcher, tracker, n)
        if aside.kind == "question":
            answered = faq_reply(dispatcher, tracker, text=mask(text).text, outright_only=n > 0)
            return [] if answered else _save_as_answer(dispatcher, tracker, n)
        if aside.kind == "stale_button":
            dispatcher.utter_message(text="That button belongs to an earlier step, so I haven't used it.")
        elif aside.kind == "already_reflecting":
            dispatcher.utter_message(text="You're already in the middle of this, so let's carry on." if loop != REFLECTION
                                     else "You're already in the middle of a reflection, so let's carry on.")
        elif aside.kind == "team_request" and loop == TEAM:
            return run_events(dispatcher, tracker, lambda s, user: team_flow.revise(
                user, tracker.get_slot("prompt_draft"), text, retries=retries_of(tracker), session=s))
        elif aside.kind == "team_request":
            dispatcher.utter_message(text="Let's finish this first (or say **stop** to leave it), then ask me again.")
        else:
            dispatcher.utter_message(text=dialogue.chitchat_reply(intent))
        return []


class ActionLeaveFlow(Action):
    """Leave the flow in one turn, saying what happened to it; ends the form's loop as
    ``action_deactivate_loop`` does. A long reflection answer the NLU misread as "leave"
    is saved instead, and the form carries on."""

    def name(self) -> Text:
        return "action_leave_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        loop, text = tracker.active_loop_name, text_of(tracker)
        n = _question_number(tracker)
        if loop is None:
            dispatcher.utter_message(text=NOTHING_RUNNING)
            return [ActiveLoop(None)]  # as in the other leave rules (RulePolicy wants them alike)
        if n and not dialogue.means_leave(intent_of(tracker), text):
            return _save_as_answer(dispatcher, tracker, n) + [FollowupAction(REFLECTION)]
        end = [SlotSet("requested_slot", None), SlotSet("step_retries", 0.0), ActiveLoop(None)]
        if loop == REFLECTION:
            return run_events(dispatcher, tracker, lambda s, user: flow.pause(
                user, tracker.get_slot("reflection_id"), session=s)) + end
        if loop == SHARE:
            outcome = run_outcome(dispatcher, tracker, lambda s, user: sharing.share(
                user, tracker.get_slot("share_pending"), False, session=s))
            return [SlotSet(k, v) for k, v in outcome.slots.items()] + end
        dispatcher.utter_message(text=team_flow.CANCELLED)
        return [SlotSet("prompt_draft", None), SlotSet("prompt_reply", None), SlotSet("confirm_prompt", False)] + end


class ActionNothingPending(Action):
    """Yes, no or "change" when no question is waiting for one."""

    def name(self) -> Text:
        return "action_nothing_pending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        if latest(tracker).get("text", "").startswith("/"):
            dispatcher.utter_message(text="That button belongs to a question that has already been answered.")
        else:
            dispatcher.utter_message(text=NOTHING_PENDING)
        return []
