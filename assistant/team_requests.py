"""Turn a line manager's chat request ("ask Alex to do a Gibbs reflection by Friday") into
a draft reflection prompt, which the assistant describes and confirms before sending.

Pure functions (no database, Rasa or HTTP): the caller passes the manager's team and the
question sets, and keeps the draft between turns as JSON in a Rasa text slot. Nothing here
raises on odd input; whatever must be asked comes back in ``TeamRequest.problems``.

How due dates are read (a due date is a deadline, and the manager always confirms it):

- "Friday", "by Friday", "this Friday": the next Friday *after* today. Said on a Friday it
  means a week today: nobody names today's weekday to mean today.
- "next Friday": the Friday of next week (weeks run Monday to Sunday), as British usage has it.
- "next week", "end of next week": the Friday of next week (any day of it will do, so the
  deadline is its last working day).
- "end of the week", "by this week", "by the weekend": this week's Friday (today if Friday; at
  the weekend, the coming Friday). Without "by"/"due", "this week" is the subject, not a date.
- "end of the month" / "end of next month": the last calendar day of that month.
- "tomorrow", "today", "end of the day", "in two weeks", "in a fortnight", "a week today".
- "the 30th": the next 30th, today or later.
- "3 December", "3rd Dec", "3/12" (day first, as in the UK), "2026-12-03". Without a year,
  the occurrence nearest today: "3 January" said in November is next January, while
  "20 November" said on 26 November is a slip and is reported as in the past, not moved on.
- A date before today is a ``date_in_past`` problem; no date gives ``due_date=None`` and the
  caller uses :func:`default_due_date` (a week today).
"""
from __future__ import annotations

import calendar
import datetime as dt
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import dateparser

DEFAULT_DUE_DAYS = 7
MAX_NOTE_CHARS = 200


@dataclass(frozen=True)
class Member:
    """A person in the manager's team."""
    id: int
    display_name: str
    username: str = ""


@dataclass(frozen=True)
class SetOption:
    """A question set the manager can choose."""
    key: str
    name: str
    is_default: bool = False


@dataclass
class Problem:
    """Something to ask the manager before sending.

    ``kind``: ambiguous_name | not_in_team | no_recipients | date_in_past | date_unclear;
    ``text``: the words as typed; ``candidates``: member ids an ambiguous name could mean."""
    kind: str
    text: str = ""
    candidates: list[int] = field(default_factory=list)
    message: str = ""


@dataclass
class TeamRequest:
    """A draft prompt. ``set_key`` None = the default set; ``due_date`` None = the default."""
    recipients: list[int] = field(default_factory=list)
    whole_team: bool = False
    set_key: str | None = None
    due_date: dt.date | None = None
    note: str | None = None
    problems: list[Problem] = field(default_factory=list)


Span = tuple[int, int]
NAME_PROBLEMS = ("ambiguous_name", "not_in_team", "no_recipients")
DATE_PROBLEMS = ("date_in_past", "date_unclear")

_WD = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_WEEKDAYS = _WD.split("|")
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_NUMBER_WORDS = {w: i for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"])}
_NUM = r"(?:a|an|\d{1,3}|" + "|".join(_NUMBER_WORDS) + ")"
_CUE = r"(?:(?:due|deadline)(?:\s+(?:date|on|by))?:?|by|before|until|till|no\s+later\s+than)"
# One pattern for every date form we understand; the optional cue ("by", "due") is kept
# in the match so that it is stripped from the note with the date.
_DATE_RE = re.compile(rf"""(?:\b(?P<cue>{_CUE})\s+)?(?:the\s+)?\b(?:
   (?P<eo>(?:end|close)\s+of\s+(?:(?P<eo_next>next)|the|this)?\s*(?P<eo_unit>week|month|play|day|today))
 | (?P<weekend>weekend)
 | (?P<day>day\s+after\s+tomorrow|tomorrow|today|tonight|yesterday)(?!')
 | (?P<week>(?P<week_which>next|this|the\s+following)\s+week)(?!')
 | (?P<rel>in\s+(?P<rel_n>{_NUM})\s+(?P<rel_unit>days?|weeks?|months?|fortnights?)(?:'s)?(?:\s+time)?
     |(?P<rel_week>a\s+(?:week|fortnight))\s+(?:today|from\s+today))
 | (?:(?P<wd_which>this|next|coming|last)\s+)?(?P<wd>{_WD})(?!')
 | (?P<dm>\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH}(?:,?\s+\d{{4}})?)
 | (?P<md>{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)
 | (?P<dom>\d{{1,2}})(?:st|nd|rd|th)
 | (?P<iso>\d{{4}})-(?P<iso_m>\d{{1,2}})-(?P<iso_d>\d{{1,2}})
 | (?P<num_d>\d{{1,2}})/(?P<num_m>\d{{1,2}})(?:/(?P<num_y>\d{{4}}|\d{{2}}))?
)(?![\w/-])""", re.IGNORECASE | re.VERBOSE)
# "due <something>" or "by <something with a digit>" that _DATE_RE did not understand
_UNCLEAR_RE = re.compile(r"\b(?:(?:due|deadline)(?:\s+(?:date|on|by))?:?|by)\s+(?P<phrase>[^\s,.;!?]+(?:\s+[^\s,.;!?]+){0,2})", re.IGNORECASE)
_PARSER_SETTINGS = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}


def default_due_date(today: dt.date) -> dt.date:
    """The due date used when the manager gives none: a week today."""
    return today + dt.timedelta(days=DEFAULT_DUE_DAYS)


def format_date(day: dt.date, today: dt.date | None = None) -> str:
    """'Friday 4 December' (with the year when it is not this year's)."""
    text = f"{day:%A} {day.day} {day:%B}"
    return f"{text} {day.year}" if today is not None and day.year != today.year else text


def _dateparse(phrase: str, today: dt.date) -> dt.date | None:
    try:
        got = dateparser.parse(phrase, languages=["en"],
                               settings={**_PARSER_SETTINGS, "RELATIVE_BASE": dt.datetime.combine(today, dt.time())})
    except Exception:  # noqa: BLE001 - a heuristic parser failing on odd text just means "not understood"
        return None
    return got.date() if got else None


def _nearest(month: int, day: int, today: dt.date) -> dt.date | None:
    """The date with this day and month nearest to today (ties go to the future)."""
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            options.append(dt.date(year, month, day))
        except ValueError:
            pass
    return min(options, key=lambda d: (abs((d - today).days), d < today)) if options else None


def _resolve(m: re.Match, today: dt.date) -> dt.date | None:
    """The date one _DATE_RE match means (None if it is not a real date)."""
    g = m.groupdict()
    this_friday = today + dt.timedelta(days=(4 - today.weekday()) % 7)
    next_monday = today + dt.timedelta(days=7 - today.weekday())
    if g["eo"]:
        unit = g["eo_unit"].lower()
        if unit in ("play", "day", "today"):
            return today
        if unit == "week":
            return next_monday + dt.timedelta(days=4) if g["eo_next"] else this_friday
        year, month = (today.year + today.month // 12, today.month % 12 + 1) if g["eo_next"] else (today.year, today.month)
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    if g["weekend"]:
        return this_friday
    if g["day"]:
        return today + dt.timedelta(days={"tomorrow": 1, "day after tomorrow": 2, "yesterday": -1}.get(" ".join(g["day"].lower().split()), 0))
    if g["week"]:
        return this_friday if g["week_which"].lower() == "this" else next_monday + dt.timedelta(days=4)
    if g["rel_week"]:
        return today + dt.timedelta(days=14 if "fortnight" in g["rel_week"].lower() else 7)
    if g["rel"]:
        word, unit = g["rel_n"].lower(), g["rel_unit"].lower().rstrip("s")
        n = 1 if word in ("a", "an") else _NUMBER_WORDS[word] if word in _NUMBER_WORDS else int(word)
        n, unit = (n * 2, "week") if unit == "fortnight" else (n, unit)
        return _dateparse(f"in {n} {unit}s", today) if 0 < n <= 366 else None
    if g["wd"]:
        wanted, which = _WEEKDAYS.index(g["wd"].lower()), (g["wd_which"] or "").lower()
        if which == "next":
            return next_monday + dt.timedelta(days=wanted)
        if which == "last":  # only reached after a cue ("due last Friday"): reported as past
            return today - dt.timedelta(days=(today.weekday() - wanted) % 7 or 7)
        return today + dt.timedelta(days=(wanted - today.weekday()) % 7 or 7)
    try:
        if g["iso"]:
            return dt.date(int(g["iso"]), int(g["iso_m"]), int(g["iso_d"]))
        if g["num_d"]:
            day, month, year = int(g["num_d"]), int(g["num_m"]), g["num_y"]
            if year:
                return dt.date(int(year) + (2000 if len(year) == 2 else 0), month, day)
            return _nearest(month, day, today) if 1 <= month <= 12 else None
    except ValueError:
        return None
    if g["dom"]:  # "the 30th": the next such day, today or later (no month named, so none is in the past)
        months = [(today.year + (today.month + k - 1) // 12, (today.month + k - 1) % 12 + 1) for k in (0, 1, 2)]
        days = [dt.date(y, mo, int(g["dom"])) for y, mo in months if 1 <= int(g["dom"]) <= calendar.monthrange(y, mo)[1]]
        return next((d for d in days if d >= today), None)
    phrase = g["dm"] or g["md"]
    got = _dateparse(phrase, today)
    if got is None or re.search(r"\d{4}", phrase):
        return got
    return _nearest(got.month, got.day, today)


def _unclear(phrase: str) -> Problem:
    return Problem("date_unclear", phrase, message=f"I didn't understand the date \u201c{phrase}\u201d. "
                   "Try \u201cFriday\u201d, \u201c3 December\u201d or \u201cin two weeks\u201d.")


def _deadline_without_cue(m: re.Match, text: str) -> bool:
    """False for dates that, without "by"/"due", are what the reflection is about rather than
    when it is due: "this week's sessions", "last Friday", "the visit on Monday"."""
    if (m.group("week_which") or "").lower() == "this":
        return False
    after = text[m.end():].split()[:1]
    if m.group("dom"):  # "the 30th", but not "their 1st session"
        return not after or not after[0][:1].isalpha() or after[0].lower() in ("instead", "please", "then", "and", "or")
    if not m.group("wd"):
        return True
    before = text[:m.start()].split()[-1:]
    return not ((m.group("wd_which") or "").lower() == "last"
                or (before and before[0].lower() in ("last", "from", "since", "of", "on", "after", "not"))
                or (after and after[0].lower() in ("session", "sessions", "meeting", "visit", "supervision")))


def _find_date(text: str, today: dt.date) -> tuple[Span | None, dt.date | None, Problem | None]:
    """The due date in ``text``: (span to strip, date, problem). A date after a cue ("by",
    "due") wins over one without; "this week" and a weekday after "last"/"from"/"since"/"of"
    or "on" are about the past or the subject, not a deadline, unless cued."""
    found = [m for m in _DATE_RE.finditer(text) if m.group("cue") or _deadline_without_cue(m, text)]
    cued = [m for m in found if m.group("cue")]
    if cued or found:
        m = (cued or found)[0]
        phrase = re.sub(r"^the\s+", "", m.group(0)[len(m.group("cue") or ""):].strip(), flags=re.IGNORECASE)
        day = _resolve(m, today)
        if day is None:
            return m.span(), None, _unclear(phrase)
        if day < today:
            return m.span(), None, Problem("date_in_past", phrase, message=f"{format_date(day, today)} is in the past. When should it be due?")
        return m.span(), day, None
    for m in _UNCLEAR_RE.finditer(text):
        phrase = m.group("phrase")
        if m.group(0).lower().startswith(("due", "deadline")) or re.search(r"\d", phrase):
            return m.span(), None, _unclear(phrase)
    return None, None, None


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
} | set(_WEEKDAYS) | {m.lower() for m in calendar.month_name[1:]} - {"april", "may", "june", "august"}  # also names
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


def _names_at(text: str, start: int, end: int, team: Sequence[Member], mode: str = "cue"):
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
        elif word in _STOP or (not word[:1].isalpha() and word not in _SEPARATORS) or word in _WEEKDAYS:
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


def _recipients(text: str, team: Sequence[Member], spans: Sequence[Span | None]):
    """(ids, whole_team, problems, spans of the names): the names after a verb ("ask",
    "remind", ...), else known names and "my team" anywhere in the text."""
    limits = sorted(s[0] for s in spans if s)
    for verb in _VERB_RE.finditer(text):
        end = next((a for a in limits if a >= verb.end()), len(text))
        ids, whole, problems, stop = _names_at(text, verb.end(), end, team)
        but = _EXCEPT_RE.match(text, stop)  # "everyone except Jo", "the team, apart from Sam"
        if but and (ids or whole):
            out, _, more, stop = _names_at(text, but.end(), end, team)
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
    date_span, due, date_problem = _find_date(text, today)
    set_span, set_key, _ = _find_set(text, sets, [date_span] if date_span else [])
    ids, whole, problems, name_spans = _recipients(text, team, [date_span, set_span])
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
    date_span, due, date_problem = _find_date(text, today)
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
        _change_names(new, "", _names_at(rest, lead, len(rest), team, "cue" if _only_names(rest) else "scan"), team)
    for i, op in enumerate(ops):  # "remove Jo and add Alex": each operation takes the names up to the next
        kind, end = op.group("op").lower().split()[0], ops[i + 1].start() if i + 1 < len(ops) else len(rest)
        got = _names_at(rest, op.end(), end, team) if kind not in ("too", "as", "instead") else ([], False, [], 0)
        if not (got[0] or got[1] or got[2]):  # "Alex only", "Jo too": the names come first
            got = _names_at(rest, ops[i - 1].end() if i else lead, op.start(), team)
        everyone = kind in _REMOVE_OPS and _names_at(rest, lead, op.start(), team, "scan")[1]  # "everyone except Jo"
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


def _only_names(text: str) -> bool:
    """True if ``text`` is nothing but a list of name-like words ("Alex Rowan", "Sam and Jo")."""
    words = [w for w in re.findall(r"[^\W\d_][\w'.-]*", text) if w.lower() not in _SEPARATORS | _FILLERS]
    return 0 < len(words) <= 8 and not {w.lower() for w in words} & (_NOT_NAMES | _STOP)


def describe(draft: TeamRequest, *, team: Sequence[Member], sets: Sequence[SetOption],
             today: dt.date | None = None) -> str:
    """Plain-English summary to confirm: who, which questions, due when, the note, and any
    question still to answer. ``today`` lets it show the default due date."""
    names = {m.id: m.display_name for m in team}
    people = [names[i] for i in draft.recipients if i in names]
    listed = ", ".join(people[:-1]) + " and " + people[-1] if len(people) > 1 else "".join(people)
    if draft.whole_team and people:
        who = f"everyone in your team ({listed})"
    else:
        who = listed or "nobody yet"
    chosen = next((s for s in sets if s.key == draft.set_key), None) if draft.set_key else next((s for s in sets if s.is_default), None)
    questions = chosen.name if chosen else (draft.set_key or "the default questions")
    if chosen and chosen.is_default:
        questions += " (the default)"
    if draft.due_date:
        due = format_date(draft.due_date, today)
    elif today:
        due = f"{format_date(default_due_date(today), today)} (a week from today, the default)"
    else:
        due = "a week from when it is sent (the default)"
    lines = [f"Send a reflection prompt to {who}.", f"Questions: {questions}.", f"Due: {due}.",
             f"Note: \u201c{draft.note}\u201d" if draft.note else "Note: none."]
    if draft.problems:
        lines.append("Before I can send it: " + " ".join(p.message for p in draft.problems))
    return "\n".join(lines)


def to_json(draft: TeamRequest) -> str:
    """The draft as JSON, to keep in a Rasa text slot between turns."""
    data = asdict(draft)
    data["due_date"] = draft.due_date.isoformat() if draft.due_date else None
    return json.dumps({"v": 1, **data}, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> TeamRequest:
    """The draft :func:`to_json` wrote. Raises ValueError if ``text`` is not one."""
    try:
        data = json.loads(text)
        return TeamRequest(
            recipients=[int(i) for i in data["recipients"]], whole_team=bool(data["whole_team"]),
            set_key=data["set_key"], note=data["note"],
            due_date=dt.date.fromisoformat(data["due_date"]) if data["due_date"] else None,
            problems=[Problem(p["kind"], p["text"], [int(i) for i in p["candidates"]], p["message"]) for p in data["problems"]])
    except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a team request draft: {exc}") from exc
