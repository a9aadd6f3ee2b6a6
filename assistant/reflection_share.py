"""Sharing a finished reflection with the line manager, or keeping it private: the
question, reading the reply, and applying the choice. Used by the (thin) Rasa actions;
functions that touch the database take ``*, session`` and never commit.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from assistant import reflections as data
from assistant.models import User
from assistant.reflection_flow import Outcome, kind_of_answer

SHARE_BUTTONS = [{"title": "Yes, share it", "payload": "/affirm"},
                 {"title": "No, keep it private", "payload": "/deny"}]


def ask_share(user: User, retries: int) -> Outcome:
    """The share question (after two unusable replies, with "decide later" as the way out)."""
    who = user.manager.display_name if user.manager else "your line manager"
    if retries <= 0:
        return Outcome().say(f"Would you like to share this reflection with your line manager, {who}? "
                             "They'll be able to read it. If not, it stays private to you.", buttons=SHARE_BUTTONS)
    if retries == 1:
        return Outcome().say(f"Sorry, I didn't catch that. Shall I share this reflection with {who}?",
                             buttons=SHARE_BUTTONS)
    return Outcome().say(f"I still couldn't tell. Share it with {who}, keep it private, or decide later "
                         "(it stays private until you share it under \"My reflections\").",
                         buttons=SHARE_BUTTONS + [{"title": "Decide later", "payload": "/leave"}])


def share_choice(intent: Optional[str], text: str) -> Optional[str]:
    """``yes`` / ``no`` from the reply to the share question, or None if it says neither."""
    if intent == "affirm" or text.strip() == "/affirm":
        return "yes"
    if intent == "deny" or text.strip() == "/deny" or kind_of_answer(text) == "stop":
        return "no"
    return None


def share(user: User, reflection_id: Optional[float], yes: bool, *, session: Session) -> Outcome:
    """Apply the share decision for the reflection waiting for one."""
    out = Outcome(slots={"share_pending": None, "share_choice": None, "ask_share": False, "step_retries": 0.0})
    if not reflection_id:
        return out
    reflection = data.get_own(int(reflection_id), user.id, session=session)
    if not yes:
        data.set_shared(reflection, False, session=session)
        return out.say("Kept private: only you can see this reflection. You can find it, export it or "
                       "delete it under \"My reflections\".")
    try:
        manager = data.set_shared(reflection, True, session=session)
    except data.ReflectionError as exc:
        return out.say(str(exc))
    return out.say(f"Shared with {manager.display_name}. Thank you for reflecting.")

