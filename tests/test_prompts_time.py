"""Working hours and "today" for prompts are on the UK clock (Settings.timezone) while the
database keeps naive UTC: a prompt due at 09:00 arrives at 09:00 London time all year."""
from __future__ import annotations

import datetime as dt

import pytest

from assistant import prompts
from assistant.config import get_settings
from assistant.db import session_scope
from assistant.models import User
from assistant.reflections import ReflectionError
from assistant.seed import seed_content
from tests.conftest import ROOT

LONDON = "Europe/London"
UTC = dt.datetime  # naive datetimes below are UTC, as stored


def nwt(when, tz=LONDON):
    return prompts.next_working_time(when, start_hour=9, end_hour=17, tz=tz)


@pytest.mark.parametrize("when, expected", [
    # summer (BST, UTC+1): 09:00 London is 08:00 UTC
    (UTC(2026, 7, 1, 8, 0), UTC(2026, 7, 1, 8, 0)),      # 07:30 UTC session + 30 min = 09:00 London
    (UTC(2026, 7, 1, 7, 30), UTC(2026, 7, 1, 8, 0)),     # 08:30 London: wait until 09:00
    (UTC(2026, 7, 1, 15, 59), UTC(2026, 7, 1, 15, 59)),  # 16:59 London: still working
    (UTC(2026, 7, 1, 16, 0), UTC(2026, 7, 2, 8, 0)),     # 17:00 London: tomorrow 09:00
    (UTC(2026, 7, 1, 23, 30), UTC(2026, 7, 2, 8, 0)),    # 00:30 London on Thursday
    (UTC(2026, 7, 3, 16, 30), UTC(2026, 7, 6, 8, 0)),    # Friday 17:30 London -> Monday 09:00
    # winter (GMT = UTC)
    (UTC(2026, 12, 2, 9, 0), UTC(2026, 12, 2, 9, 0)),
    (UTC(2026, 12, 2, 8, 30), UTC(2026, 12, 2, 9, 0)),
    (UTC(2026, 12, 4, 17, 30), UTC(2026, 12, 7, 9, 0)),  # Friday evening -> Monday
    (UTC(2026, 12, 5, 12, 0), UTC(2026, 12, 7, 9, 0)),   # Saturday
])
def test_next_working_time_on_the_london_clock(when, expected):
    assert nwt(when) == expected


@pytest.mark.parametrize("when, expected", [
    # clocks go forward on Sunday 29 March 2026 at 01:00 UTC
    (UTC(2026, 3, 27, 17, 30), UTC(2026, 3, 30, 8, 0)),  # Friday 17:30 GMT -> Monday 09:00 BST
    (UTC(2026, 3, 29, 0, 30), UTC(2026, 3, 30, 8, 0)),   # just before the change
    (UTC(2026, 3, 29, 1, 30), UTC(2026, 3, 30, 8, 0)),   # just after it (02:30 BST)
    # clocks go back on Sunday 25 October 2026 at 01:00 UTC
    (UTC(2026, 10, 23, 16, 30), UTC(2026, 10, 26, 9, 0)),  # Friday 17:30 BST -> Monday 09:00 GMT
    (UTC(2026, 10, 25, 0, 30), UTC(2026, 10, 26, 9, 0)),   # 01:30 BST, the first time round
    (UTC(2026, 10, 25, 1, 30), UTC(2026, 10, 26, 9, 0)),   # 01:30 GMT, the second time round
])
def test_next_working_time_across_the_clock_changes(when, expected):
    assert nwt(when) == expected


def test_utc_keeps_the_old_behaviour_and_the_default_zone_is_london(monkeypatch):
    assert nwt(UTC(2026, 7, 1, 7, 30), tz="UTC") == UTC(2026, 7, 1, 9, 0)
    assert get_settings().timezone == LONDON
    assert prompts.next_working_time(UTC(2026, 7, 1, 7, 30), start_hour=9, end_hour=17) == UTC(2026, 7, 1, 8, 0)
    monkeypatch.setenv("ASSISTANT_TIMEZONE", "UTC")
    get_settings.cache_clear()
    try:
        assert prompts.next_working_time(UTC(2026, 7, 1, 7, 30), start_hour=9, end_hour=17) == UTC(2026, 7, 1, 9, 0)
    finally:
        monkeypatch.delenv("ASSISTANT_TIMEZONE")
        get_settings.cache_clear()


def test_local_today():
    assert prompts.local_today(LONDON, now=UTC(2026, 7, 1, 23, 30)) == dt.date(2026, 7, 2)    # 00:30 BST
    assert prompts.local_today(LONDON, now=UTC(2026, 12, 1, 23, 30)) == dt.date(2026, 12, 1)  # 23:30 GMT
    assert prompts.local_today("UTC", now=UTC(2026, 7, 1, 23, 30)) == dt.date(2026, 7, 1)


# -- with a database ------------------------------------------------------------------------

@pytest.fixture
def people(settings, make_user):
    """A manager and a practitioner in their team, with the question sets loaded."""
    with session_scope(settings.database_url) as session:
        seed_content(ROOT / "content", session=session)
    make_user("mgr", role="manager")
    pat_id = make_user("pat", manager="mgr")[0]
    return settings, pat_id


def frozen(monkeypatch, now):
    monkeypatch.setattr(prompts, "utcnow", lambda: now)


def test_due_today_in_london_is_not_in_the_past(people, monkeypatch):
    settings, pat_id = people
    frozen(monkeypatch, UTC(2026, 7, 1, 23, 30))  # already 2 July in London
    with session_scope(settings.database_url) as session:
        manager = session.query(User).filter_by(username="mgr").one()
        kwargs = {"manager": manager, "practitioner_ids": [pat_id], "set_key": None, "note": None, "session": session}
        with pytest.raises(ReflectionError, match="past"):
            prompts.create_prompts(due_date=dt.date(2026, 7, 1), **kwargs)
        assert prompts.create_prompts(due_date=dt.date(2026, 7, 2), **kwargs)
        assert prompts.create_prompts(due_date=dt.date(2026, 7, 1), tz="UTC", **kwargs)  # the old reading


@pytest.mark.parametrize("now, occurred, expected", [
    (UTC(2026, 7, 1, 7, 35), UTC(2026, 7, 1, 7, 30), UTC(2026, 7, 1, 8, 0)),      # summer: 09:00 BST
    (UTC(2026, 12, 2, 7, 35), UTC(2026, 12, 2, 7, 30), UTC(2026, 12, 2, 9, 0)),   # winter: 09:00 GMT
    (UTC(2026, 7, 3, 16, 35), UTC(2026, 7, 3, 16, 0), UTC(2026, 7, 6, 8, 0)),     # Friday 17:30 BST -> Monday
    (UTC(2026, 10, 24, 10, 0), UTC(2026, 10, 23, 16, 0), UTC(2026, 10, 26, 9, 0)),  # over the clock change
])
def test_recorded_session_prompt_arrives_at_nine_london_time(people, monkeypatch, now, occurred, expected):
    settings, pat_id = people
    frozen(monkeypatch, now)
    with session_scope(settings.database_url) as session:
        _, prompt, created = prompts.record_session(
            practitioner_id=pat_id, occurred_at=occurred, external_ref=None, created_by=None,
            delay_minutes=30, start_hour=9, end_hour=17, session=session)
        assert created and prompt.deliver_after == expected
