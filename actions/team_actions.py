"""A manager's request, by chat, for people in their team to reflect: parse it, confirm
it (send / change / cancel) in a form, then send it. Thin: the logic is in
assistant.team_flow; each action is one database transaction."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import intent_of, run_events, run_outcome, text_of
from actions.reflection_actions import retries_of
from assistant import team_flow


class ActionTeamRequest(Action):
    """Read the manager's request into a draft (or explain why it can't be sent)."""

    def name(self) -> Text:
        return "action_team_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        return run_events(dispatcher, tracker, lambda s, user: team_flow.request(user, text_of(tracker), session=s),
                          failed_slots={"confirm_prompt": False, "prompt_draft": None})


class ValidateTeamPromptForm(FormValidationAction):
    """The confirmation step: send, cancel, change, or a revision of the draft."""

    def name(self) -> Text:
        return "validate_team_prompt_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        return ["prompt_reply"] if tracker.get_slot("prompt_draft") else []

    def validate_prompt_reply(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        """``send`` or ``cancel`` ends the step; anything else revises the draft and asks again."""
        if value is None or value in ("send", "cancel"):  # a reset, or already decided
            return {"prompt_reply": value}
        events = run_events(dispatcher, tracker, lambda s, user: team_flow.reply(
            user, tracker.get_slot("prompt_draft"), intent_of(tracker), text_of(tracker),
            retries=retries_of(tracker), session=s), failed_slots={"prompt_reply": None})
        return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


class ActionAskPromptReply(Action):
    """Show the draft and ask to send it, or ask what the draft still needs."""

    def name(self) -> Text:
        return "action_ask_prompt_reply"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        run_outcome(dispatcher, tracker, lambda s, user: team_flow.ask(
            user, tracker.get_slot("prompt_draft"), retries_of(tracker), session=s))
        return []


class ActionSendTeamPrompt(Action):
    """Send the confirmed prompt (one transaction), or say that nothing was sent."""

    def name(self) -> Text:
        return "action_send_team_prompt"

    async def run(self, dispatcher, tracker, domain) -> List[Dict]:
        return run_events(dispatcher, tracker, lambda s, user: team_flow.send(
            user, tracker.get_slot("prompt_draft"), tracker.get_slot("prompt_reply"), session=s),
            failed_slots=dict(team_flow.DONE))
