"""The due date in a manager's request to their team (read for assistant.team_requests).

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
  caller uses :func:`assistant.team_draft.default_due_date` (a week today).
"""
from __future__ import annotations

import calendar
import datetime as dt
import re

import dateparser

from assistant.team_draft import Problem, Span, format_date

_WD = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
WEEKDAYS = _WD.split("|")
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
        wanted, which = WEEKDAYS.index(g["wd"].lower()), (g["wd_which"] or "").lower()
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


def find_date(text: str, today: dt.date) -> tuple[Span | None, dt.date | None, Problem | None]:
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

