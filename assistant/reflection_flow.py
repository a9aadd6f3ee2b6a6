"""The reflection conversation's logic, used by the (thin) Rasa actions.

Every function that touches the database takes ``*, session`` and never commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from sqlalchemy.orm import Session

from assistant import reflections as data
from assistant.answering import decide
from assistant.masking import mask
from assistant.models import Reflection, ReflectionSet, User

MAX_QUESTIONS = data.MAX_QUESTIONS
# slot values for answered questions (the text itself is only in the database)
SAVED, SKIPPED = "__saved__", "__skipped__"
STOP_WORDS = {"stop", "pause", "later", "stop reflection", "stop the reflection", "pause reflection",
              "i'll finish later", "finish later", "quit", "exit", "cancel", "stop for now"}
SKIP_WORDS = {"skip", "pass", "next", "skip this", "skip this one", "skip it", "no answer", "n/a", "na",
              "skip question", "next question"}
QUESTION_START = re.compile(r"^(what|why|how|who|when|where|which|is|are|can|could|should|do|does|will|would)\b", re.I)
INTRO = ("I'll ask {n} short question{s}, one at a time. Type **skip** to skip one, or **stop** to pause "
         "and carry on later. Please don't include names or case details of the people you work with. "
         "What you write is private to you unless you choose to share it.")


@dataclass
class Outcome:
    """What an action should do: messages to send and slots to set."""

    messages: List[Dict[str, Any]] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)

    def say(self, text: str, **kwargs) -> "Outcome":
        self.messages.append({"text": text, **kwargs})
        return self


def kind_of_answer(text: Optional[str]) -> str:
    """``stop``, ``skip``, ``empty`` or ``answer`` for a typed answer."""
    norm = re.sub(r"[^a-z/' ]", "", (text or "").strip().lower()).strip()
    if not norm and not (text or "").strip():
        return "empty"
    if norm in STOP_WORDS:
        return "stop"
    if norm in SKIP_WORDS:
        return "skip"
    return "answer"


def faq_interruption(parse: Dict[str, Any], *, answer_threshold: float) -> Optional[str]:
    """The FAQ key if the message is clearly a question to answer rather than a reflection answer."""
    text = (parse.get("text") or "").strip()
    if not (text.endswith("?") or QUESTION_START.match(text)) or len(text) > 200:
        return None
    decision = decide(parse, answer_threshold=answer_threshold, suggest_threshold=1.01)
    return decision.key if decision.kind == "answer" else None


def set_buttons(sets: List[ReflectionSet]) -> List[Dict[str, str]]:
    """Buttons to choose a question set."""
    return [{"title": f"{s.name} ({len(s.questions)} question{'s' if len(s.questions) != 1 else ''})",
             "payload": '/inform{"reflection_set": "%s"}' % s.key} for s in sets]


def asks_to_reflect(text: str) -> bool:
    """True if an answer given mid-reflection is really a request to start one ("can I
    reflect on this morning?"). NLU alone can't tell: an answer about a session ("we had a
    good session") often looks like a request to reflect on it, and must be kept."""
    return len(text) <= 80 and re.search(r"\breflect", text, re.IGNORECASE) is not None


def resume_slots(reflection: Reflection, set_row: ReflectionSet) -> Dict[str, Any]:
    """Slots that make the form carry on after the questions already answered."""
    answered = {a.qid: (SKIPPED if a.skipped else SAVED) for a in reflection.answers}
    slots = {"reflection_id": float(reflection.id), "reflection_set": set_row.key, "reflection_paused": False}
    for i, q in enumerate(set_row.questions, start=1):
        slots[f"q{i}"] = answered.get(q.qid)
    return slots


def start(user: User, *, run_id: str, set_key: Optional[str], prompt_id: Optional[int], session: Session) -> Outcome:
    """Start a reflection, or resume the one in progress (a second start never opens a second one)."""
    out = Outcome()
    current = data.open_reflection(user.id, session=session)
    if current is not None and current.run_id != run_id:
        set_row = data.get_set(current.set_key, session=session)
        if set_row is not None:
            done = len(current.answers)
            out.say(f"You already have a reflection in progress ({current.set_name}, {done} of "
                    f"{len(set_row.questions)} answered). Let's carry on where you left off.")
            out.slots = resume_slots(current, set_row)
            return out
    if prompt_id is not None and set_key is None:
        from assistant.prompts import own_prompt
        try:
            set_key = own_prompt(prompt_id, user.id, session=session).set_key
        except data.ReflectionError:
            prompt_id = None
    set_row = data.get_set(set_key, session=session) if set_key else None
    blank = {f"q{i}": None for i in range(1, MAX_QUESTIONS + 1)}
    if set_row is None:
        out.say("Let's reflect on your session.")
        out.slots = {**blank, "reflection_id": None, "reflection_set": None, "reflection_paused": False}
        return out
    reflection = current if current is not None else data.start_reflection(
        author_id=user.id, run_id=run_id, set_row=set_row, prompt_id=prompt_id, session=session)
    n = len(set_row.questions)
    out.say(f"Let's reflect using **{set_row.name}**. " + INTRO.format(n=n, s="s" if n != 1 else ""))
    out.slots = {**blank, **resume_slots(reflection, set_row)}
    return out


def choose_set(user: User, value: str, *, run_id: str, session: Session) -> Outcome:
    """Validate the question set typed or picked inside the form; create the reflection."""
    out = Outcome()
    set_row = data.find_set(value, session=session)
    if set_row is None:
        sets = data.list_sets(session=session)
        out.say("Please pick one of these question sets:", buttons=set_buttons(sets))
        out.slots = {"reflection_set": None}
        return out
    reflection = data.start_reflection(author_id=user.id, run_id=run_id, set_row=set_row, session=session)
    n = len(set_row.questions)
    out.say(f"**{set_row.name}** it is. " + INTRO.format(n=n, s="s" if n != 1 else ""))
    out.slots = {"reflection_set": set_row.key, "reflection_id": float(reflection.id)}
    return out


def ask(set_key: Optional[str], n: int, *, session: Session) -> Outcome:
    """The text of question ``n`` (1-based) of the set."""
    set_row = data.get_set(set_key, session=session)
    if set_row is None or n > len(set_row.questions):
        return Outcome().say("Sorry, I've lost track of the questions. Say \"continue my reflection\" to carry on.")
    return Outcome().say(f"**Question {n} of {len(set_row.questions)}.** {set_row.questions[n - 1].ask}")


def required_slots(set_key: Optional[str], *, session: Session) -> List[str]:
    """The form's slots: the set, then one per question in it."""
    set_row = data.get_set(set_key, session=session) if set_key else None
    count = len(set_row.questions) if set_row else 1
    return ["reflection_set"] + [f"q{i}" for i in range(1, count + 1)]


def answer(user: User, reflection_id: Optional[float], n: int, text: str, *, session: Session) -> Outcome:
    """Validate and save the answer to question ``n``: skip, stop, or a (masked) answer."""
    out = Outcome()
    slot = f"q{n}"
    kind = kind_of_answer(text)
    if kind == "stop":
        out.say("No problem: I've paused your reflection and kept your answers so far. "
                "Say \"continue my reflection\" whenever you're ready.")
        out.slots = {slot: None, "reflection_paused": True}
        return out
    if kind == "empty":
        out.say("Could you write a few words? Or type **skip** to move on.")
        out.slots = {slot: None}
        return out
    reflection = data.get_own(int(reflection_id), user.id, session=session) if reflection_id else None
    set_row = data.get_set(reflection.set_key, session=session) if reflection else None
    if reflection is None or set_row is None or n > len(set_row.questions):
        out.say("Sorry, I couldn't find your reflection. Say \"continue my reflection\" to pick it up again.")
        out.slots = {slot: None, "reflection_paused": True}
        return out
    question = set_row.questions[n - 1]
    if kind == "skip":
        data.save_answer(reflection, position=n, qid=question.qid, question=question.ask, answer=None,
                         session=session)
        out.slots = {slot: SKIPPED}
        return out
    if len(text) > data.MAX_ANSWER_CHARS:
        out.say(f"That answer is {len(text):,} characters long; please keep each answer under "
                f"{data.MAX_ANSWER_CHARS:,} characters (you could summarise, or send it in two parts).")
        out.slots = {slot: None}
        return out
    masked = mask(text.strip())
    data.save_answer(reflection, position=n, qid=question.qid, question=question.ask, answer=masked.text,
                     masked_count=sum(masked.found.values()), session=session)
    if masked.changed:
        out.say(masked.notice())
    out.slots = {slot: SAVED}
    return out


def finish(user: User, reflection_id: Optional[float], paused: bool, *, session: Session) -> Outcome:
    """After the form: a summary and the share question when complete; nothing more when paused."""
    reset = {**{f"q{i}": None for i in range(1, MAX_QUESTIONS + 1)}, "reflection_id": None,
             "reflection_set": None, "reflection_paused": False, "requested_slot": None}
    out = Outcome(slots=dict(reset))
    if paused or not reflection_id:
        return out
    reflection = data.get_own(int(reflection_id), user.id, session=session)
    set_row = data.get_set(reflection.set_key, session=session)
    if set_row is None or len(reflection.answers) < len(set_row.questions):
        return out.say("Your reflection is paused with your answers saved. Say \"continue my reflection\" to finish it.")
    data.complete(reflection, session=session)
    lines = [f"Thank you. Here is a summary of your reflection (**{reflection.set_name}**):", ""]
    for a in reflection.answers:
        lines.append(f"- **{a.question}** {'_(skipped)_' if a.skipped else a.answer}")
    out.say("\n".join(lines))
    if user.manager is None:
        return out.say("It's saved privately. You don't have a line manager set up, so there's no one to share it with.")
    out.say(f"Would you like to share this reflection with your line manager, {user.manager.display_name}? "
            "They'll be able to read it. If not, it stays private to you.",
            buttons=[{"title": "Yes, share it", "payload": "/affirm"},
                     {"title": "No, keep it private", "payload": "/deny"}])
    out.slots["share_pending"] = float(reflection.id)
    return out


def share(user: User, reflection_id: Optional[float], yes: bool, *, session: Session) -> Outcome:
    """Apply the share decision for the reflection waiting for one."""
    out = Outcome(slots={"share_pending": None})
    if not reflection_id:
        return out.say("There's no reflection waiting to be shared right now.")
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
