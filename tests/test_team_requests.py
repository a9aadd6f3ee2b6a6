"""A manager's chat request read into a draft reflection prompt (assistant/team_requests.py).

``TODAY`` is fixed (Thursday 26 November 2026) so every date is deterministic."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.team_draft import Member, SetOption, TeamRequest, default_due_date, describe, from_json, to_json
from assistant.team_requests import apply_change, parse_request

TODAY = dt.date(2026, 11, 26)  # a Thursday
ALEX_R, SAM, JO, DEMO, ALEX_S = 1, 2, 3, 4, 5
TEAM = [Member(ALEX_R, "Alex Rowan", "alex.rowan"), Member(SAM, "Sam Patel", "sam.patel"),
        Member(JO, "Jo Bloggs", "jo.bloggs"), Member(DEMO, "Demo Practitioner", "demo.practitioner")]
TEAM_TWO_ALEXES = [*TEAM, Member(ALEX_S, "Alex Smith", "alex.smith")]
SETS = [SetOption("what_so_what_now_what", "What? So what? Now what?", True),
        SetOption("gibbs", "Gibbs' reflective cycle"),
        SetOption("seed_engagement", "Engagement skills check-in (SEED)"),
        SetOption("quick_check", "Two-minute check")]


def parse(text, team=TEAM, today=TODAY):
    return parse_request(text, team=team, sets=SETS, today=today)


def kinds(draft):
    return [p.kind for p in draft.problems]


# -- the examples managers type ---------------------------------------------------------

def test_full_name_set_and_weekday():
    d = parse("please ask Alex Rowan to do a Gibbs reflection by Friday")
    assert (d.recipients, d.whole_team, d.set_key, d.due_date, d.note, d.problems) == (
        [ALEX_R], False, "gibbs", dt.date(2026, 11, 27), None, [])


def test_first_name():
    d = parse("ask Alex to do a Gibbs reflection by Friday")
    assert d.recipients == [ALEX_R] and d.set_key == "gibbs" and d.due_date == dt.date(2026, 11, 27) and not d.problems


def test_whole_team_and_a_note():
    d = parse("remind my team to reflect on this week's sessions")
    assert d.whole_team and d.recipients == [ALEX_R, SAM, JO, DEMO]
    assert d.set_key is None and d.due_date is None  # "this week's" is the subject, not a deadline
    assert d.note == "Reflect on this week's sessions."


def test_two_names_about_and_a_date_without_year():
    d = parse("prompt Sam and Jo about their new-case sessions, due 3 December")
    assert d.recipients == [SAM, JO] and d.due_date == dt.date(2026, 12, 3)
    assert d.note == "Reflect on your new-case sessions." and not d.problems


def test_demo_practitioner_display_name_lower_case():
    d = parse("prompt Demo Practitioner to do a gibbs reflection by friday")
    assert d.recipients == [DEMO] and d.set_key == "gibbs" and d.due_date == dt.date(2026, 11, 27) and d.note is None


def test_get_jo_two_minute_check_next_week():
    d = parse("can you get jo to do the two minute check next week")
    assert d.recipients == [JO] and d.set_key == "quick_check"
    assert d.due_date == dt.date(2026, 12, 4)  # "next week" = the Friday of next week
    assert d.note is None and not d.problems


def test_nudge_everyone_end_of_month():
    d = parse("nudge everyone to reflect by the end of the month")
    assert d.whole_team and d.recipients == [ALEX_R, SAM, JO, DEMO] and d.due_date == dt.date(2026, 11, 30)
    assert d.note is None


@pytest.mark.parametrize("text, ids", [
    ("ask Sam, Jo & Alex to reflect", [ALEX_R, SAM, JO]),
    ("send a reminder to Sam and Demo Practitioner", [SAM, DEMO]),
    ("tell jo.bloggs to reflect", [JO]),
    ("remind all of them to reflect", [ALEX_R, SAM, JO, DEMO]),
    ("ask my practitioners to reflect", [ALEX_R, SAM, JO, DEMO]),
    ("prompt the team please", [ALEX_R, SAM, JO, DEMO]),
    ("ask my staff for a SEED check-in", [ALEX_R, SAM, JO, DEMO]),
])
def test_recipient_lists(text, ids):
    assert parse(text).recipients == ids


@pytest.mark.parametrize("text, key", [
    ("ask Jo to use the what so what questions", "what_so_what_now_what"),
    ("ask Jo for a quick check", "quick_check"),
    ("ask Jo to do the SEED questions", "seed_engagement"),
    ("ask Jo to go through the engagement skills", "seed_engagement"),
    ("ask Jo to do Gibbs' reflective cycle", "gibbs"),
    ("ask Jo to reflect on what went well", None),
])
def test_question_sets(text, key):
    assert parse(text).set_key == key


def test_everyone_except():
    assert parse("prompt everyone except Jo to reflect").recipients == [ALEX_R, SAM, DEMO]
    d = parse("ask the team, apart from Sam and Jo, to reflect by Monday")
    assert d.recipients == [ALEX_R, DEMO] and not d.whole_team and d.due_date == dt.date(2026, 11, 30)


def test_names_without_a_verb_and_questions():
    d = parse("I'd like Sam to do a gibbs reflection")
    assert d.recipients == [SAM] and d.set_key == "gibbs" and d.note is None
    assert parse("Can you send Jo a reminder to reflect?").note is None
    assert parse("can you ask Jo to reflect on the home visit?").note == "Reflect on the home visit."
    assert parse("ask Jo to reflect on the visit. Why did it go wrong?").note == "Reflect on the visit. Why did it go wrong?"


# -- problems to ask about, never guesses -------------------------------------------------

def test_name_outside_the_team():
    d = parse("ask Bob Smith to reflect by Friday")
    assert d.recipients == [] and kinds(d) == ["not_in_team"] and d.problems[0].text == "Bob Smith"
    assert "Bob Smith" in d.problems[0].message


def test_one_known_and_one_unknown_name():
    d = parse("prompt Sam and Priya about the audit")
    assert d.recipients == [SAM] and kinds(d) == ["not_in_team"] and d.problems[0].text == "Priya"


def test_ambiguous_first_name_lists_the_candidates():
    d = parse("ask Alex to do a Gibbs reflection by Friday", team=TEAM_TWO_ALEXES)
    assert d.recipients == [] and kinds(d) == ["ambiguous_name"]
    assert d.problems[0].candidates == [ALEX_R, ALEX_S]
    assert "Alex Rowan" in d.problems[0].message and "Alex Smith" in d.problems[0].message
    assert parse("ask Alex Smith to reflect", team=TEAM_TWO_ALEXES).recipients == [ALEX_S]


@pytest.mark.parametrize("text, ids", [
    ("ask Alx Rowan to reflect", [ALEX_R]),       # letter dropped
    ("ask Demo Practitoner to reflect", [DEMO]),  # letter dropped in a surname
    ("ask Jo Blogs to reflect", [JO]),            # one letter short
    ("ask Sma to reflect", []),                   # 3 letters: too short to guess
])
def test_one_letter_typos(text, ids):
    assert parse(text).recipients == ids


def test_date_in_the_past_is_reported_not_moved():
    d = parse("ask Jo to reflect by 20 November")
    assert d.due_date is None and kinds(d) == ["date_in_past"]
    assert "Friday 20 November" in d.problems[0].message
    assert kinds(parse("ask Jo to reflect due 3 December 2025")) == ["date_in_past"]
    assert kinds(parse("ask Jo to reflect by yesterday")) == ["date_in_past"]


def test_date_not_understood():
    d = parse("ask Jo to reflect due 3 Decembr")
    assert d.due_date is None and kinds(d) == ["date_unclear"] and d.problems[0].text == "3 Decembr"
    assert kinds(parse("ask Jo to reflect by 31/2")) == ["date_unclear"]


def test_nobody_named():
    d = parse("please send a prompt")
    assert d.recipients == [] and kinds(d) == ["no_recipients"]


# -- due dates ------------------------------------------------------------------------------

@pytest.mark.parametrize("phrase, expected", [
    ("by Friday", dt.date(2026, 11, 27)),
    ("by Thursday", dt.date(2026, 12, 3)),         # today's weekday means a week today
    ("by this Friday", dt.date(2026, 11, 27)),
    ("by next Friday", dt.date(2026, 12, 4)),      # the Friday of next week
    ("by next Monday", dt.date(2026, 11, 30)),
    ("by tomorrow", dt.date(2026, 11, 27)),
    ("next week", dt.date(2026, 12, 4)),
    ("by the end of the week", dt.date(2026, 11, 27)),
    ("by the end of next week", dt.date(2026, 12, 4)),
    ("by the end of the month", dt.date(2026, 11, 30)),
    ("by the end of next month", dt.date(2026, 12, 31)),
    ("by 3 December", dt.date(2026, 12, 3)),
    ("by 3/12", dt.date(2026, 12, 3)),                 # day first, as in the UK
    ("by 3rd Dec", dt.date(2026, 12, 3)),
    ("due 2026-12-03", dt.date(2026, 12, 3)),
    ("in two weeks", dt.date(2026, 12, 10)),
    ("in a fortnight", dt.date(2026, 12, 10)),
    ("in 3 days", dt.date(2026, 11, 29)),
    ("by 3 January", dt.date(2027, 1, 3)),             # no year: the next one
    ("by today", TODAY),
    ("by the 30th", dt.date(2026, 11, 30)),
    ("due the 31st", dt.date(2026, 12, 31)),           # November has no 31st
    ("by the 20th", dt.date(2026, 12, 20)),            # no month named: the next 20th
    ("by Monday, not Friday", dt.date(2026, 11, 30)),
])
def test_due_dates(phrase, expected):
    d = parse(f"ask Jo to reflect {phrase}")
    assert d.due_date == expected and not d.problems


def test_weekday_said_on_that_day_means_a_week_later():
    friday = dt.date(2026, 11, 27)
    assert parse("ask Jo to reflect by Friday", today=friday).due_date == dt.date(2026, 12, 4)
    assert parse("ask Jo to reflect by the end of the week", today=friday).due_date == friday
    saturday = dt.date(2026, 11, 28)
    assert parse("ask Jo to reflect by the end of the week", today=saturday).due_date == dt.date(2026, 12, 4)


def test_end_of_month_in_december_and_february():
    assert parse("ask Jo to reflect by the end of the month", today=dt.date(2026, 12, 10)).due_date == dt.date(2026, 12, 31)
    assert parse("ask Jo to reflect by the end of next month", today=dt.date(2026, 12, 10)).due_date == dt.date(2027, 1, 31)
    assert parse("ask Jo to reflect by the end of the month", today=dt.date(2028, 2, 3)).due_date == dt.date(2028, 2, 29)


def test_no_date_means_the_default():
    assert parse("ask Jo to reflect").due_date is None
    assert default_due_date(TODAY) == dt.date(2026, 12, 3)


def test_note_is_short_and_never_the_raw_command():
    d = parse("ask Jo to reflect on " + "the long visit " * 40 + "by Friday")
    assert len(d.note) <= 200 and d.note.startswith("Reflect on the long visit") and "ask" not in d.note.lower()
    assert parse("ask Sam to reflect on Monday's home visit by Friday").note == "Reflect on Monday's home visit."
    d = parse("ask Jo to reflect on their 1st session")  # an ordinal that is not a date
    assert d.due_date is None and d.note == "Reflect on your 1st session."


# -- corrections, summary, JSON -----------------------------------------------------------

def test_changes_to_a_draft():
    draft = parse("ask Alex to do a Gibbs reflection by Friday", team=TEAM_TWO_ALEXES)

    def change(d, text):
        return apply_change(d, text, team=TEAM_TWO_ALEXES, sets=SETS, today=TODAY)

    d = change(draft, "Alex Rowan")
    assert d.recipients == [ALEX_R] and not d.problems and draft.recipients == []  # draft untouched
    d = change(d, "make it due Monday")
    assert d.due_date == dt.date(2026, 11, 30) and d.set_key == "gibbs"
    d = change(d, "add Jo")
    assert d.recipients == [ALEX_R, JO]
    d = change(d, "only Sam")
    assert d.recipients == [SAM]
    d = change(d, "everyone except Jo")
    assert d.recipients == [ALEX_R, SAM, DEMO, ALEX_S] and not d.whole_team
    d = change(d, "use the two minute check")
    assert d.set_key == "quick_check"
    d = change(d, "change the note to think about the home visit")
    assert d.note == "Think about the home visit."
    d = change(d, "no note")
    assert d.note is None
    d = change(d, "make it due 20 November")
    assert kinds(d) == ["date_in_past"]
    d = change(d, "due 4 December")
    assert d.due_date == dt.date(2026, 12, 4) and not d.problems
    d = change(d, "the default questions")
    assert d.set_key is None
    d = change(d, "remove Sam")
    assert d.recipients == [ALEX_R, DEMO, ALEX_S]
    d = change(d, "Bob")
    assert kinds(d) == ["not_in_team"]


@pytest.mark.parametrize("text, ids", [
    ("Sam instead", [SAM]),
    ("send it to Demo Practitioner instead", [DEMO]),
    ("Demo too", [SAM, JO, DEMO]),
    ("remove Jo and add Alex Rowan", [ALEX_R, SAM]),
    ("no, just Jo", [JO]),
    ("hello", [SAM, JO]),
    ("yes", [SAM, JO]),
    ("change the due date to the 30th", [SAM, JO]),
])
def test_more_corrections(text, ids):
    d = apply_change(parse("ask Jo and Sam to do a gibbs reflection by Friday"), text, team=TEAM, sets=SETS, today=TODAY)
    assert d.recipients == ids and not d.problems


def test_describe():
    d = parse("prompt Sam and Jo about their new-case sessions, due 3 December")
    text = describe(d, team=TEAM, sets=SETS, today=TODAY)
    assert "Sam Patel and Jo Bloggs" in text and "Thursday 3 December" in text
    assert "What? So what? Now what? (the default)" in text and "Reflect on your new-case sessions." in text
    d = parse("remind my team to reflect, by Friday, gibbs")
    text = describe(d, team=TEAM, sets=SETS, today=TODAY)
    assert "everyone in your team" in text and "Friday 27 November" in text and "Gibbs' reflective cycle" in text
    text = describe(parse("ask Bob to reflect"), team=TEAM, sets=SETS, today=TODAY)
    assert "Bob" in text and "a week from today" in text


def test_json_round_trip():
    for text in ("prompt Sam and Jo about their new-case sessions, due 3 December", "ask Alex and Bob by 20 November"):
        d = parse(text, team=TEAM_TWO_ALEXES)
        assert from_json(to_json(d)) == d
    with pytest.raises(ValueError):
        from_json("not json")
    with pytest.raises(ValueError):
        from_json('{"v": 1}')


# -- never raises, never reaches outside the team ------------------------------------------

words = st.sampled_from(["ask", "remind", "prompt", "Sam", "Jo", "Alex", "Bob", "and", ",", "&", "to", "by", "due",
                         "Friday", "next", "week", "end of the month", "3/12", "31/2", "gibbs", "my team", "not",
                         "only", "add", "note:", "in", "two", "weeks", "2026-02-30", "99/99/99", "'s", "yesterday"])
texts = st.one_of(st.text(max_size=200), st.lists(words, max_size=15).map(" ".join))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, texts, st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_never_raises_and_only_team_members(text, change, today):
    team_ids = {m.id for m in TEAM_TWO_ALEXES}
    d = parse_request(text, team=TEAM_TWO_ALEXES, sets=SETS, today=today)
    assert isinstance(d, TeamRequest) and set(d.recipients) <= team_ids
    assert d.note is None or 0 < len(d.note) <= 200
    assert d.due_date is None or d.due_date >= today
    d = apply_change(d, change, team=TEAM_TWO_ALEXES, sets=SETS, today=today)
    assert set(d.recipients) <= team_ids and from_json(to_json(d)) == d
    assert describe(d, team=TEAM_TWO_ALEXES, sets=SETS, today=today)
