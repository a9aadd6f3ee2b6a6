"""The simulated practitioners' conversation script."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple


from assistant.web.render import allowed_payload, payload_key


# --------------------------------------------------------------------------- conversations

GREETINGS = ["hi", "hello", "good morning", "hi there"]
THANKS = ["thanks", "thank you", "cheers, that's helpful", "great, thanks"]
CHITCHAT = ["are you a bot?", "what can you do?", "help"]
START_TYPED = ["I'd like to reflect on a session", "can I reflect on this morning's supervision?",
               "just finished a session with a new case, can I reflect?", "start a reflection",
               "let's do a reflection"]
# set keys, as the page's buttons carry them, with how often each is chosen
SET_WEIGHTS = {"quick_check": 4, "what_so_what_now_what": 3, "gibbs": 2, "seed_engagement": 1}
ANSWERS = [
    "He arrived on time and we talked about his housing for most of the session",
    "It went better than last time, she was more open about the pressure at home",
    "We reviewed the licence conditions and agreed two goals for next month",
    "I felt rushed and I think he noticed, I should have slowed down",
    "She said the unpaid work placement is going well and she wants more hours",
    "We set an agenda together at the start and it helped",
    "Agreed a plan for the next appointment",
    "I'll check in about work first next time",
    "More listening and fewer questions",
    "He was worried about his benefits being stopped, so we spent time on that before anything else",
]
QUESTION_RE = re.compile(r"\*\*Question (\d+) of (\d+)\.\*\*")
MAX_REFLECTION_TURNS = 20  # a reflection that has not ended by then is abandoned by the script


@dataclass
class Turn:
    """One message a simulated user sends: typed text or a button's payload, and its kind."""

    kind: str
    text: Optional[str] = None
    payload: Optional[str] = None

    def body(self) -> dict:
        return {"payload": self.payload} if self.payload is not None else {"message": self.text or ""}


def step_of(messages: Optional[List[dict]]) -> str:
    """Where a reply leaves the user: ``set`` (choose a question set), ``question``,
    ``share``, ``confirm`` (a draft to confirm) or ``none``."""
    if not messages:
        return "none"
    text = " ".join(m.get("text") or "" for m in messages)
    if QUESTION_RE.search(text):
        return "question"
    if "Which questions would you like" in text or "which set you'd like" in text:
        return "set"
    if "share this reflection" in text or "Share it with" in text:
        return "share"
    if "Shall I send it?" in text or "What would you like to change?" in text:
        return "confirm"
    return "none"


def buttons_of(messages: Optional[List[dict]]) -> List[str]:
    """Payloads of the reply's buttons that the page may send (others are never pressed)."""
    return [b.get("payload") for m in messages or [] for b in m.get("buttons") or []
            if isinstance(b, dict) and allowed_payload(b.get("payload"))]


def set_payload(key: str) -> str:
    return '/inform{"reflection_set": "%s"}' % key


class Conversation:
    """One simulated practitioner's side of the chat, for as long as the run lasts.

    A session is planned (greeting, FAQs, a reflection, more FAQs, thanks) and played out
    against the replies; when it ends the next one is planned. :meth:`next_turn` takes the
    last reply (None before the first message) and returns the next message."""

    def __init__(self, rng: random.Random, faq_questions: Sequence[str], reflect_share: float = 0.5) -> None:
        if not faq_questions:
            raise ValueError("need FAQ questions")
        self.rng = rng
        self.faqs = list(faq_questions)
        self.reflect_share = reflect_share
        self.goals: List[Tuple[str, Optional[str]]] = []
        self.reflecting = False
        self.reflect_turns = 0
        self.set_key: Optional[str] = None
        self.aside_pending = False
        self.share: str = "/affirm"
        self.last: Optional[Turn] = None
        self.sessions = 0

    def plan(self) -> List[Tuple[str, Optional[str]]]:
        """The goals of one session: (kind, text or None)."""
        rng = self.rng
        goals: List[Tuple[str, Optional[str]]] = []
        if rng.random() < 0.5:
            goals.append(("greeting", rng.choice(GREETINGS)))
        goals += [("faq", rng.choice(self.faqs)) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.15:
            goals.append(("chitchat", rng.choice(CHITCHAT)))
        if rng.random() < 0.8:
            goals.append(("reflect", None))
        goals += [("faq", rng.choice(self.faqs)) for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.6:
            goals.append(("thanks", rng.choice(THANKS)))
        self.sessions += 1
        return goals

    def next_turn(self, reply: Optional[List[dict]]) -> Turn:
        turn = self._next(reply)
        assert turn.payload is None or allowed_payload(turn.payload), turn
        self.last = turn
        return turn

    def _next(self, reply: Optional[List[dict]]) -> Turn:
        rng = self.rng
        step = step_of(reply)
        buttons = buttons_of(reply)
        if step in ("set", "question", "share") and not self.reflecting:
            self._begin_reflection()  # the assistant is mid-reflection (e.g. resumed): play along
        if self.reflecting:
            self.reflect_turns += 1
            if step == "none" or self.reflect_turns > MAX_REFLECTION_TURNS:
                self.reflecting = False
            else:
                return self._reflection_turn(step, buttons)
        # "Did you mean...?": sometimes press the first suggestion
        if self.last is not None and self.last.kind == "faq":
            suggested = [b for b in buttons if payload_key(b)]
            if suggested and rng.random() < 0.5:
                return Turn("faq_button", payload=suggested[0])
        if not self.goals:
            self.goals = self.plan()
        kind, text = self.goals.pop(0)
        if kind != "reflect":
            return Turn(kind, text=text)
        self._begin_reflection()
        roll = rng.random()
        if roll < 0.5:
            return Turn("start_typed", text=rng.choice(START_TYPED))
        if roll < 0.75:
            return Turn("start_button", payload="/start_reflection")
        return Turn("start_button", payload='/start_reflection{"reflection_set": "%s"}' % self.set_key)

    def _begin_reflection(self) -> None:
        rng = self.rng
        self.reflecting = True
        self.reflect_turns = 0
        self.set_key = rng.choices(list(SET_WEIGHTS), weights=list(SET_WEIGHTS.values()))[0]
        self.aside_pending = rng.random() < 0.3
        self.share = "/affirm" if rng.random() < self.reflect_share else "/deny"

    def _reflection_turn(self, step: str, buttons: List[str]) -> Turn:
        rng = self.rng
        if step == "set":
            wanted = set_payload(self.set_key or "")
            choices = [b for b in buttons if b.startswith("/inform")]
            if wanted in buttons:
                return Turn("set_button", payload=wanted)
            if choices:
                return Turn("set_button", payload=choices[0])
            return Turn("set_typed", text="the usual")
        if step == "question":
            if self.aside_pending and rng.random() < 0.4:
                self.aside_pending = False
                return Turn("faq_aside", text=rng.choice(self.faqs))
            return Turn("answer", text=rng.choice(ANSWERS))
        if step == "share":
            if self.share in buttons:
                return Turn("share_button", payload=self.share)
            return Turn("share_typed", text="yes" if self.share == "/affirm" else "no, keep it private")
        # a draft to confirm (not a practitioner's step): decline it
        if "/deny" in buttons:
            return Turn("confirm_button", payload="/deny")
        return Turn("confirm_typed", text="cancel")


def growth_questions(dev: Sequence[Tuple[str, str]], n: int = 10) -> List[str]:
    """``n`` in-scope dev-set questions, one per FAQ key (the growth run's repeating cycle)."""
    seen, out = set(), []
    for text, key in dev:
        if key != "out_of_scope" and key not in seen:
            seen.add(key)
            out.append(text)
        if len(out) == n:
            break
    return out
