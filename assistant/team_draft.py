"""A manager's draft reflection prompt: who it goes to, which questions, when it is due and
the note, with anything still to ask the manager; how it is described back for confirmation,
and kept between turns as JSON in a Rasa text slot. The draft is read from the manager's
words by assistant.team_requests.

Pure functions (no database, Rasa or HTTP), as in the rest of the team request modules."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

DEFAULT_DUE_DAYS = 7


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


Span = tuple[int, int]  # where in the request text a date, set or name was found
NAME_PROBLEMS = ("ambiguous_name", "not_in_team", "no_recipients")
DATE_PROBLEMS = ("date_in_past", "date_unclear")


def default_due_date(today: dt.date) -> dt.date:
    """The due date used when the manager gives none: a week today."""
    return today + dt.timedelta(days=DEFAULT_DUE_DAYS)


def format_date(day: dt.date, today: dt.date | None = None) -> str:
    """'Friday 4 December' (with the year when it is not this year's)."""
    text = f"{day:%A} {day.day} {day:%B}"
    return f"{text} {day.year}" if today is not None and day.year != today.year else text



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
