"""Run custom actions as the action server would: real Trackers, CollectingDispatcher."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.reflection_flow import QUESTION_SLOTS
from tests.test_actions import parse

FORMS = {"reflection_form": ["reflection_set"] + QUESTION_SLOTS, "share_form": ["share_choice"],
         "team_prompt_form": ["prompt_reply"]}
DOMAIN = {"forms": {name: {"required_slots": slots} for name, slots in FORMS.items()}, "slots": {}}
SLOTS = ["reflection_set", "reflection_id", "reflection_paused", "share_pending", "share_choice", "step_retries",
         "prompt_draft", "prompt_reply", "ask_share", "confirm_prompt", "requested_slot"] + QUESTION_SLOTS


def make_tracker(sender, text, slots=None, intent="start_reflection", entities=(), message_id="m1",
                 requested=None, just_set=(), loop=None, ranking=()):
    """A tracker whose latest message is ``text``; ``requested`` puts it inside ``loop``'s step
    (``loop`` defaults to the reflection form when a step is given)."""
    latest = parse(text, intent=intent, entities=entities, message_id=message_id, ranking=ranking)
    all_slots = {name: None for name in SLOTS}
    all_slots["requested_slot"] = requested
    all_slots.update(slots or {})
    events = [{"event": "user", "text": text, "parse_data": latest}]
    events += [{"event": "slot", "name": k, "value": all_slots[k]} for k in just_set]
    loop = loop or ("reflection_form" if requested else None)
    return Tracker(sender, all_slots, latest, events, False, None, {"name": loop} if loop else {}, "action_listen")


def run(action, tracker):
    """(messages, slots set, all events) of running ``action``."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, {e["name"]: e.get("value") for e in events if e.get("event") == "slot"}, events


def texts(messages) -> str:
    """All message texts of a reply, joined."""
    return " ".join(m.get("text") or "" for m in messages)
