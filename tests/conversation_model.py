"""A seeded model of people who don't follow the script, for generated conversations.

Each turn it reads the assistant's last reply, works out which step the person is at
(choosing a set, a reflection question, the share question, a manager's confirmation,
or nothing) and picks something a person might send there: a button (current or from an
earlier step), a typed choice, free text, a leave-word, an FAQ question, chit-chat, an
empty, emoji-only or 4,000-character message. Every message carries its kind, so the
checks know what the person gave and what they were told.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

LEAVE = ["stop", "cancel", "never mind", "forget it, I'll do this later", "not now", "I'll do this later",
         "maybe later", "nevermind", "stop for now", "actually, scrap that"]
# FAQ questions a practitioner might ask mid-flow: each must be answered outright
FAQS = {"what is pro-social modelling?": "prosocial_modelling", "what does SEED stand for?": "seed_what_is",
        "what is desistance?": "desistance", "what is motivational interviewing?": "motivational_interviewing",
        "what is the offender engagement programme?": "oep_what_is",
        "what is the reflective supervision model?": "rsm_what_is"}
CHITCHAT = ["hi", "hello", "thanks", "thank you", "help", "are you a bot?"]
SET_TYPED = ["gibbs", "gibbs please", "what so what", "the first one", "2", "the usual", "default", "number 4",
             "the second one", "two minute check", "SEED", "the last one"]
REFLECTIONS = [
    "He arrived on time and we talked about his housing for most of the session",
    "It went better than last time, she was more open about the pressure at home",
    "We reviewed the licence conditions and agreed two goals for next month",
    "I felt rushed and I think he noticed, I should have slowed down",
    "She said the unpaid work placement is going well and she wants more hours",
    "we set an agenda together at the start and it helped",
]
SHORT_ANSWERS = ["went well", "Agreed a plan", "yes, I think so", "not really", "Check in about work first",
                 "more listening"]
START = ["I'd like to reflect on a session", "can I reflect on this morning?", "just finished a session with a new case",
         "start a reflection", "continue my reflection", "let's do a reflection"]
MANAGER = ["please ask {a} to do a Gibbs reflection by Friday", "remind my team to reflect on this week's sessions",
           "prompt {a} and {b} about their new-case sessions, due 3 December", "ask {a} to reflect next week",
           "get {c} to do the two minute check by the end of the month"]
ODD = ["", "   ", "?!", "🙂👍", "...", "x" * 4000, "a" * 5000]


@dataclass
class Sent:
    """One message the person sent: its kind, text (or payload) and the step it was sent at."""

    kind: str
    text: str = ""
    payload: Optional[str] = None
    step: str = "none"


@dataclass
class Person:
    """A user and what they have seen so far (for stale buttons)."""

    username: str
    role: str
    team_names: List[str] = field(default_factory=list)
    seen_buttons: List[str] = field(default_factory=list)


def step_of(messages: List[Dict]) -> str:
    """The step the last reply leaves the person at."""
    text = " ".join(m.get("text") or "" for m in messages)
    if re.search(r"\*\*Question \d+ of \d+\.\*\*", text):
        return "question"
    if "Which questions would you like" in text or "which set you'd like" in text:
        return "set"
    if "share this reflection" in text or "Share it with" in text:
        return "share"
    if "Shall I send it?" in text or "What would you like to change?" in text or \
            any(b.get("payload") == "/change" for m in messages for b in m.get("buttons") or []):
        return "confirm"
    if any("Cancel" == b.get("title") for m in messages for b in m.get("buttons") or []):
        return "confirm"
    return "none"


def question_number(messages: List[Dict]) -> Optional[int]:
    """The number of the reflection question a reply asks, if any."""
    match = re.search(r"\*\*Question (\d+) of \d+\.\*\*", " ".join(m.get("text") or "" for m in messages))
    return int(match.group(1)) if match else None


def buttons_of(messages: List[Dict]) -> List[str]:
    """Payloads of the buttons in a reply."""
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def next_message(rng: random.Random, person: Person, step: str, buttons: List[str]) -> Sent:
    """What the person sends next, at ``step`` with ``buttons`` on screen."""
    roll = rng.random()
    if step == "none":
        if person.role == "manager" and roll < 0.6 and person.team_names:
            a, b, c = (rng.choice(person.team_names) for _ in range(3))
            return Sent("manager_request", rng.choice(MANAGER).format(a=a, b=b, c=c), step=step)
        if roll < 0.7:
            return Sent("start", rng.choice(START), step=step)
        return rng.choice([Sent("faq", rng.choice(list(FAQS)), step=step), Sent("chitchat", rng.choice(CHITCHAT), step=step),
                           Sent("leave", rng.choice(LEAVE), step=step), Sent("stale", payload="/affirm", step=step)])
    if roll < 0.10:
        return Sent("leave", rng.choice(LEAVE), step=step)
    if roll < 0.20:
        return Sent("faq", rng.choice(list(FAQS)), step=step)
    if roll < 0.28:
        return Sent("chitchat", rng.choice(CHITCHAT), step=step)
    if roll < 0.34:
        return Sent("odd", rng.choice(ODD), step=step)
    if roll < 0.40 and person.seen_buttons:
        stale = [p for p in person.seen_buttons if p not in buttons]
        if stale:
            return Sent("stale", payload=rng.choice(stale), step=step)
    if buttons and roll < 0.65:
        return Sent("button", payload=rng.choice(buttons), step=step)
    if step == "set":
        return Sent("set_typed", rng.choice(SET_TYPED), step=step) if roll < 0.85 else \
            Sent("reflection", rng.choice(REFLECTIONS), step=step)
    if step == "question":
        if roll < 0.75:
            return Sent("answer", rng.choice(REFLECTIONS + SHORT_ANSWERS), step=step)
        return Sent("skip", "skip", step=step)
    if step == "share":
        return Sent("yes_no", rng.choice(["yes", "no", "yes please", "no thanks", "keep it private"]), step=step)
    return Sent("confirm_typed", rng.choice(["send it", "yes", "only " + (person.team_names or ["Alex"])[0],
                                             "make it due Monday", "change", "use the gibbs questions"]), step=step)
