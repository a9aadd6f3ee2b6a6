"""The reflection conversation's logic, used by the (thin) Rasa actions: start or
resume, choose a question set, ask, save each answer, pause and finish (sharing it
afterwards: :mod:`assistant.reflection_share`).

Every function that touches the database takes ``*, session`` and never commits.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from sqlalchemy.orm import Session

from assistant import dialogue
from assistant import reflections as data
from assistant.masking import mask
from assistant.models import Reflection, ReflectionSet, User

MAX_QUESTIONS = data.MAX_QUESTIONS
QUESTION_SLOTS = [f"q{i}" for i in range(1, MAX_QUESTIONS + 1)]
# slot values for answered questions (the text itself is only in the database)
SAVED, SKIPPED = "__saved__", "__skipped__"
# typed words that always mean skip; leaving is the NLU's `leave` intent (dialogue.py),
# with these exact words as a backstop should the NLU read them as something else
SKIP_WORDS = {"skip", "pass", "next", "skip this", "skip this one", "skip it", "no answer", "n/a", "na",
              "skip question", "next question"}
STOP_WORDS = {"stop", "pause", "cancel", "quit", "exit", "stop for now", "finish later", "later"}
STOP_BUTTON = {"title": "Stop for now", "payload": "/leave"}
INTRO = ("I'll ask {n} short question{s}, one at a time. Type **skip** to skip one, or **stop** to pause "
         "and carry on later. Please don't include names or case details of the people you work with. "
         "What you write is private to you unless you choose to share it.")
PAUSED = ("No problem: I've paused your reflection and kept your answers so far. "
          "Say \"continue my reflection\" whenever you're ready.")


@dataclass
class Outcome:
    """What an action should do: messages to send, slots to set, other Rasa events."""

    messages: List[Dict[str, Any]] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)
    events: List[Dict[str, Any]] = field(default_factory=list)
    failed: bool = False

    def say(self, text: str, **kwargs) -> "Outcome":
        self.messages.append({"text": text, **kwargs})
        return self


def kind_of_answer(text: Optional[str]) -> str:
    """``stop``, ``skip``, ``empty``, ``button`` or ``answer`` for a typed answer."""
    if dialogue.is_payload(text):
        return "button"
    if not dialogue.has_content(text):
        return "empty"
    norm = " ".join(dialogue.words(text))
    if norm in STOP_WORDS:
        return "stop"
    if norm in SKIP_WORDS or (text or "").strip().lower() in SKIP_WORDS:
        return "skip"
    return "answer"


def set_options(sets: List[ReflectionSet]) -> List[dialogue.SetOption]:
    """The sets as :func:`dialogue.choose_set` sees them, in button order."""
    return [dialogue.SetOption(s.key, s.name, bool(s.is_default)) for s in sets]


def set_buttons(sets: List[ReflectionSet]) -> List[Dict[str, str]]:
    """Buttons to choose a question set, numbered as a typed "2" understands them."""
    return [{"title": f"{i}. {s.name} ({len(s.questions)} question{'s' if len(s.questions) != 1 else ''})",
             "payload": '/inform{"reflection_set": "%s"}' % s.key} for i, s in enumerate(sets, start=1)]


def resume_slots(reflection: Reflection, set_row: ReflectionSet) -> Dict[str, Any]:
    """Slots that make the form carry on after the questions already answered."""
    answered = {a.qid: (SKIPPED if a.skipped else SAVED) for a in reflection.answers}
    slots = {"reflection_id": float(reflection.id), "reflection_set": set_row.key, "reflection_paused": False}
    for i, q in enumerate(set_row.questions, start=1):
        slots[f"q{i}"] = answered.get(q.qid)
    return slots


def _intro(set_row: ReflectionSet, lead: str) -> str:
    n = len(set_row.questions)
    return lead + " " + INTRO.format(n=n, s="s" if n != 1 else "")


def start(user: User, *, run_id: str, set_key: Optional[str], prompt_id: Optional[int], session: Session) -> Outcome:
    """Start a reflection, or resume the one in progress (a second start never opens a second one)."""
    out = Outcome()
    blank = {**{s: None for s in QUESTION_SLOTS}, "step_retries": 0.0}
    current = data.open_reflection(user.id, session=session)
    if current is not None and current.run_id != run_id:
        set_row = data.get_set(current.set_key, session=session)
        if set_row is not None:
            done = len(current.answers)
            out.say(f"You already have a reflection in progress ({current.set_name}, {done} of "
                    f"{len(set_row.questions)} answered). Let's carry on where you left off.")
            out.slots = {**blank, **resume_slots(current, set_row)}
            return out
    if prompt_id is not None and set_key is None:
        from assistant.prompts import own_prompt
        try:
            set_key = own_prompt(prompt_id, user.id, session=session).set_key
        except data.ReflectionError:
            prompt_id = None
    set_row = data.get_set(set_key, session=session) if set_key else None
    if set_row is None:
        out.say("Let's reflect on your session.")
        out.slots = {**blank, "reflection_id": None, "reflection_set": None, "reflection_paused": False}
        return out
    reflection = current if current is not None else data.start_reflection(
        author_id=user.id, run_id=run_id, set_row=set_row, prompt_id=prompt_id, session=session)
    out.say(_intro(set_row, f"Let's reflect using **{set_row.name}**."))
    out.slots = {**blank, **resume_slots(reflection, set_row)}
    return out


def choose_set(user: User, text: str, *, run_id: str, retries: int, session: Session) -> Outcome:
    """The reply at the set step: a set (button, name, number, "the usual"), or the
    reflection itself (the default set starts with it as the first answer), or nothing
    usable (the ask action asks again, offering a way out after two)."""
    out = Outcome()
    if kind_of_answer(text) == "stop":  # the NLU missed a plain "stop": leave all the same
        out.say("OK, I've stopped. Say \"reflect on a session\" whenever you'd like to start one.")
        out.slots = {"reflection_set": None, "reflection_paused": True, "step_retries": 0.0}
        return out
    sets = data.list_sets(session=session)
    key = dialogue.choose_set(text, set_options(sets)) if len(dialogue.words(text)) <= 6 or text in \
        {s.key for s in sets} else None
    if key is None and dialogue.looks_like_reflection(text):
        default = next((s for s in sets if s.is_default), sets[0] if sets else None)
        if default is not None:
            return _start_with_answer(user, default, text, run_id=run_id, session=session)
    set_row = next((s for s in sets if s.key == key), None)
    if set_row is None:
        out.slots = {"reflection_set": None, "step_retries": float(retries + 1)}
        return out
    reflection = data.start_reflection(author_id=user.id, run_id=run_id, set_row=set_row, session=session)
    out.say(_intro(set_row, f"**{set_row.name}** it is."))
    out.slots = {"reflection_set": set_row.key, "reflection_id": float(reflection.id), "step_retries": 0.0}
    return out


def _start_with_answer(user: User, set_row: ReflectionSet, text: str, *, run_id: str, session: Session) -> Outcome:
    reflection = data.start_reflection(author_id=user.id, run_id=run_id, set_row=set_row, session=session)
    out = Outcome().say(_intro(set_row, f"I've started **{set_row.name}** and kept what you wrote as your "
                                        "answer to its first question."))
    saved = answer(user, float(reflection.id), 1, text, retries=0, session=session)
    out.messages += saved.messages
    out.slots = {"reflection_set": set_row.key, "reflection_id": float(reflection.id), **saved.slots}
    return out


def ask(set_key: Optional[str], n: int, *, retries: int = 0, session: Session) -> Outcome:
    """Question ``n`` (1-based) of the set; after two unusable replies, with a way out."""
    set_row = data.get_set(set_key, session=session)
    if set_row is None or n > len(set_row.questions):
        return Outcome().say("Sorry, I've lost track of the questions. Say \"continue my reflection\" to carry on.")
    text = f"**Question {n} of {len(set_row.questions)}.** {set_row.questions[n - 1].ask}"
    if retries >= 2:
        return Outcome().say(text + "\n\nYou can answer in a few words, type **skip**, or stop for now and "
                                    "carry on later.", buttons=[STOP_BUTTON])
    return Outcome().say(text)


def ask_set(retries: int, *, session: Session) -> Outcome:
    """The set question: plain first, then saying it didn't understand, then with a way out."""
    buttons = set_buttons(data.list_sets(session=session))
    if retries <= 0:
        return Outcome().say("Which questions would you like to use?", buttons=buttons)
    if retries == 1:
        return Outcome().say("Sorry, I didn't catch which set you'd like. Pick one, or type its name or "
                             "number:", buttons=buttons)
    return Outcome().say("I still can't tell which set you'd like. Pick one below, say \"the usual\" for the "
                         "default, or stop for now.", buttons=buttons + [STOP_BUTTON])


# Rasa asks for the form's slots on every turn of a reflection: the question count of each
# set is remembered for a minute per process instead of read each time (it was a fifth of
# the action server's CPU). Sets change only when content is loaded.
_COUNT_SECONDS = 60.0
_counts: Dict[tuple, tuple] = {}


def required_slots(set_key: Optional[str], *, session: Session, now: Optional[float] = None) -> List[str]:
    """The form's slots: the set, then one per question in it."""
    if not set_key:
        return ["reflection_set"] + QUESTION_SLOTS[:1]
    now = time.monotonic() if now is None else now
    key = (str(session.get_bind().url), set_key)
    count, until = _counts.get(key, (None, 0.0))
    if count is None or until <= now:
        set_row = data.get_set(set_key, session=session)
        count = len(set_row.questions) if set_row else 1
        if set_row is not None:
            _counts[key] = (count, now + _COUNT_SECONDS)
    return ["reflection_set"] + QUESTION_SLOTS[:count]


def answer(user: User, reflection_id: Optional[float], n: int, text: str, *, retries: int,
           session: Session, message_id: Optional[str] = None) -> Outcome:
    """Validate and save the answer to question ``n``: skip, stop, or a (masked) answer.
    Nothing is saved unless the practitioner wrote it (a stale button, punctuation only
    or an over-long answer is asked again). The database is the record of progress: if
    question ``n`` already has an answer from another message (the conversation lost a
    turn), this one goes to the first unanswered question instead of overwriting it."""
    out = Outcome()
    slot = f"q{n}"
    retry = {slot: None, "step_retries": float(retries + 1)}
    kind = kind_of_answer(text)
    if kind == "stop":
        out.say(PAUSED)
        out.slots = {slot: None, "reflection_paused": True, "step_retries": 0.0}
        return out
    if kind == "button":
        out.say("That button belongs to an earlier step, so I haven't used it as an answer.")
        out.slots = retry
        return out
    if kind == "empty":
        out.say("Could you write a few words? Or type **skip** to move on.")
        out.slots = retry
        return out
    reflection = data.get_own(int(reflection_id), user.id, session=session) if reflection_id else None
    set_row = data.get_set(reflection.set_key, session=session) if reflection else None
    if reflection is None or set_row is None or n > len(set_row.questions):
        out.say("Sorry, I couldn't find your reflection. Say \"continue my reflection\" to pick it up again.")
        out.slots = {slot: None, "reflection_paused": True}
        return out
    if kind != "skip" and len(text) > data.MAX_ANSWER_CHARS:
        out.say(f"That answer is {len(text):,} characters long; please keep each answer under "
                f"{data.MAX_ANSWER_CHARS:,} characters (you could summarise, or send it in two parts).")
        out.slots = retry
        return out
    masked = mask(text.strip()) if kind != "skip" else None
    target = n
    while True:
        question = set_row.questions[target - 1]
        try:
            data.save_answer(reflection, position=target, qid=question.qid, question=question.ask,
                             answer=masked.text if masked else None,
                             masked_count=sum(masked.found.values()) if masked else 0,
                             message_id=message_id, session=session)
            break
        except data.AnswerTaken:
            session.refresh(reflection)  # the answers as saved, not as first loaded
            later = data.first_unanswered(reflection, set_row)
            if later is None or later == target:  # all answered: nothing to overwrite, nothing to add
                out.slots = {f"q{i}": SAVED for i in range(1, len(set_row.questions) + 1)}
                return out
            target = later
    if target != n:  # catch the form up with what is saved
        out.say(f"(I've saved that as your answer to question {target}.)")
    if masked is not None and masked.changed:
        out.say(masked.notice())
    filled = {f"q{i}": SAVED for i in range(1, target)} if target != n else {}
    out.slots = {**filled, f"q{target}": SKIPPED if masked is None else SAVED, "step_retries": 0.0}
    if target != n:
        out.slots.setdefault(slot, SAVED)
    return out


def pause(user: User, reflection_id: Optional[float], *, session: Session) -> Outcome:
    """Leave the reflection: its answers stay saved and "continue my reflection" resumes it."""
    reset = {**{s: None for s in QUESTION_SLOTS}, "reflection_id": None, "reflection_set": None,
             "reflection_paused": False, "requested_slot": None, "step_retries": 0.0}
    out = Outcome(slots=reset)
    if reflection_id and data.open_reflection(user.id, session=session) is not None:
        return out.say(PAUSED)
    return out.say("OK, I've stopped. Say \"reflect on a session\" whenever you'd like to start one.")


def finish(user: User, reflection_id: Optional[float], paused: bool, *, session: Session) -> Outcome:
    """After the form: a summary, and whether to ask the share question (``ask_share``)."""
    reset = {**{s: None for s in QUESTION_SLOTS}, "reflection_id": None, "reflection_set": None,
             "reflection_paused": False, "requested_slot": None, "step_retries": 0.0,
             "ask_share": False, "share_pending": None, "share_choice": None}
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
    out.slots.update(ask_share=True, share_pending=float(reflection.id))
    return out
