"""A manager prompts people in their team to reflect, by chat: the request is parsed
(assistant.team_requests), shown back, and sent only when the manager confirms.
Changes ("due Monday", "only Alex") and answers to questions ("which Sam?") revise the
draft in place. Used by the (thin) Rasa actions; ``*, session``, never commits."""
from __future__ import annotations

import json
from typing import List, Optional, Tuple

from sqlalchemy.orm import Session

from assistant import dialogue
from assistant import team_draft, team_requests as parse
from assistant.models import User
from assistant.prompts import create_prompts, local_today as today
from assistant.reflection_flow import STOP_WORDS, Outcome
from assistant.reflections import list_sets
from assistant.users import team_of

CANCELLED = "OK, I haven't sent anything."
NOT_A_MANAGER = ("Only line managers can ask people to reflect, so I can't send that. If you'd like to reflect "
                 "on a session yourself, say \"reflect on a session\".")
CANCEL_BUTTON = {"title": "Cancel", "payload": "/leave"}
CONFIRM_BUTTONS = [{"title": "Send", "payload": "/affirm"}, {"title": "Change something", "payload": "/change"},
                   CANCEL_BUTTON]
SEND_WORDS = {"send", "send it", "send them", "yes send", "go", "go ahead", "do it", "confirm", "yes", "ok"}
DONE = {"prompt_draft": None, "prompt_reply": None, "confirm_prompt": False, "step_retries": 0.0}


def _context(manager: User, session: Session) -> Tuple[List[team_draft.Member], List[team_draft.SetOption]]:
    team = [team_draft.Member(u.id, u.display_name, u.username) for u in team_of(manager.id, session=session)]
    sets = [team_draft.SetOption(s.key, s.name, bool(s.is_default)) for s in list_sets(session=session)]
    return team, sets


def _state(raw: Optional[str]) -> Tuple[Optional[team_draft.TeamRequest], str]:
    """(draft, stage) from the ``prompt_draft`` slot; stage is ``confirm`` or ``change``."""
    if not raw:
        return None, "confirm"
    try:
        state = json.loads(raw)
        return team_draft.from_json(state["draft"]), state.get("stage", "confirm")
    except (ValueError, KeyError, TypeError):
        return None, "confirm"


def _dump(draft: team_draft.TeamRequest, stage: str = "confirm") -> str:
    return json.dumps({"draft": team_draft.to_json(draft), "stage": stage})


def request(manager: User, text: str, *, session: Session) -> Outcome:
    """A request to prompt people: parse it into a draft to confirm (``confirm_prompt``)."""
    out = Outcome(slots=dict(DONE))
    if manager.role != "manager":
        return out.say(NOT_A_MANAGER)
    team, sets = _context(manager, session)
    if not team:
        return out.say("You don't have anyone in your team yet, so there's no one to ask.")
    draft = parse.parse_request(text, team=team, sets=sets, today=today())
    out.slots.update(prompt_draft=_dump(draft), confirm_prompt=True)
    return out


def ask(manager: User, raw: Optional[str], retries: int, *, session: Session) -> Outcome:
    """The confirmation step: a question about the draft, or the draft and "Shall I send it?"."""
    draft, stage = _state(raw)
    if draft is None:
        return Outcome().say("Sorry, I've lost track of that request. Please ask me again.")
    sorry = "Sorry, I couldn't use that. " if retries >= 1 else ""
    if stage == "change":
        return Outcome().say(sorry + "What would you like to change? Tell me who, which questions, the due date or "
                             "the note (for example \"due Monday\" or \"only Alex\").", buttons=[CANCEL_BUTTON])
    if draft.problems:
        return Outcome().say(sorry + draft.problems[0].message, buttons=[CANCEL_BUTTON])
    team, sets = _context(manager, session)
    summary = "\n".join("- " + line for line in team_draft.describe(draft, team=team, sets=sets, today=today()).splitlines())
    return Outcome().say(f"{sorry}Here's what I'll send:\n\n{summary}\n\nShall I send it?", buttons=CONFIRM_BUTTONS)


def revise(manager: User, raw: Optional[str], text: str, *, retries: int, session: Session) -> Outcome:
    """Apply a typed change or an answer to the draft's question; unusable text counts as a retry."""
    draft, _ = _state(raw)
    out = Outcome()
    if draft is None:
        return out
    team, sets = _context(manager, session)
    revised = parse.apply_change(draft, text, team=team, sets=sets, today=today())
    if team_draft.to_json(revised) == team_draft.to_json(draft):
        out.slots = {"prompt_reply": None, "step_retries": float(retries + 1)}
        return out
    out.slots = {"prompt_draft": _dump(revised), "prompt_reply": None, "step_retries": 0.0}
    return out


def reply(manager: User, raw: Optional[str], intent: Optional[str], text: str, *, retries: int,
          session: Session) -> Outcome:
    """The manager's reply at the confirmation step: send, cancel, change, or a revision."""
    draft, stage = _state(raw)
    out = Outcome()
    said = " ".join(dialogue.words(text))
    if draft is None or intent == "deny" or text.strip() == "/deny" or said in STOP_WORDS:
        out.slots = {"prompt_reply": "cancel"}
        return out
    if (intent == "affirm" or text.strip() == "/affirm" or said in SEND_WORDS) and stage == "confirm":
        if draft.problems:
            out.slots = {"prompt_reply": None, "step_retries": float(retries + 1)}
            return out
        out.slots = {"prompt_reply": "send", "step_retries": 0.0}
        return out
    if intent == "change" or text.strip() == "/change":
        out.slots = {"prompt_draft": _dump(draft, "change"), "prompt_reply": None, "step_retries": 0.0}
        return out
    return revise(manager, raw, text, retries=retries, session=session)


def send(manager: User, raw: Optional[str], decision: Optional[str], *, session: Session) -> Outcome:
    """Create the prompts if the manager chose to send; otherwise nothing is written."""
    out = Outcome(slots=dict(DONE))
    draft, _ = _state(raw)
    if decision != "send" or draft is None or draft.problems:
        return out.say(CANCELLED)
    team = {u.id: u for u in team_of(manager.id, session=session)}
    due = draft.due_date or team_draft.default_due_date(today())
    prompts = create_prompts(manager=manager, practitioner_ids=draft.recipients, set_key=draft.set_key,
                             note=draft.note, due_date=due, session=session)
    names = ", ".join(team[p.practitioner_id].display_name for p in prompts if p.practitioner_id in team)
    n = len(prompts)
    return out.say(f"Sent: I've asked {n} {'person' if n == 1 else 'people'} ({names}) to reflect, due "
                   f"{team_draft.format_date(due, today())}. They'll see it next time they open the chat. You'll see "
                   "who has completed one, and any reflections they choose to share, on your team page.")

