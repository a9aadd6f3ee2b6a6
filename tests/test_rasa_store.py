"""Rasa's SQL tracker store with our cheaper reads and saves (assistant/rasa_server/store.py)
keeps exactly the rows Rasa's own would, on SQLite and PostgreSQL: generated conversations
of turns, session starts, repeated saves and saves retried after their commit."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from assistant.rasa_server import install_sql_store_reads
from assistant.rasa_server.store import STORED_COUNT
from tests.conftest import ROOT

ORIGINAL_RETRIEVE = SQLTrackerStore.__dict__["_retrieve"]
ORIGINAL_ADDITIONAL = SQLTrackerStore.__dict__["_additional_events"]


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def store(db_url, domain, monkeypatch):
    """A Rasa SQL tracker store on a new database, with our changes installed (monkeypatch
    puts Rasa's own methods back afterwards)."""
    monkeypatch.setattr(SQLTrackerStore, "_retrieve", ORIGINAL_RETRIEVE)
    monkeypatch.setattr(SQLTrackerStore, "_additional_events", ORIGINAL_ADDITIONAL)
    install_sql_store_reads()
    assert SQLTrackerStore._retrieve is not ORIGINAL_RETRIEVE
    tracker_store = SQLTrackerStore(domain, host=db_url)
    yield tracker_store
    tracker_store.engine.dispose()


def _stored(store, sender):
    """The stored events of ``sender`` in id order, as dicts."""
    with store.session_scope() as session:
        rows = session.execute(select(store.SQLEvent.data).where(store.SQLEvent.sender_id == sender)
                               .order_by(store.SQLEvent.id)).all()
    return [json.loads(data) for (data,) in rows]


def _event(kind: str, n: int):
    when = 1_700_000_000.0 + n  # fixed times, so two plays of one script store equal rows
    return {"user": lambda: UserUttered(f"message {n}", {"name": "greet", "confidence": 0.9}, message_id=f"m{n}",
                                        timestamp=when),
            "bot": lambda: BotUttered(f"reply {n}", timestamp=when),
            "slot": lambda: SlotSet("step_retries", float(n), timestamp=when),
            "action": lambda: ActionExecuted("action_listen", timestamp=when),
            "session": lambda: SessionStarted(timestamp=when)}[kind]()


def _play(store, turns, ours: bool):
    """Run ``turns`` (read, add events, save once or twice) on a new conversation; return the
    stored rows and every event added. ``ours``: with our read and save, else Rasa's own."""
    sender = uuid.uuid4().hex
    retrieve, additional = SQLTrackerStore._retrieve, SQLTrackerStore._additional_events
    if not ours:
        SQLTrackerStore._retrieve, SQLTrackerStore._additional_events = ORIGINAL_RETRIEVE, ORIGINAL_ADDITIONAL
    try:
        added, n = [], 0
        for kinds, saves in turns:
            tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker(sender, store.domain.slots)
            for kind in kinds:
                n += 1
                tracker.update(_event(kind, n))
                added.append(tracker.events[-1].as_dict())
            for _ in range(saves):
                asyncio.run(store.save(tracker))
        return _stored(store, sender), added
    finally:
        SQLTrackerStore._retrieve, SQLTrackerStore._additional_events = retrieve, additional


TURN = st.tuples(st.lists(st.sampled_from(["user", "bot", "slot", "action", "session"]), min_size=1, max_size=6),
                 st.sampled_from([1, 1, 2]))


@hsettings(max_examples=25, derandomize=True, database=None, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])  # a new conversation per example
@given(turns=st.lists(TURN, min_size=1, max_size=6))
def test_generated_conversations_are_stored_as_rasa_stores_them(store, turns):
    ours, added = _play(store, turns, ours=True)
    assert ours == _play(store, turns, ours=False)[0]
    if all(saves == 1 for _, saves in turns):  # Rasa's way: one save per turn, after one read
        assert ours == added  # every event exactly once, in order


def test_reads_are_rasas_reads_and_remember_their_count(store):
    sender = uuid.uuid4().hex
    tracker = DialogueStateTracker(sender, store.domain.slots)
    for n, kind in enumerate(["session", "user", "bot", "action", "session", "action", "user"]):
        tracker.update(_event(kind, n))
    asyncio.run(store.save(tracker))
    for full in (False, True):
        ours = asyncio.run(store._retrieve(sender, full))
        rasas = asyncio.run(ORIGINAL_RETRIEVE(store, sender, full))
        assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in rasas.events]
        assert len(ours.events) == (7 if full else 3)
        assert getattr(ours, STORED_COUNT, None) == (None if full else 3)  # no count a save could misuse


def test_a_save_without_a_read_counts_as_rasa_does(store):
    sender = uuid.uuid4().hex
    tracker = DialogueStateTracker(sender, store.domain.slots)
    for event in (SessionStarted(), ActionExecuted("action_listen"), UserUttered("hello", message_id="a1")):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    read = asyncio.run(store.retrieve(sender))
    read.update(BotUttered("hi"))
    # a known count is used by the first save only; later ones count as Rasa does
    assert getattr(read, STORED_COUNT) == 3
    asyncio.run(store.save(read))
    assert not hasattr(read, STORED_COUNT)
    assert [e["event"] for e in _stored(store, sender)] == ["session_started", "action", "user", "bot"]
    assert asyncio.run(store.retrieve("nobody-" + sender)) is None
