"""End to end: the real Rasa server, action server and web app over HTTP."""
from __future__ import annotations

from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import select

from assistant.db import session_scope
from assistant.models import Faq, UnansweredQuestion, User
from assistant.replies import DECLINE_TEXT
from tests.conftest import postgres_available
from tests.e2e_stack import TOKEN, USERS, drop_database, launch, make_database, model_available

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    if not model_available():
        pytest.fail("no trained model in models/: run `make train` first")
    if request.param == "postgresql" and not postgres_available():
        pytest.skip("PostgreSQL is not reachable")
    tmp = tmp_path_factory.mktemp(f"e2e-{request.param}")
    url = make_database(request.param, tmp)
    running = launch(url, tmp)
    running.database_url = url
    yield running
    running.stop_all()
    drop_database(url)


@contextmanager
def client_for(stack, username="pat.e2e"):
    """A logged-in HTTP client (like one browser session)."""
    with httpx.Client(base_url=stack.web_url, timeout=30) as client:
        resp = client.post("/api/login", json={"username": username, "password": USERS[username][1]})
        assert resp.status_code == 200, resp.text
        yield client


def ask(client, text):
    resp = client.post("/api/chat", json={"message": text})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def user_id(stack, username):
    with session_scope(stack.database_url) as s:
        return s.scalars(select(User.id).where(User.username == username)).one()


def test_a_practitioner_logs_in_and_gets_a_sourced_answer(stack):
    with client_for(stack) as client:
        [msg] = ask(client, "what does SEED stand for?")
        assert msg["type"] == "faq_answer" and msg["faq_key"] == "seed_what_is"
        assert "Skills for Effective Engagement and Development" in msg["html"]
        assert msg["source"] and msg["answer_id"]
        resp = client.post("/api/feedback", json={"answer_id": msg["answer_id"], "helpful": True})
        assert resp.status_code == 200 and resp.json()["faq_key"] == "seed_what_is"


def test_an_edited_answer_is_in_the_very_next_reply(stack):
    with session_scope(stack.database_url) as s:
        s.scalars(select(Faq).where(Faq.key == "omfq")).one().answer = "Edited answer about the **OMFQ-r**."
    with client_for(stack) as client:
        [msg] = ask(client, "what is the offender management feedback questionnaire")
        assert msg["faq_key"] == "omfq" and "Edited answer" in msg["html"]


def test_out_of_scope_is_declined_and_stored_for_the_programme_team(stack):
    with client_for(stack, "sam.e2e") as client:
        [msg] = ask(client, "is it going to snow in Cardiff on Sunday?")
        assert msg["text"] == DECLINE_TEXT
    with session_scope(stack.database_url) as s:
        row = s.scalars(select(UnansweredQuestion).where(
            UnansweredQuestion.text == "is it going to snow in Cardiff on Sunday?")).one()
        assert row.user_id == user_id(stack, "sam.e2e") and row.reason == "declined"


def test_the_user_id_is_the_sender_and_history_survives_a_reload(stack):
    with client_for(stack) as client:
        ask(client, "hello")
        ask(client, "who should be the responsible officer?")
    uid = user_id(stack, "pat.e2e")
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{uid}/tracker", params={"token": TOKEN}).json()
    assert any(e.get("text") == "who should be the responsible officer?" for e in tracker["events"])
    with client_for(stack) as fresh:  # a new browser session: log in again
        history = fresh.get("/api/history").json()["messages"]
    texts = [m.get("text") for m in history]
    assert "who should be the responsible officer?" in texts
    assert any(m.get("faq_key") == "responsible_officer" for m in history)


def test_conversations_survive_a_rasa_restart(stack):
    with client_for(stack) as client:
        ask(client, "what is desistance and why does it matter")
        for name in stack.ports.rasa_names():
            stack.stop(name)
        resp = client.post("/api/chat", json={"message": "are you there?"})
        assert resp.status_code == 503 and "unavailable" in resp.json()["error"]
        stack.start_many(stack.ports.rasa_names())
        history = client.get("/api/history").json()["messages"]
        assert "what is desistance and why does it matter" in [m.get("text") for m in history]


def test_action_server_down_says_unavailable_instead_of_hanging(stack):
    with client_for(stack) as client:
        stack.stop("actions")
        try:
            resp = client.post("/api/chat", json={"message": "what is motivational interviewing"})
            assert resp.status_code == 503 and "unavailable" in resp.json()["error"]
        finally:
            stack.start("actions")
        [msg] = ask(client, "what is motivational interviewing")
        assert msg["faq_key"] == "motivational_interviewing"
