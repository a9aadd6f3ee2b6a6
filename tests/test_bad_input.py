"""Bad input gets a clear 4xx in the API's error shape, never a 5xx: the cases the security
review found (lone surrogates, NUL characters, ids past the database's integer range,
impossible dates, a NUL in a CSV import, "/ /restart" in the chat), and property tests of
the chat's command filter."""
import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from assistant import faq_io
from assistant import reflection_exports
from assistant import reflections as data
from assistant.db import session_scope
from assistant.dialogue import has_content
from assistant.web import render
from assistant.web.app import create_app
from assistant.web.routes_chat import without_commands
from tests.test_api import RecordingRasa

BIG = [2**31, 2**63, 2**64 + 1, 10**30]


@pytest.fixture
def as_(seeded, make_user):
    """Factory: a client logged in as one of pat (practitioner), mgr (manager), prog (programme)."""
    users = {"mgr": make_user("mgr", role="manager"), "prog": make_user("prog", role="programme")}
    users["pat"] = make_user("pat", manager="mgr")
    made = []

    def factory(who):
        c = TestClient(create_app(seeded), raise_server_exceptions=False)
        c.__enter__()
        c.app.state.rasa = RecordingRasa()
        made.append(c)
        _, name, password = users[who]
        assert c.post("/api/login", json={"username": name, "password": password}).status_code == 200
        c.ids = {k: v[0] for k, v in users.items()}
        return c

    yield factory
    for c in made:
        c.__exit__(None, None, None)


def send(client, method, url, body):
    """``body`` as JSON text: ``json.dumps`` writes a lone surrogate as the escape ``\\ud800``,
    which is valid JSON and decodes back to the lone surrogate, as a browser's or attacker's would."""
    return client.request(method, url, content=json.dumps(body), headers={"content-type": "application/json"})


def assert_clear_4xx(resp, *statuses):
    assert resp.status_code in (statuses or (400, 404, 422)), (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) >= {"error", "code"} and body["error"]


@pytest.mark.parametrize("who, method, url, body", [
    ("pat", "POST", "/api/chat", {"message": "hello \ud800"}),
    ("pat", "POST", "/api/chat", {"payload": "\udfff"}),
    ("pat", "POST", "/api/feedback", {"answer_id": "\ud800", "helpful": True}),
    ("pat", "POST", "/api/sessions", {"external_ref": "ref-\ud800"}),
    ("mgr", "POST", "/api/team/prompts", {"practitioner_ids": [1], "note": "\ud800"}),
    ("prog", "POST", "/api/faqs", {"key": "new_faq", "question": "What \ud800?", "answer": "An answer."}),
    ("prog", "POST", "/api/faqs/omfq/examples", {"text": "\ud83d"}),
    ("prog", "POST", "/api/faqs/preview", {"markdown": "**\ud800**"}),
    ("prog", "POST", "/api/faqs/import", {"format": "csv", "content": "key\n\ud800"}),
    ("prog", "PUT", "/api/faqs/omfq", {"examples": ["fine", "not \udc00 fine"], "version": 1}),
])
def test_lone_surrogates_in_any_text_field_are_refused(as_, who, method, url, body):
    resp = send(as_(who), method, url, body)
    assert_clear_4xx(resp, 422)
    assert resp.json()["code"] == "invalid_request"


def test_lone_surrogate_or_nul_in_the_login_form_is_refused(as_):
    client = as_("pat")
    for username in ("pat\ud800", "pat\x00"):
        assert_clear_4xx(send(client, "POST", "/api/login", {"username": username, "password": "x"}), 422)


@pytest.mark.parametrize("value", BIG + [0, -1])
def test_ids_outside_the_database_range_are_refused_in_paths(as_, value):
    pat, prog = as_("pat"), as_("prog")
    for client, method, url, body in [
        (pat, "GET", f"/api/reflections/{value}", None), (pat, "DELETE", f"/api/reflections/{value}", None),
        (pat, "POST", f"/api/reflections/{value}/share", {"shared": True}),
        (pat, "POST", f"/api/prompts/{value}/snooze", {"hours": 2}), (pat, "POST", f"/api/prompts/{value}/dismiss", {}),
        (prog, "POST", f"/api/faqs/omfq/revert/{value}", {}),
    ]:
        assert_clear_4xx(send(client, method, url, body), 422)


@pytest.mark.parametrize("value", BIG + [0, -1, 1e400])
def test_ids_outside_the_database_range_are_refused_in_bodies(as_, value):
    assert_clear_4xx(send(as_("pat"), "POST", "/api/sessions", {"practitioner_id": value}), 422)
    assert_clear_4xx(send(as_("mgr"), "POST", "/api/team/prompts", {"practitioner_ids": [value]}), 422)
    prog = as_("prog")
    assert_clear_4xx(send(prog, "POST", "/api/review-queue/dismiss", {"ids": [value]}), 422)
    assert_clear_4xx(send(prog, "POST", "/api/faqs/omfq/examples", {"text": "a question?", "queue_ids": [value]}), 422)
    assert_clear_4xx(send(prog, "PUT", "/api/faqs/omfq", {"answer": "An answer.", "version": value}), 422)


@pytest.mark.parametrize("occurred_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "yesterday",
                                         "2026-02-30T10:00:00", "2026-11-24T25:00:00Z"])
def test_impossible_session_times_are_refused(as_, occurred_at):
    resp = send(as_("pat"), "POST", "/api/sessions", {"occurred_at": occurred_at})
    assert_clear_4xx(resp, 422)
    assert "occurred_at" in resp.json()["error"]


def test_a_session_time_with_an_offset_is_kept_in_utc(as_, seeded):
    resp = send(as_("pat"), "POST", "/api/sessions", {"occurred_at": "2020-06-01T10:30:00+01:00", "external_ref": "a"})
    assert resp.status_code == 201
    assert resp.json()["created"] is True


@pytest.mark.parametrize("due_date", ["2026-02-30", "2026-13-01", "0000-01-01"])
def test_impossible_due_dates_are_refused(as_, due_date):
    mgr = as_("mgr")
    resp = send(mgr, "POST", "/api/team/prompts", {"practitioner_ids": [mgr.ids["pat"]], "due_date": due_date})
    assert_clear_4xx(resp, 422)
    assert "due_date" in resp.json()["error"]


@pytest.mark.parametrize("content", ["key,category\nabc,\x00def\n", "\x00", "a,b\n" + "x" * 150_000 + "\n"])
def test_a_csv_import_with_a_nul_or_a_huge_field_is_refused(as_, content):
    resp = send(as_("prog"), "POST", "/api/faqs/import", {"format": "csv", "content": content})
    assert_clear_4xx(resp, 422)


def test_the_csv_parser_itself_reports_nul_as_an_import_error():
    with pytest.raises(faq_io.ImportErrors) as err:
        faq_io.parse_csv(",".join(faq_io.CSV_FIELDS) + "\nk\x00ey,a,b,c,d,e,,,\n")
    assert "NUL" in err.value.errors[0][1] and "line 2" in err.value.errors[0][1]


@pytest.mark.parametrize("url", ["/api/faqs?q=%00", "/api/faqs?category=a%00b", "/api/faqs/om%00fq",
                                 "/api/reflections/export?format=%00", "/static/%00.js"])
def test_nul_in_a_url_is_refused(as_, url):
    resp = as_("prog").get(url)
    assert_clear_4xx(resp, 400)
    assert resp.json()["code"] == "bad_characters"


@pytest.mark.parametrize("message, sent", [
    ("/ /restart", "restart"), ("//restart", "restart"), (" / / / /faq{\"faq_key\": \"omfq\"}", 'faq{"faq_key": "omfq"}'),
    ("\u3000/\u2028/restart", "restart"), ("/\t/\n/ hello", "hello"), ("what is /restart?", "what is /restart?"),
])
def test_typed_text_never_reaches_rasa_as_a_command(as_, message, sent):
    pat = as_("pat")
    assert send(pat, "POST", "/api/chat", {"message": message}).status_code == 200
    assert pat.app.state.rasa.sent[-1][1] == sent


@pytest.mark.parametrize("message", ["/", "/ / /", "/\u3000/", "/ \U0001f642"])
def test_only_slashes_is_an_empty_message(as_, message):
    pat = as_("pat")
    resp = send(pat, "POST", "/api/chat", {"message": message})
    assert (resp.status_code, resp.json()["code"]) == (422, "empty_message")
    assert pat.app.state.rasa.sent == []


# -- properties of the filter ------------------------------------------------------------

PREFIXES = st.lists(st.sampled_from(["/", " ", "\t", "\n", "\u3000", "\u2028", "\x1c", "\xa0", "//"]), max_size=8)
TEXTS = st.builds(lambda prefix, rest: "".join(prefix) + rest, PREFIXES, st.text(max_size=40))


@given(TEXTS)
@hsettings(max_examples=500, derandomize=True, database=None)
def test_filtered_text_is_never_a_command_for_rasa(text):
    out = without_commands(text)
    # Rasa trims with str.strip and then treats a leading "/" as a command
    assert not out.strip().startswith("/")
    assert out == out.strip()
    assert without_commands(out) == out  # a normal form: filtering twice changes nothing
    if not text.strip().startswith("/"):
        assert out == text.strip()  # ordinary messages are only trimmed


def test_the_chat_route_sends_rasa_only_safe_text_or_refuses(as_):
    pat = as_("pat")

    @given(TEXTS)
    @hsettings(max_examples=150, derandomize=True, database=None, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])
    def check(text):
        before = len(pat.app.state.rasa.sent)
        resp = send(pat, "POST", "/api/chat", {"message": text})
        assert resp.status_code in (200, 422), resp.text
        sent = pat.app.state.rasa.sent[before:]
        if resp.status_code == 200:
            [(_, message)] = sent
            assert not message.strip().startswith("/")
        else:
            expected = ("invalid_request",) if "\x00" in text else ("empty_message", "message_too_long")
            assert sent == [] and resp.json()["code"] in expected
            if resp.json()["code"] == "empty_message":
                assert not has_content(without_commands(text))

    check()


EMOJI_OR_PUNCTUATION = st.lists(st.sampled_from(list("!?.,;:-_()[]{}'\"*#/ ") + [
    "\U0001f642", "\U0001f44d", "\u2764\ufe0f", "\U0001f1ec\U0001f1e7", "\u2014", "\u2026"]), max_size=30).map("".join)


@given(EMOJI_OR_PUNCTUATION)
@hsettings(max_examples=300, derandomize=True, database=None)
def test_emoji_and_punctuation_only_have_no_content(text):
    assert not has_content(without_commands(text))


@given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=20), EMOJI_OR_PUNCTUATION)
@hsettings(max_examples=300, derandomize=True, database=None)
def test_any_letter_or_digit_is_content(word, noise):
    assert has_content(without_commands(noise + word + noise))


def test_button_payloads_are_whitelisted_not_filtered(as_):
    pat = as_("pat")
    assert render.allowed_payload("/affirm")
    assert send(pat, "POST", "/api/chat", {"payload": "/affirm"}).status_code == 200
    assert pat.app.state.rasa.sent[-1][1] == "/affirm"
    for payload in ("/restart", "/ /affirm", "affirm", '/faq{"faq_key": "x"}'):
        assert send(pat, "POST", "/api/chat", {"payload": payload}).json()["code"] == "bad_payload"


def test_reflection_export_and_faq_export_share_the_formula_guard(seeded, make_user):
    uid, _, _ = make_user("x.user")
    with session_scope(seeded.database_url) as s:
        r = data.start_reflection(author_id=uid, run_id="r", set_row=data.get_set(None, session=s), session=s)
        data.save_answer(r, position=1, qid="what", question="@SUM(A1)", answer="\t=1+1", session=s)
        out = reflection_exports.export_csv(data.list_own(uid, session=s))
    assert "'@SUM(A1)" in out and "'\t=1+1" in out
