"""Pure decisions about a message typed in the middle of a multi-turn flow (a
reflection, the share question, a manager's prompt confirmation): is it a way out,
an aside (a question, a greeting), a stale button, a choice of question set, or an
answer? No database and no Rasa here, so every case is a plain unit test.

The NLU intent decides first; the checks here only keep a real answer from being
lost when the NLU misreads it (a long reflection that mentions "later" is not a
request to leave).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

# Intents that are never an answer to a step: the form's from_text mappings exclude
# them (domain.yml, `not_intent`) and the rules send them to the aside / leave actions.
LEAVE_INTENT = "leave"
ASIDE_INTENTS = ("faq", "out_of_scope", "greet", "thanks", "help", "bot_challenge", "goodbye",
                 "start_reflection", "prompt_team")
# A message this long is content, whatever the intent: keep it as the answer.
MAX_LEAVE_WORDS = 12
MAX_CHITCHAT_WORDS = 6
QUESTION_START = re.compile(
    r"^(what|what's|whats|why|how|who|when|where|which|is|are|can|could|should|do|does|did|will|would|"
    r"tell me|explain)\b", re.I)
# At a reflection question a short answer ("went well", "all good") can read as a greeting
# or goodbye; only a message with one of these words is taken as chit-chat there.
CHITCHAT_MARKERS = re.compile(
    r"\b(hi|hiya|hello|hey|morning|afternoon|evening|thanks|thank|cheers|ta|bye|goodbye|cheerio|see you|"
    r"help|bot|robot|human|person|ai|chatgpt|who are you|what can you)\b", re.I)
# A manager's request, even mid-reflection ("ask my team to reflect"), starts with a verb like these.
TEAM_COMMAND = re.compile(r"^\s*(please\s+|can you\s+|could you\s+)?(ask|remind|prompt|nudge|tell|send)\b", re.I)
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
PAYLOAD = re.compile(r"^/[a-z_]+(\{.*\})?$", re.S)
ORDINALS = {"first": 1, "1st": 1, "one": 1, "second": 2, "2nd": 2, "two": 2, "third": 3, "3rd": 3,
            "three": 3, "fourth": 4, "4th": 4, "four": 4, "fifth": 5, "5th": 5, "five": 5,
            "last": -1, "top": 1}
DEFAULT_WORDS = {"default", "usual", "normal", "standard", "any", "anything", "whatever", "either",
                 "you choose", "dont mind", "don't mind", "up to you", "surprise me", "recommended"}
# words that say nothing about which set ("the gibbs one please")
FILLER = {"the", "a", "an", "one", "ones", "set", "sets", "question", "questions", "please", "pls", "use",
          "using", "lets", "let's", "do", "go", "with", "for", "i'll", "ill", "take", "id", "i'd", "like",
          "want", "option", "number", "no", "ok", "okay", "yes", "yeah", "thanks", "cycle", "model",
          "reflection", "reflect", "try", "pick", "choose", "i", "we", "it", "that", "this", "is", "of",
          "me", "to", "on", "and", "in"}
# words shared by several set names, so they can't pick one on their own
WEAK = {"check", "what", "so", "now", "in", "skills"}


def words(text: str) -> list:
    """Lower-case words of ``text`` (letters and digits; apostrophes kept inside words)."""
    return [w.lower() for w in WORD.findall(text or "")]


def has_content(text: Optional[str]) -> bool:
    """False for empty text or text of only punctuation, symbols or emoji."""
    return bool(words(text or ""))


def is_payload(text: Optional[str]) -> bool:
    """True if ``text`` is a button's payload ("/affirm", "/inform{...}") rather than typed words.

    The web app strips leading slashes from typed text, so only buttons start with one."""
    return bool(PAYLOAD.match((text or "").strip()))


def looks_like_question(text: str) -> bool:
    """A question rather than a statement: ends with "?" or starts like one."""
    stripped = (text or "").strip()
    return stripped.endswith("?") or bool(QUESTION_START.match(stripped))


def is_clear_question(text: str) -> bool:
    """A question beyond doubt: ends with "?", or starts like one and runs to four words or
    more ("what so what" is a set's name, "what is the OEP" a question)."""
    stripped = (text or "").strip()
    return stripped.endswith("?") or (bool(QUESTION_START.match(stripped)) and len(words(stripped)) >= 4)


def looks_like_reflection(text: str) -> bool:
    """Free text that is clearly about a session (a few words, not a question, and not a
    short request to reflect such as "I'd like to do a reflection please")."""
    n = len(words(text))
    asks_to_reflect = n <= 12 and re.search(r"\breflect", text or "", re.I) is not None
    return n >= 5 and not asks_to_reflect and not looks_like_question(text) and not is_payload(text)


def means_leave(intent: Optional[str], text: str) -> bool:
    """The NLU says "leave" and the message is short enough to be only that."""
    return intent == LEAVE_INTENT and (is_payload(text) or len(words(text)) <= MAX_LEAVE_WORDS)


@dataclass(frozen=True)
class Aside:
    """What to do with a message the form did not take as an answer.

    ``kind``: ``question`` (answer it as an FAQ), ``chitchat`` (short reply to ``intent``),
    ``already_reflecting``, ``team_request``, ``stale_button`` or ``answer`` (it is the
    step's answer after all)."""

    kind: str
    intent: Optional[str] = None


def classify_aside(intent: Optional[str], text: str, *, answering_question: bool) -> Aside:
    """Decide what an off-script message is. ``answering_question`` is True at a reflection
    question, where anything that isn't clearly something else must be kept as the answer."""
    n = len(words(text))
    if is_payload(text):
        if text.startswith("/faq"):
            return Aside("question", intent)
        return Aside("stale_button", intent)
    if intent in ("greet", "thanks", "goodbye", "bot_challenge", "help") and n <= MAX_CHITCHAT_WORDS and (
            not answering_question or CHITCHAT_MARKERS.search(text)):
        return Aside("chitchat", intent)
    if intent == "start_reflection" and (not answering_question or (n <= 12 and re.search(r"\breflect", text, re.I))):
        return Aside("already_reflecting", intent)
    if intent == "prompt_team" and n <= 25 and (not answering_question or TEAM_COMMAND.match(text)):
        return Aside("team_request", intent)
    if intent in ("faq", "out_of_scope") and (looks_like_question(text) or not answering_question):
        return Aside("question", intent)
    if answering_question:
        return Aside("answer", intent)
    return Aside("chitchat", intent) if intent in ("greet", "thanks", "goodbye", "bot_challenge", "help") \
        else Aside("question", intent)


@dataclass(frozen=True)
class SetOption:
    """A question set as the chooser sees it."""

    key: str
    name: str
    is_default: bool = False


def choose_set(text: str, sets: Sequence[SetOption]) -> Optional[str]:
    """The key of the set a typed reply picks, or None.

    Understands a key or (part of) a name ("gibbs", "what so what", "two minute"), a
    number or ordinal in the order the buttons show ("2", "the first one", "last"),
    and "the usual" / "default" / "you choose"."""
    if not sets:
        return None
    raw = (text or "").strip()
    keys = {s.key: s for s in sets}
    if raw in keys:
        return raw
    ws = words(raw)
    joined = " ".join(ws)
    if any((d in joined) if " " in d else (d in ws) for d in DEFAULT_WORDS):
        default = next((s for s in sets if s.is_default), sets[0])
        return default.key
    # the whole name or a run of it, however punctuated ("what so what", "two minute")
    exact = [s.key for s in sets if joined in (" ".join(words(s.name)), s.key.replace("_", " "))]
    runs = [s.key for s in sets if len(joined) >= 4 and joined not in WEAK and joined in " ".join(words(s.name))]
    if joined and len(exact or runs) == 1:
        return (exact or runs)[0]
    significant = [w for w in ws if w not in FILLER]
    numbers = [int(w) for w in significant if w.isascii() and w.isdigit()]
    ordinals = [ORDINALS[w] for w in significant if w in ORDINALS]
    picks = numbers or ordinals
    if len(significant) <= 2 and len(picks) == 1:
        index = picks[0]
        if index == -1:
            return sets[-1].key
        if 1 <= index <= len(sets):
            return sets[index - 1].key
    candidates = set()
    for w in significant:
        if w in WEAK or w.isdigit():  # isdigit: also "¹", never a name word
            continue
        for s in sets:
            name_words = set(words(s.name)) | set(s.key.split("_"))
            if w in name_words or (len(w) >= 4 and any(n.startswith(w) or w.startswith(n) for n in name_words
                                                       if len(n) >= 4)):
                candidates.add(s.key)
    if len(candidates) == 1 and len(significant) <= 6:
        return candidates.pop()
    return None


# Short replies to chit-chat in the middle of a flow: the step's question follows.
CHITCHAT_REPLIES = {
    "greet": "Hello!",
    "thanks": "You're welcome.",
    "goodbye": "Before you go: you can say **stop** to leave this for now.",
    "bot_challenge": "I'm an automated assistant, not a person.",
    "help": "You can answer the question below, ask me a question about the Probation Rules or the "
            "programme at any time, or say **stop** to leave this for now.",
}


def chitchat_reply(intent: Optional[str]) -> str:
    """The short reply to a greeting, thanks or "help" in the middle of a flow."""
    return CHITCHAT_REPLIES.get(intent or "", CHITCHAT_REPLIES["help"])
