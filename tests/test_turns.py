"""The turn-keeping rules installed in Rasa (assistant/rasa_server/turns.py), without a server,
and the reflection rule that an answer is never overwritten by another message."""
from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from assistant import reflection_flow as flow
from assistant import reflections as data
from assistant.db import session_scope
from assistant.models import Reflection, User
from assistant.rasa_server.turns import lock_prefix, replies_to, session_too_long
from assistant.seed import seed_content
from tests.conftest import ROOT


def _turn(message_id, *replies):
    return [UserUttered("hi", message_id=message_id), ActionExecuted("action_x"),
            *[BotUttered(text, data={"buttons": [{"title": "B", "payload": "/b"}]} if text == "with button" else {})
              for text in replies], ActionExecuted("action_listen")]


def test_a_retried_message_gets_the_replies_stored_after_it():
    events = [SessionStarted(), *_turn("first-id-1", "one", "with button"), *_turn("second-id", "two")]
    replies = replies_to(events, "first-id-1")
    assert [r["text"] for r in replies] == ["one", "with button"]
    assert replies[1]["buttons"] == [{"title": "B", "payload": "/b"}]
    assert [r["text"] for r in replies_to(events, "second-id")] == ["two"]
    assert replies_to(events, "never-sent") is None
    assert replies_to(events, None) is None
    assert replies_to(_turn("quiet-id-1"), "quiet-id-1") == []  # answered with nothing: still answered


@given(st.lists(st.tuples(st.text(alphabet="abcdef0123456789", min_size=8, max_size=12),
                          st.lists(st.text(min_size=1, max_size=5), max_size=3)), max_size=6, unique_by=lambda t: t[0]))
def test_replies_belong_to_their_own_turn(turns):
    events = [e for mid, replies in turns for e in _turn(mid, *replies)]
    for mid, replies in turns:
        assert [r["text"] for r in replies_to(events, mid)] == replies


@pytest.mark.parametrize("count,loop,limit,expected", [
    (10, False, 150, False), (151, False, 150, True), (151, True, 150, False), (500, False, 0, False),
])
def test_long_sessions_close_only_between_flows(count, loop, limit, expected):
    assert session_too_long(count, loop, limit) is expected


def test_lock_prefixes_are_per_database_and_what_rasa_accepts():
    a, b = lock_prefix("sqlite:///a.db"), lock_prefix("postgresql://x/y")
    assert a != b and a.isalnum() and b.isalnum() and a == lock_prefix("sqlite:///a.db")


def test_an_answer_from_another_message_never_overwrites_the_saved_one(settings, make_user):
    url = settings.database_url
    with session_scope(url) as s:
        seed_content(ROOT / "content", session=s)
    uid, _, _ = make_user("no.overwrite")
    with session_scope(url) as s:
        set_row = data.get_set("gibbs", session=s)
        rid = data.start_reflection(author_id=uid, run_id=uuid.uuid4().hex, set_row=set_row, session=s).id
    with session_scope(url) as s:
        out = flow.answer(s.get(User, uid), rid, 1, "first answer", retries=0, session=s, message_id="msg-aaaa-1")
        assert out.slots["q1"] == flow.SAVED
    with session_scope(url) as s:  # the same message again (a retried turn): same answer, nothing added
        flow.answer(s.get(User, uid), rid, 1, "first answer", retries=0, session=s, message_id="msg-aaaa-1")
    with session_scope(url) as s:  # the form lost a turn and asks question 1 again: the answer goes on
        out = flow.answer(s.get(User, uid), rid, 1, "second answer", retries=0, session=s, message_id="msg-bbbb-2")
        assert out.slots["q2"] == flow.SAVED and out.slots["q1"] == flow.SAVED
        assert "question 2" in " ".join(m.get("text", "") for m in out.messages)
    with session_scope(url) as s:
        answers = [(a.position, a.answer) for a in s.get(Reflection, rid).answers]
    assert answers == [(1, "first answer"), (2, "second answer")]


def test_nothing_typed_mid_reflection_reaches_the_review_queue(settings, make_user):
    import datetime as dt

    from sqlalchemy import func, select

    from assistant.answering import Decision
    from assistant.models import UnansweredQuestion
    from assistant.replies import DECLINE_TEXT, DECLINE_WHILE_REFLECTING_TEXT, build_reply

    url = settings.database_url
    with session_scope(url) as s:
        seed_content(ROOT / "content", session=s)
    uid, _, _ = make_user("mid.reflection")
    with session_scope(url) as s:
        rid = data.start_reflection(author_id=uid, run_id=uuid.uuid4().hex,
                                    set_row=data.get_set("gibbs", session=s), session=s).id
    text = "he told me about his sister's court case and I felt out of my depth"
    with session_scope(url) as s:
        replies = build_reply(Decision("decline"), text=text, message_id="mid-0001-x", user_id=uid, session=s)
        assert replies == [{"text": DECLINE_WHILE_REFLECTING_TEXT}]
        suggest = Decision("suggest", key="omfq", suggestions=["omfq", "seed_what_is"])
        assert build_reply(suggest, text=text, message_id="mid-0002-x", user_id=uid, session=s)[0]["buttons"]
        assert s.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0
    with session_scope(url) as s:  # hours later, a question is a question again
        s.get(Reflection, rid).updated_at = dt.datetime.utcnow() - dt.timedelta(hours=3)
    with session_scope(url) as s:
        replies = build_reply(Decision("decline"), text="what about parole boards?", message_id="mid-0003-x",
                              user_id=uid, session=s)
        assert replies == [{"text": DECLINE_TEXT}]
        assert s.scalar(select(func.count()).select_from(UnansweredQuestion)) == 1


def test_the_form_slots_of_a_set_are_remembered_for_a_minute(settings):
    from assistant.models import ReflectionQuestion, ReflectionSet

    url = settings.database_url
    with session_scope(url) as s:
        seed_content(ROOT / "content", session=s)
        count = len(data.get_set("gibbs", session=s).questions)
        assert flow.required_slots("gibbs", session=s, now=0.0) == ["reflection_set"] + flow.QUESTION_SLOTS[:count]
        set_id = s.query(ReflectionSet.id).filter(ReflectionSet.key == "gibbs").scalar()
        last = s.query(ReflectionQuestion).filter(ReflectionQuestion.set_id == set_id) \
            .order_by(ReflectionQuestion.position.desc()).first()
        s.delete(last)
    with session_scope(url) as s:
        assert len(flow.required_slots("gibbs", session=s, now=30.0)) == count + 1  # remembered
        assert len(flow.required_slots("gibbs", session=s, now=61.0)) == count  # then read again
        assert flow.required_slots(None, session=s) == ["reflection_set", "q1"]
