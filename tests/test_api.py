"""JSON API tests (TestClient) on SQLite and PostgreSQL. Rasa is replaced by a recording
double here; the end-to-end tests use the real Rasa and action server."""
import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.db import session_scope
from assistant.faq import record_answer
from assistant.models import AnswerFeedback, WebSession
from assistant.web.app import create_app
from assistant.web.rasa_client import AssistantUnavailable, RasaClient


class RecordingRasa:
    """Stands in for Rasa: records what was sent and replies as the REST channel would."""

    def __init__(self, reply=None, fail=False):
        self.sent, self.reply, self.fail = [], reply, fail
        self.tracker_events = []
        self.message_ids = []

    async def send(self, sender, message, message_id):
        if self.fail:
            raise AssistantUnavailable("down")
        self.sent.append((sender, message))
        self.message_ids.append(message_id)
        return self.reply if self.reply is not None else [{"recipient_id": sender, "text": "Hello **there**"}]

    async def events(self, sender):
        if self.fail:
            raise AssistantUnavailable("down")
        return self.tracker_events

    async def actions_healthy(self):
        return not self.fail

    async def close(self):
        pass


@pytest.fixture
def client(seeded):
    with TestClient(create_app(seeded)) as c:
        c.app.state.rasa = RecordingRasa()
        yield c


def login(client, username, password):
    return client.post("/api/login", json={"username": username, "password": password})


@pytest.fixture
def pat(client, make_user):
    uid, name, password = make_user("pat")
    assert login(client, name, password).status_code == 200
    return uid


def test_login_sets_a_secure_cookie_and_never_returns_the_hash(client, make_user):
    uid, name, password = make_user("alex", role="manager")
    resp = login(client, name, password)
    assert resp.status_code == 200
    assert resp.json() == {"id": uid, "username": "alex", "display_name": "alex", "role": "manager"}
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "argon2" not in resp.text and "password" not in resp.text
    assert client.get("/api/me").json()["id"] == uid


def test_wrong_password_and_unknown_user_get_the_same_clear_error(client, make_user):
    _, name, _ = make_user("alex")
    answers = []
    for user, pw in ((name, "wrong password!"), ("nobody", "whatever12345")):
        resp = login(client, user, pw)
        assert resp.status_code == 401
        assert resp.json()["error"].startswith("Incorrect username or password.")
        answers.append(resp.json())
    assert answers[0] == answers[1]


def test_repeated_failures_slow_that_address_down_but_do_not_lock_the_account(client, make_user, seeded):
    # more in tests/test_login_throttle.py
    _, name, password = make_user("alex")
    wrong = [login(client, name, "wrong password!").json() for _ in range(seeded.login_failures_per_address)]
    resp = login(client, name, password)
    assert resp.status_code == 401 and resp.json() == wrong[0]  # the same answer as a wrong password
    elsewhere = TestClient(client.app, client=("192.0.2.7", 50000))  # the app is already started
    assert login(elsewhere, name, password).status_code == 200


def test_missing_and_expired_sessions(client, pat, seeded):
    with session_scope(seeded.database_url) as s:
        for row in s.scalars(select(WebSession)):
            row.expires_at = dt.datetime.utcnow() - dt.timedelta(minutes=1)
    resp = client.post("/api/chat", json={"message": "hello"})
    assert resp.status_code == 401 and resp.json()["code"] == "session_expired"
    assert "log in again" in resp.json()["error"]
    client.cookies.clear()
    resp = client.get("/api/me")
    assert resp.status_code == 401 and resp.json()["error"] == "Please log in."


def test_logout_ends_the_session(client, pat):
    assert client.post("/api/logout", json={}).status_code == 200
    assert client.get("/api/me").status_code == 401


def test_chat_relays_as_the_user_and_renders_markdown(client, pat):
    resp = client.post("/api/chat", json={"message": "  what is SEED?  "})
    assert resp.status_code == 200
    assert client.app.state.rasa.sent == [(str(pat), "what is SEED?")]
    [msg] = resp.json()["messages"]
    assert msg["html"] == "<p>Hello <strong>there</strong></p>\n"


def test_faq_answers_carry_key_source_and_answer_id(client, pat):
    client.app.state.rasa.reply = [{"recipient_id": str(pat), "custom": {
        "type": "faq_answer", "faq_key": "omfq", "text": "The *OMFQ-r*.", "source": "Newsletter",
        "question": "What is the OMFQ-r?", "answer_id": "abc"}}]
    [msg] = client.post("/api/chat", json={"message": "omfq"}).json()["messages"]
    assert (msg["type"], msg["faq_key"], msg["source"], msg["answer_id"]) == ("faq_answer", "omfq", "Newsletter", "abc")
    assert msg["html"] == "<p>The <em>OMFQ-r</em>.</p>\n"


def test_script_in_replies_is_rendered_harmless(client, pat):
    client.app.state.rasa.reply = [{"text": "<script>alert(1)</script> [x](javascript:alert(1))"}]
    [msg] = client.post("/api/chat", json={"message": "hi"}).json()["messages"]
    assert "<script>" not in msg["html"] and "&lt;script&gt;" in msg["html"]
    assert 'href="javascript:' not in msg["html"]


@pytest.mark.parametrize("body, status, code", [
    ({"message": ""}, 422, "empty_message"),
    ({"message": "   \n "}, 422, "empty_message"),
    ({"message": "?!..."}, 422, "empty_message"),
    ({"message": "\U0001f642\U0001f44d"}, 422, "empty_message"),
    ({"message": "x" * 5000}, 422, "message_too_long"),
    ({"message": 12}, 422, "invalid_request"),
    ({}, 422, "empty_message"),
    ({"payload": "/restart"}, 422, "bad_payload"),
])
def test_bad_chat_input_gets_a_clear_error_and_sends_nothing(client, pat, body, status, code):
    resp = client.post("/api/chat", json=body)
    assert (resp.status_code, resp.json()["code"]) == (status, code)
    assert resp.json()["error"]
    assert client.app.state.rasa.sent == []


def test_malformed_json_and_wrong_content_type(client, pat):
    resp = client.post("/api/chat", content=b'{"message": "hi"', headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["code"] == "malformed_json"
    resp = client.post("/api/chat", content=b"message=hi", headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 415


def test_oversized_bodies_are_refused_whether_or_not_their_length_is_declared(client, pat):
    huge = b'{"message": "' + b"x" * 300_000 + b'"}'
    resp = client.post("/api/chat", content=huge, headers={"content-type": "application/json"})
    assert (resp.status_code, resp.json()["code"]) == (413, "too_large")

    def chunked():  # a generator body is sent chunked, with no Content-Length
        yield huge[:100_000]
        yield huge[100_000:]

    resp = client.post("/api/chat", content=chunked(), headers={"content-type": "application/json"})
    assert (resp.status_code, resp.json()["code"]) == (413, "too_large")
    assert client.app.state.rasa.sent == []
    # A chunked body under the limit is read whole and answered as usual.
    resp = client.post("/api/chat", content=iter([b'{"message": "what', b' is SEED?"}']),
                       headers={"content-type": "application/json"})
    assert resp.status_code == 200 and client.app.state.rasa.sent[-1][1] == "what is SEED?"


def test_every_response_carries_the_security_headers(client, pat):
    for resp in (client.get("/"), client.get("/api/history"), client.get("/nope"),
                 client.post("/api/chat", content=b"x", headers={"content-type": "text/plain"})):
        assert resp.headers["content-security-policy"].startswith("default-src 'self'")
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"


def test_html_and_unicode_messages_are_passed_as_plain_text(client, pat):
    text = "<b>bold</b> <script>x</script> café – 👋 ümlaut"
    assert client.post("/api/chat", json={"message": text}).status_code == 200
    assert client.app.state.rasa.sent[-1][1] == text


def test_slash_commands_cannot_be_typed_but_buttons_work(client, pat):
    client.post("/api/chat", json={"message": "/restart"})
    client.post("/api/chat", json={"payload": '/faq{"faq_key": "omfq"}'})
    assert [m for _, m in client.app.state.rasa.sent] == ["restart", '/faq{"faq_key": "omfq"}']


def test_each_message_carries_an_id_and_a_retry_keeps_the_browsers(client, pat):
    rasa = client.app.state.rasa
    assert client.post("/api/chat", json={"message": "hi", "client_message_id": "tab1-0001-abc"}).status_code == 200
    assert client.post("/api/chat", json={"message": "hi", "client_message_id": "tab1-0001-abc"}).status_code == 200
    client.post("/api/chat", json={"message": "hi"})
    client.post("/api/chat", json={"message": "hi"})
    assert rasa.message_ids[:2] == ["tab1-0001-abc", "tab1-0001-abc"]  # Rasa answers the retry from the stored turn
    assert len(set(rasa.message_ids[2:])) == 2  # without one, each message gets its own
    for bad in ("short", "has spaces in it", "x" * 65, "semi;colon-123"):
        resp = client.post("/api/chat", json={"message": "hi", "client_message_id": bad})
        assert resp.status_code == 422, bad
    assert len(rasa.message_ids) == 4


def test_rasa_down_gives_a_clear_unavailable_message(client, pat):
    client.app.state.rasa = RasaClient(["http://127.0.0.1:9"], "t", "http://127.0.0.1:9", timeout=2,
                                       channel_token="c")
    resp = client.post("/api/chat", json={"message": "what is SEED"})
    assert resp.status_code == 503 and "unavailable" in resp.json()["error"]
    assert client.get("/api/history").status_code == 503


def test_an_empty_reply_from_rasa_means_unavailable(client, pat):
    client.app.state.rasa.reply = []
    resp = client.post("/api/chat", json={"message": "what is SEED"})
    assert resp.status_code == 503 and resp.json()["code"] == "assistant_unavailable"


def test_history_is_rebuilt_from_tracker_events_with_feedback(client, pat, seeded):
    with session_scope(seeded.database_url) as s:
        record_answer(answer_id="a1", user_id=pat, faq_key="omfq", confidence=0.9, session=s)
    client.app.state.rasa.tracker_events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "user", "text": "what is omfq"},
        {"event": "bot", "text": None, "data": {"custom": {"type": "faq_answer", "faq_key": "omfq",
                                                            "text": "Answer", "answer_id": "a1"}}},
        {"event": "user", "text": '/faq{"faq_key": "seed_what_is"}'},
        {"event": "bot", "text": "Did you mean?", "data": {"buttons": [{"title": "T", "payload": "/p"}]}},
    ]
    assert client.post("/api/feedback", json={"answer_id": "a1", "helpful": False}).status_code == 200
    msgs = client.get("/api/history").json()["messages"]
    assert [m["sender"] for m in msgs] == ["user", "bot", "user", "bot"]
    assert msgs[1]["faq_key"] == "omfq" and msgs[1]["feedback"] is False
    assert msgs[2]["text"] == "What is SEED?"
    assert msgs[3]["buttons"] == [{"title": "T", "payload": "/p"}]


def test_feedback_is_stored_once_per_user_and_answer(client, pat, seeded):
    with session_scope(seeded.database_url) as s:
        record_answer(answer_id="a1", user_id=pat, faq_key="omfq", confidence=0.9, session=s)
    assert client.post("/api/feedback", json={"answer_id": "a1", "helpful": True}).json() == {
        "answer_id": "a1", "faq_key": "omfq", "helpful": True}
    client.post("/api/feedback", json={"answer_id": "a1", "helpful": False})
    with session_scope(seeded.database_url) as s:
        rows = s.scalars(select(AnswerFeedback)).all()
        assert [(r.user_id, r.faq_key, r.helpful) for r in rows] == [(pat, "omfq", False)]


def test_feedback_on_someone_elses_answer_is_refused(client, pat, seeded, make_user):
    other, _, _ = make_user("other")
    with session_scope(seeded.database_url) as s:
        record_answer(answer_id="theirs", user_id=other, faq_key="omfq", confidence=0.9, session=s)
    assert client.post("/api/feedback", json={"answer_id": "theirs", "helpful": True}).status_code == 404
    assert client.post("/api/feedback", json={"answer_id": "nope", "helpful": True}).status_code == 404


def test_page_is_served_locally_with_security_headers(client):
    resp = client.get("/")
    assert resp.status_code == 200 and "/static/chat.js" in resp.text
    assert "http://" not in resp.text and "https://" not in resp.text
    assert "default-src 'self'" in resp.headers["content-security-policy"]
    assert client.get("/static/chat.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/nope").json()["error"] == "Not found."
    for page, script in (("/manager", "manager.js"), ("/programme", "programme.js"),
                         ("/reflections", "reflections.js")):
        resp = client.get(page)
        assert resp.status_code == 200 and f"/static/{script}" in resp.text, page
        assert "https://" not in resp.text and client.get(f"/static/{script}").status_code == 200


def test_a_long_history_is_paged_never_silently_cut(client, pat):
    client.app.state.rasa.tracker_events = [
        {"event": "user" if n % 2 == 0 else "bot", "text": f"message {n}"} for n in range(5000)]
    first = client.get("/api/history").json()
    assert len(first["messages"]) == 200 and first["earlier"] == 4800
    assert first["messages"][-1]["text"] == "message 4999"
    back = client.get(f"/api/history?limit=200&before={first['earlier']}").json()
    assert back["earlier"] == 4600 and back["messages"][-1]["text"] == "message 4799"
    start = client.get("/api/history?limit=1000&before=300").json()
    assert start["earlier"] == 0 and len(start["messages"]) == 300 and start["messages"][0]["text"] == "message 0"
    for bad in ("limit=0", "limit=5000", "before=-1", "limit=abc"):
        assert client.get(f"/api/history?{bad}").status_code == 422, bad
