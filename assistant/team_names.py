"""The people a manager's request names (assistant.team_requests): "Sam, Jo & Alex", "my
team", "everyone except Jo". Only members of the manager's team are ever matched, by full
name, username, first name, surname or one typo; a name that could mean several people, or
nobody, is a problem to ask about rather than a guess."""
from __future__ import annotations

import calendar
import re
from collections.abc import Sequence

from assistant.team_dates import WEEKDAYS
from assistant.team_draft import Member, Problem, Span

_TEAM_NOUNS = {"team", "staff", "practitioners", "officers", "everyone", "everybody", "all", "people", "colleagues"}
_TEAM_FILLERS = {"all", "of", "my", "the", "whole", "entire", "our", "your", "them"}
# Words that are never (part of) a name: a segment containing one is not a name at all.
_NOT_NAMES = {
    "i", "me", "my", "we", "us", "our", "you", "your", "he", "him", "his", "she", "her", "they", "them",
    "their", "it", "this", "that", "these", "those", "who", "someone", "somebody", "anyone", "people", "a",
    "an", "the", "some", "any", "each", "every", "one", "two", "three", "today", "tomorrow", "tonight",
    "week", "month", "weekend", "next", "last", "end", "do", "reflect", "reflection", "reflections",
    "complete", "fill", "session", "sessions", "case", "cases", "new", "please", "can", "could", "would",
    "will", "is", "are", "be", "to", "about", "for", "by", "due", "on", "in", "at", "with", "from", "of",
    "and", "or", "not", "only", "just", "also", "too", "up", "out", "off", "team", "staff", "everyone",
    "everybody", "all", "questions", "set", "check", "quick", "what", "so", "now", "back", "again",
    "know", "remember", "yes", "no", "ok", "thanks", "reminder", "prompt", "message", "nudge", "note",
    "gibbs", "seed", "engagement", "skills", "minute", "default", "usual", "hello", "hi", "hey", "thank", "cheers",
    "great", "fine", "good", "perfect", "okay", "sure", "cancel", "stop", "wait", "sorry", "help", "why", "how",
    "yep", "nope", "change", "send", "something", "anything", "nothing", "else", "date", "instead",
} | set(WEEKDAYS) | {m.lower() for m in calendar.month_name[1:]} - {"april", "may", "june", "august"}  # also names
_SEPARATORS = {",", "&", "and", "+", "plus", "/"}
_FILLERS = {"please", "kindly", "both", "also", "too", "just", "only", "as", "well"}
_STOP = {"to", "about", "that", "for", "by", "due", "on", "re", "regarding", "if", "whether", "with", "using", "use",
         "a", "an", "do", "when", "once", "after", "before", "in", "this", "next", "from", "off", "out", "instead", "then",
         "except", "apart", "but", "other", "excluding", "not", "without"}


def _first(m: Member) -> str:
    return (m.display_name.split() or [""])[0].lower()


def _last(m: Member) -> str:
    return (m.display_name.split() or [""])[-1].lower()


def _distance_ok(a: str, b: str) -> bool:
    """True if ``a`` is ``b`` with at most one letter added, dropped, changed or swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _match_name(typed: str, team: Sequence[Member]) -> tuple[list[int], Problem | None]:
    """Members a typed name means: full display name or username, then first name, then
    surname, then (names of 4+ letters) one typo. Several matches are a problem, not a guess."""
    want = " ".join(typed.lower().split())
    tests = [lambda m: want in (" ".join(m.display_name.lower().split()), m.username.lower()),
             lambda m: want == _first(m),
             lambda m: " " not in want and want == _last(m),
             lambda m: len(want) >= 4 and any(len(n) >= 4 and _distance_ok(want, n)
                                               for n in (" ".join(m.display_name.lower().split()), _first(m)))]
    for test in tests:
        hits = [m for m in team if test(m)]
        if len(hits) == 1:
            return [hits[0].id], None
        if hits:
            names = ", ".join(m.display_name for m in hits[:-1]) + " and " + hits[-1].display_name
            return [], Problem("ambiguous_name", typed, [m.id for m in hits],
                               f"There is more than one {typed} in your team: {names}. Which one do you mean?")
    return [], Problem("not_in_team", typed, message=f"I can't find {typed} in your team.")


def _tokens(text: str, start: int, end: int) -> list[re.Match]:
    return list(re.finditer(r"[^\W\d_][\w'\u2019.-]*[^\W_]|[^\W\d_]|[,&+/]|[^\w\s]+|\d\w*", text[start:end]))


def names_at(text: str, start: int, end: int, team: Sequence[Member], mode: str = "cue"):
    """Read a list of names ("Sam, Jo & Alex", "my team") from ``start`` up to the first stop
    word. Returns (ids, whole_team, problems, end of what was read). In mode "scan" a
    segment that matches nobody is left alone (it may not be a name at all)."""
    ids: list[int] = []
    whole, problems, segments, current, stop_at = False, [], [], [], start
    for tok in _tokens(text, start, end):
        word = tok.group(0).strip(".").lower()
        if word in _SEPARATORS:
            segments.append(current)
            current = []
        elif word in _STOP or (not word[:1].isalpha() and word not in _SEPARATORS) or word in WEEKDAYS:
            break
        elif word not in _FILLERS:
            current.append(tok.group(0).strip("."))
        stop_at = start + tok.end()
    segments.append(current)
    for seg in segments:
        low = [w.lower() for w in seg]
        if low and low[-1] in _TEAM_NOUNS | {"them"} and set(low[:-1]) <= _TEAM_FILLERS and (low[-1] != "them" or "all" in low):
            whole = True
        elif seg and len(seg) <= 3 and not set(low) & _NOT_NAMES:
            got, problem = _match_name(" ".join(seg), team)
            ids += got
            if problem and (mode == "cue" or problem.kind == "ambiguous_name"):
                problems.append(problem)
    return ids, whole, problems, stop_at



_EXCEPT_RE = re.compile(r"\s*,?\s*(?:except(?:\s+for)?|apart\s+from|but\s+not|other\s+than|excluding|not|without)\s+", re.IGNORECASE)
_VERB_RE = re.compile(r"\b(?:ask|remind|prompt|nudge|get|tell|have|encourage|chase|"
                      r"send\s+(?:a\s+)?(?:reminder|prompt|nudge|message|note|request)s?\s+(?:out\s+)?to|send)\s+", re.IGNORECASE)


def find_recipients(text: str, team: Sequence[Member], spans: Sequence[Span | None]):
    """(ids, whole_team, problems, spans of the names): the names after a verb ("ask",
    "remind", ...), else known names and "my team" anywhere in the text."""
    limits = sorted(s[0] for s in spans if s)
    for verb in _VERB_RE.finditer(text):
        end = next((a for a in limits if a >= verb.end()), len(text))
        ids, whole, problems, stop = names_at(text, verb.end(), end, team)
        but = _EXCEPT_RE.match(text, stop)  # "everyone except Jo", "the team, apart from Sam"
        if but and (ids or whole):
            out, _, more, stop = names_at(text, but.end(), end, team)
            ids, whole, problems = [i for i in ([m.id for m in team] if whole else ids) if i not in out], False, problems + more
        if ids or whole or problems:
            return ids, whole, problems, [(0, stop)]
    team_re = r"\b(?:(?:my|the|whole|all\s+(?:of\s+)?my)\s+(?:team|staff|practitioners)|everyone|everybody)\b"
    found = [m.span() for m in re.finditer(team_re, text, re.IGNORECASE)]
    ids, problems = [], []
    for m in re.finditer(r"[^\W\d_][\w-]*", text):
        pair = re.match(r"\s+([^\W\d_][\w-]*)", text[m.end():])
        for typed, end in ([(m.group(0) + " " + pair.group(1), m.end() + pair.end())] if pair else []) + [(m.group(0), m.end())]:
            known = [t for t in team if typed.lower() in (" ".join(t.display_name.lower().split()), _first(t), t.username.lower())]
            if typed.lower() in _NOT_NAMES or not known or any(a <= m.start() < b for a, b in found):
                continue
            got, problem = _match_name(typed, known)
            ids += got
            problems += [problem] if problem else []
            found.append((m.start(), end))
            break
    # the note is what follows the last name ("I'd like Sam to ..."), so cut all before it
    return ids, bool(re.search(team_re, text, re.IGNORECASE)), problems, [(0, max(b for _, b in found))] if found else []


def only_names(text: str) -> bool:
    """True if ``text`` is nothing but a list of name-like words ("Alex Rowan", "Sam and Jo")."""
    words = [w for w in re.findall(r"[^\W\d_][\w'.-]*", text) if w.lower() not in _SEPARATORS | _FILLERS]
    return 0 < len(words) <= 8 and not {w.lower() for w in words} & (_NOT_NAMES | _STOP)
