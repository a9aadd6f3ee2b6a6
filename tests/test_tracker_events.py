"""What we do to Rasa's conversation store (assistant/tracker_events.py), on SQLite and
PostgreSQL, against the table as Rasa itself defines it: deleting a window of one
conversation's text, the retention purge, nothing to do before Rasa has created its table,
and never committing. Reflections' deletion and purge go through it."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select, text

from assistant import reflections, tracker_events
from assistant.db import get_engine, session_scope
from assistant.models import Reflection

NOW = dt.datetime(2024, 3, 1, 12, 0, 0)


def _rasa_events_table(url):
    """Create ``events`` exactly as Rasa 3.6's SQLTrackerStore does."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.SQLEvent.__table__.create(get_engine(url))


def _add(url, *rows):
    """Rows of (sender, type_name, when, text) as Rasa stores them (``data`` is the event)."""
    with session_scope(url) as s:
        for sender, kind, when, words in rows:
            stamp = tracker_events.epoch_seconds(when)
            s.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :t, :ts, :d)"),
                      {"s": sender, "t": kind, "ts": stamp,
                       "d": json.dumps({"event": kind, "timestamp": stamp, "text": words})})


def _left(url):
    with session_scope(url) as s:
        rows = s.execute(text("SELECT sender_id, type_name, data FROM events ORDER BY id")).all()
    return [(sender, kind, json.loads(data)["text"]) for sender, kind, data in rows]


def test_the_columns_we_rely_on_are_rasas():
    from rasa.core.tracker_store import SQLTrackerStore

    columns = {c.name for c in SQLTrackerStore.SQLEvent.__table__.columns}
    assert SQLTrackerStore.SQLEvent.__tablename__ == tracker_events.TABLE
    assert {"sender_id", "type_name", "timestamp", "data"} <= columns
    for name in columns:
        assert f"``{name}``" in tracker_events.__doc__   # each column is documented


def test_before_rasa_has_created_its_table_there_is_nothing_to_delete(migrated):
    with session_scope(migrated) as s:
        assert not tracker_events.store_exists(session=s)
        assert tracker_events.delete_turns("1", NOW, NOW, session=s) == 0
        assert tracker_events.delete_before(NOW, session=s) == 0


def test_deleting_a_window_of_one_conversations_text(migrated):
    _rasa_events_table(migrated)
    minute = dt.timedelta(minutes=1)
    _add(migrated, ("7", "user", NOW - 10 * minute, "before the window"),
         ("7", "user", NOW, "inside: typed"), ("7", "bot", NOW + minute, "inside: said"),
         ("7", "slot", NOW + 2 * minute, "inside: slot"), ("7", "action", NOW + minute, "inside: no text"),
         ("8", "user", NOW, "someone else, same time"), ("7", "user", NOW + 10 * minute, "after the window"))
    with session_scope(migrated) as s:
        assert tracker_events.store_exists(session=s)
        assert tracker_events.delete_turns("7", NOW, NOW + 2 * minute, session=s) == 3
    assert _left(migrated) == [("7", "user", "before the window"), ("7", "action", "inside: no text"),
                               ("8", "user", "someone else, same time"), ("7", "user", "after the window")]


def test_the_retention_purge_deletes_every_conversations_old_events(migrated):
    _rasa_events_table(migrated)
    _add(migrated, ("7", "user", NOW - dt.timedelta(days=400), "old"),
         ("8", "action", NOW - dt.timedelta(days=366), "old action"), ("7", "user", NOW, "recent"))
    with session_scope(migrated) as s:
        assert tracker_events.delete_before(NOW - dt.timedelta(days=365), session=s) == 2
    assert _left(migrated) == [("7", "user", "recent")]


def test_it_never_commits(migrated):
    _rasa_events_table(migrated)
    _add(migrated, ("7", "user", NOW, "kept"))
    with session_scope(migrated) as s:
        tracker_events.delete_turns("7", NOW, NOW, session=s)
        tracker_events.delete_before(NOW + dt.timedelta(days=1), session=s)
        s.rollback()
    assert _left(migrated) == [("7", "user", "kept")]


@pytest.fixture
def reflection(seeded, make_user):
    """A practitioner's reflection, open for the last few minutes, with Rasa's table present."""
    uid, _, _ = make_user("pat")
    with session_scope(seeded.database_url) as s:
        row = reflections.start_reflection(author_id=uid, run_id=uuid.uuid4().hex,
                                           set_row=reflections.list_sets(session=s)[0], session=s)
        row.started_at, row.updated_at = NOW, NOW + dt.timedelta(minutes=3)
        rid = row.id
    _rasa_events_table(seeded.database_url)
    return uid, rid


def test_deleting_a_reflection_deletes_its_turns_through_this_module(seeded, reflection):
    uid, rid = reflection
    _add(seeded.database_url, (str(uid), "user", NOW - dt.timedelta(hours=1), "an FAQ question"),
         (str(uid), "user", NOW + dt.timedelta(minutes=1), "my reflection answer"),
         (str(uid), "bot", NOW + dt.timedelta(minutes=3, seconds=4), "saved"))
    with session_scope(seeded.database_url) as s:
        reflections.delete_own(rid, uid, session=s)
    assert _left(seeded.database_url) == [(str(uid), "user", "an FAQ question")]


def test_purging_old_reflections_purges_old_conversation_events(seeded, reflection):
    uid, rid = reflection
    _add(seeded.database_url, (str(uid), "user", NOW + dt.timedelta(minutes=1), "my reflection answer"),
         (str(uid + 1), "user", NOW - dt.timedelta(days=1), "someone's old question"),
         (str(uid + 1), "user", NOW + dt.timedelta(days=400), "a question this week"))
    with session_scope(seeded.database_url) as s:
        assert reflections.purge(365, session=s, now=NOW + dt.timedelta(days=400)) == 1
    assert _left(seeded.database_url) == [(str(uid + 1), "user", "a question this week")]
    with session_scope(seeded.database_url) as s:
        assert s.scalars(select(Reflection.id)).all() == []
