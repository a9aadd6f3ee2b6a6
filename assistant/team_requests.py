"""Turn a line manager's chat request ("ask Alex to do a Gibbs reflection by Friday") into
a draft reflection prompt (assistant.team_draft), which the assistant describes and confirms
before sending; and apply the manager's corrections to the draft.

Pure functions (no database, Rasa or HTTP): the caller passes the manager's team and the
question sets, and keeps the draft between turns as JSON in a Rasa text slot. Nothing here
raises on odd input; whatever must be asked comes back in ``TeamRequest.problems``.
The due date is read by assistant.team_dates, the people by assistant.team_names; the
question set and the note are read here.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.team_dates import find_date
from assistant.team_draft import (
    DATE_PROBLEMS,
    NAME_PROBLEMS,
    Member,
    Problem,
    SetOption,
    Span,
    TeamRequest,
)
from assistant.team_names import find_recipients, names_at, only_names

MAX_NOTE_CHARS = 200

# Words that say nothing about which set is meant ("reflection", "questions"), so a set is
# never chosen because the manager said "what went well" or "check".
_GENERIC = {
    "the", "a", "an", "of", "in", "on", "and", "or", "to", "what", "so", "now", "check", "reflection",
    "reflections", "reflective", "reflect", "questions", "question", "set", "form", "skills", "minute",
    "minutes", "cycle",
}
_DEFAULT_WORDS = re.compile(r"\b(?:the\s+)?(?:default|usual|normal|standard)(?:\s+(?:questions|set|ones|reflection))?\b", re.IGNORECASE)
_ALIASES = {"what_so_what_now_what": ["what so what", "rolfe"], "quick_check": ["quick", "two minute", "2 minute"]}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _set_phrases(sets: Sequence[SetOption]) -> list[tuple[str, str]]:
    """(phrase, key) pairs a manager may use for each set, longest first."""
    counts: dict[str, int] = {}
    for s in sets:
        for w in set(_words(s.name) + _words(s.key)):
            counts[w] = counts.get(w, 0) + 1
    pairs = []
    for s in sets:
        name = _words(s.name)
        phrases = {" ".join(name), " ".join(_words(re.sub(r"\(.*?\)", "", s.name))), " ".join(_words(s.key))}
        phrases.update(f"{a} {b}" for a, b in itertools.pairwise(name) if not {a, b} <= _GENERIC)
        phrases.update(w for w in set(name + _words(s.key)) if counts[w] == 1 and len(w) >= 4 and w not in _GENERIC)
        phrases.update(_ALIASES.get(s.key, []))
        pairs += [(p, s.key) for p in phrases if p]
    return sorted(pairs, key=lambda p: -len(p[0]))


def _find_set(text: str, sets: Sequence[SetOption], skip: Sequence[Span] = ()) -> tuple[Span | None, str | None, bool]:
    """(span, set key, found): the set named in ``text``; "the default questions" is found with key None."""
    for phrase, key in _set_phrases(sets):
        pattern = r"\b" + r"[\W_]+".join(map(re.escape, phrase.split())) + r"(?:'s|')?(?!\w)"
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if not any(a < m.end() and m.start() < b for a, b in skip):
                return m.span(), key, True
    m = _DEFAULT_WORDS.search(text)
    return (m.span(), None, True) if m else (None, None, False)


_PRONOUNS = {"their": "your", "they": "you", "them": "you", "themselves": "yourselves", "theirs": "yours",
             "his": "your", "her": "your", "he": "you", "she": "you", "himself": "yourself", "herself": "yourself"}
# A note made only of these says nothing the prompt itself doesn't ("do a reflection").
_BOILERPLATE = {
    "a", "an", "the", "do", "complete", "fill", "in", "out", "reflect", "reflection", "reflections",
    "reflective", "questions", "question", "check", "set", "form", "some", "quick", "short", "please", "now",
    "soon", "asap", "it", "one", "their", "your", "using", "use", "with"
}


def _make_note(text: str) -> str | None:
    """A short note from what the request is about ("about their new-case sessions" ->
    "Reflect on your new-case sessions."), or None if it adds nothing."""
    text = " ".join(text.replace("\u2019", "'").split())
    text = re.sub(r"^[\W_]+", "", text)
    text = re.sub(r"^(?:please\s+)?(?:an?\s+(?:reminder|prompt|message|nudge|note)\s+)?(?:to\s+)?(?:please\s+)?", "",
                  text, flags=re.IGNORECASE)
    if re.match(r"(?:about|on|regarding|re|concerning|for)\b", text, re.IGNORECASE):
        text = "reflect on " + re.sub(r"^\w+\s*", "", text)
    text = re.sub(r"^that\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b\w+\b", lambda m: _PRONOUNS.get(m.group(0).lower(), m.group(0)), text)
    for _ in range(3):  # dangling words left where a date or set name was cut out
        text = re.sub(r"(?:[\s,;:\-]+|\b(?:and|by|with|using|due|please|thanks|thank you|for|on|a|the)\b)+[.!?]*$", "", text,
                      flags=re.IGNORECASE)
    if not re.search(r"[.!?]\s", text):  # one sentence: its "?" was the request's ("can you ask Jo to ...?")
        text = text.rstrip("?! ")
    words = _words(text)
    if not words or set(words) <= _BOILERPLATE or (words[0] == "reflect" and len(words) <= 2 and words[-1] == "on"):
        return None
    text = text[0].upper() + text[1:]
    if len(text) > MAX_NOTE_CHARS - 1:
        text = text[:MAX_NOTE_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
    return text if text[-1] in ".!?\u2026" else text + "."


def _cut(text: str, spans: Sequence[Span | None]) -> str:
    """``text`` without the given (possibly overlapping) spans."""
    merged: list[list[int]] = []
    for a, b in sorted(s for s in spans if s):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    for a, b in reversed(merged):
        text = text[:a] + " " + text[b:]
    return text


def _finish(draft: TeamRequest, team: Sequence[Member]) -> TeamRequest:
    """Recipients in team order without repeats; everyone when whole_team; and a problem if nobody."""
    order = [m.id for m in team]
    wanted = set(order) if draft.whole_team else set(draft.recipients)
    draft.recipients = [i for i in order if i in wanted]
    seen, problems = set(), []
    for p in draft.problems:
        if p.kind != "no_recipients" and (p.kind, p.text.lower()) not in seen:
            seen.add((p.kind, p.text.lower()))
            problems.append(p)
    if not draft.recipients and not any(p.kind in NAME_PROBLEMS for p in problems):
        problems.append(Problem("no_recipients", message="Who should I send it to? Name people in your team, or say \u201cmy team\u201d."))
    draft.problems = problems
    return draft


def parse_request(text: str, *, team: Sequence[Member], sets: Sequence[SetOption], today: dt.date) -> TeamRequest:
    """Read a manager's request ("prompt Sam and Jo about their new-case sessions, due
    3 December") into a draft. Only people in ``team`` are ever recipients; anything unclear
    is in ``problems``. Never raises on any text."""
    text = (text or "")[:2000].replace("\u2019", "'")
    date_span, due, date_problem = find_date(text, today)
    set_span, set_key, _ = _find_set(text, sets, [date_span] if date_span else [])
    ids, whole, problems, name_spans = find_recipients(text, team, [date_span, set_span])
    note = _make_note(_cut(text, [date_span, set_span, *name_spans]))
    draft = TeamRequest(ids, whole, set_key, due, note, problems + ([date_problem] if date_problem else []))
    return _finish(draft, team)


_NOTE_RE = re.compile(r"(?:(?:change|set|make|update|put)\s+)?(?:the\s+)?note\s*(?:to\s+say|to\s+read|to|should\s+say|saying|says|:|=)\s*(?P<note>.+)$", re.IGNORECASE | re.DOTALL)
_NO_NOTE_RE = re.compile(r"\b(?:no|without\s+(?:a|the)|remove\s+the|drop\s+the|delete\s+the|clear\s+the)\s+note\b", re.IGNORECASE)
_NO_DATE_RE = re.compile(r"\b(?:no|without\s+a|remove\s+the|drop\s+the)\s+(?:due\s+)?date\b|\bdefault\s+(?:due\s+)?date\b", re.IGNORECASE)
_OP_RE = re.compile(r"\b(?P<op>only|just|add|also|plus|include|remove|drop|without|except|exclude|minus|not|take|leave|"
                    r"too|as\s+well|instead)\b", re.IGNORECASE)
# what may come before the names in a correction: "no, send it to Jo instead", "actually, Alex"
_LEAD_RE = re.compile(r"\W*(?:(?:no|nope|actually|ok|okay|sorry|oh|and|but|please|then|sorry)\b\W*)*"
                      r"(?:(?:send|give|address)\s+(?:it|this|that|them)\s+to\s+|(?:make|change)\s+it\s+|ask\s+|prompt\s+|to\s+)?",
                      re.IGNORECASE)
_REMOVE_OPS = {"remove", "drop", "without", "except", "exclude", "minus", "not", "take", "leave"}


def apply_change(draft: TeamRequest, text: str, *, team: Sequence[Member], sets: Sequence[SetOption],
                 today: dt.date) -> TeamRequest:
    """A new draft with the manager's correction applied: "make it due Monday", "only Alex",
    "add Jo", "not Sam", "everyone", "use the gibbs questions", "change the note to ...",
    "no note", or just a name answering a question about who. ``draft`` is not changed."""
    new = replace(draft, recipients=list(draft.recipients), problems=list(draft.problems))
    text = (text or "")[:2000].replace("\u2019", "'")
    m = _NOTE_RE.search(text)
    if m:
        new.note = _make_note(m.group("note").strip().strip("\"'\u201c\u201d"))
        text = text[:m.start()]
    elif _NO_NOTE_RE.search(text):
        new.note = None
    date_span, due, date_problem = find_date(text, today)
    if date_span or _NO_DATE_RE.search(text):
        new.due_date = due
        new.problems = [p for p in new.problems if p.kind not in DATE_PROBLEMS] + ([date_problem] if date_problem else [])
    set_span, set_key, set_found = _find_set(text, sets, [date_span] if date_span else [])
    if set_found:
        new.set_key = set_key
    rest = _cut(text, [date_span, set_span])
    lead = _LEAD_RE.match(rest).end()
    ops = list(_OP_RE.finditer(rest, lead))
    if not ops:
        _change_names(new, "", names_at(rest, lead, len(rest), team, "cue" if only_names(rest) else "scan"), team)
    for i, op in enumerate(ops):  # "remove Jo and add Alex": each operation takes the names up to the next
        kind, end = op.group("op").lower().split()[0], ops[i + 1].start() if i + 1 < len(ops) else len(rest)
        got = names_at(rest, op.end(), end, team) if kind not in ("too", "as", "instead") else ([], False, [], 0)
        if not (got[0] or got[1] or got[2]):  # "Alex only", "Jo too": the names come first
            got = names_at(rest, ops[i - 1].end() if i else lead, op.start(), team)
        everyone = kind in _REMOVE_OPS and names_at(rest, lead, op.start(), team, "scan")[1]  # "everyone except Jo"
        _change_names(new, kind, got, team, everyone)
    return _finish(new, team)


def _change_names(new: TeamRequest, kind: str, got: tuple, team: Sequence[Member], everyone: bool = False) -> None:
    """Apply one name operation ("add", "only", "remove", ...) with the names ``got`` to ``new``."""
    ids, whole, problems, _ = got
    if not (ids or whole or problems):
        return
    if kind in _REMOVE_OPS:
        base = [m.id for m in team] if new.whole_team or everyone else new.recipients
        new.recipients, new.whole_team = [i for i in base if i not in ids], False
    elif kind in ("only", "just", "instead") or whole:
        new.recipients, new.whole_team = ids, whole
    else:
        new.recipients = new.recipients + ids
    # the manager has answered "who?": earlier name questions no longer stand
    new.problems = [p for p in new.problems if p.kind not in NAME_PROBLEMS] + problems

