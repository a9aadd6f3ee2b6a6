"""Privacy rules, enforced in code: every reflection endpoint for each role
(author, their manager, a manager of another team, the programme team, no login)."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from assistant import reflection_exports
from assistant import reflections as data
from assistant.db import session_scope
from assistant.models import Faq, Reflection, ReflectionPrompt
from assistant.web.app import create_app
from tests.test_api import RecordingRasa


@pytest.fixture
def world(seeded, make_user):
    users = {
        "mgr": make_user("mgr", role="manager"),
        "mgr2": make_user("mgr2", role="manager"),
        "prog": make_user("prog", role="programme"),
    }
    users["pat"] = make_user("pat", manager="mgr")
    users["sam"] = make_user("sam", manager="mgr2")
    ids = {}
    with session_scope(seeded.database_url) as s:
        set_row = data.get_set("quick_check", session=s)
        for name, shared in (("private", False), ("shared", True)):
            r = data.start_reflection(author_id=users["pat"][0], run_id=name, set_row=set_row, session=s)
            data.save_answer(r, position=1, qid="went_well", question="What went well?",
                             answer=f"{name} answer text", session=s)
            data.save_answer(r, position=2, qid="do_differently", question="What differently?", answer=None, session=s)
            data.complete(r, session=s)
            if shared:
                data.set_shared(r, True, session=s)
            ids[name] = r.id
    return users, ids


def client_as(settings, users, who):
    c = TestClient(create_app(settings))
    c.__enter__()
    c.app.state.rasa = RecordingRasa()
    if who:
        _, name, password = users[who]
        assert c.post("/api/login", json={"username": name, "password": password}).status_code == 200
    return c


@pytest.fixture
def as_(seeded, world):
    users, _ = world
    made = []

    def factory(who):
        c = client_as(seeded, users, who)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.__exit__(None, None, None)


@pytest.mark.parametrize("who, status", [("pat", 200), ("mgr", 403), ("mgr2", 403), ("prog", 403), (None, 401)])
def test_list_own_reflections(as_, world, who, status):
    resp = as_(who).get("/api/reflections")
    assert resp.status_code == status
    if status == 200:
        assert {r["id"] for r in resp.json()} == set(world[1].values())


@pytest.mark.parametrize("who, private, shared", [
    ("pat", 200, 200), ("mgr", 404, 200), ("mgr2", 404, 404), ("sam", 403, 403), ("prog", 403, 403), (None, 401, 401)])
def test_read_one_reflection(as_, world, who, private, shared):
    ids = world[1]
    c = as_(who)
    assert c.get(f"/api/reflections/{ids['private']}").status_code == (private if who != "sam" else 404)
    resp = c.get(f"/api/reflections/{ids['shared']}")
    assert resp.status_code == (shared if who != "sam" else 404)
    if resp.status_code == 200:
        assert resp.json()["answers"][0]["answer"] == "shared answer text"


@pytest.mark.parametrize("who, status", [("pat", 200), ("sam", 404), ("mgr", 403), ("prog", 403), (None, 401)])
def test_share_and_unshare(as_, world, who, status):
    resp = as_(who).post(f"/api/reflections/{world[1]['private']}/share", json={"shared": True})
    assert resp.status_code == status
    if status == 200:
        assert resp.json()["shared"] is True


@pytest.mark.parametrize("who, status", [("pat", 200), ("sam", 404), ("mgr", 403), ("prog", 403), (None, 401)])
def test_delete(as_, world, seeded, who, status):
    rid = world[1]["shared"]
    assert as_(who).delete(f"/api/reflections/{rid}", headers={"content-type": "application/json"}).status_code == status
    with session_scope(seeded.database_url) as s:
        assert (s.get(Reflection, rid) is None) == (status == 200)


@pytest.mark.parametrize("who, status", [("pat", 200), ("mgr", 403), ("prog", 403), (None, 401)])
def test_export(as_, who, status):
    c = as_(who)
    md = c.get("/api/reflections/export?format=md")
    assert md.status_code == status
    if status == 200:
        assert "private answer text" in md.text and "_(skipped)_" in md.text
        csv = c.get("/api/reflections/export?format=csv")
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[0].startswith("reflection_id,date,question_set")
        assert c.get("/api/reflections/export?format=pdf").status_code == 422


def test_export_escapes_html_and_spreadsheet_formulas(seeded, make_user):
    uid, _, _ = make_user("x.user")
    with session_scope(seeded.database_url) as s:
        r = data.start_reflection(author_id=uid, run_id="r", set_row=data.get_set(None, session=s), session=s)
        data.save_answer(r, position=1, qid="what", question="Q", answer="<script>x</script>", session=s)
        data.save_answer(r, position=2, qid="so_what", question="Q2", answer="=HYPERLINK(1)", session=s)
        rows = data.list_own(uid, session=s)
        assert "&lt;script&gt;" in reflection_exports.export_markdown(rows)
        assert "'=HYPERLINK(1)" in reflection_exports.export_csv(rows)


@pytest.mark.parametrize("who, status", [("mgr", 200), ("mgr2", 200), ("pat", 403), ("prog", 403), (None, 401)])
def test_team_page_shows_counts_and_only_shared_reflections(as_, world, who, status):
    resp = as_(who).get("/api/team")
    assert resp.status_code == status
    if who == "mgr":
        body = resp.json()
        assert [m["username"] for m in body["members"]] == ["pat"]
        assert [r["id"] for r in body["shared"]] == [world[1]["shared"]]
        assert "private answer text" not in resp.text
        weeks = body["weekly"][0]["weeks"]
        assert sum(w["completed"] for w in weeks) == 2
    if who == "mgr2":
        assert resp.json()["shared"] == [] and "answer text" not in resp.text


def test_prompts_only_to_own_team(as_, world, seeded):
    users, _ = world
    mgr = as_("mgr")
    due = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    resp = mgr.post("/api/team/prompts", json={"practitioner_ids": [users["pat"][0]], "set_key": "gibbs",
                                                "note": "This week's new cases", "due_date": due})
    assert resp.status_code == 201 and resp.json()[0]["set_name"] == "Gibbs' reflective cycle"
    outside = mgr.post("/api/team/prompts", json={"practitioner_ids": [users["sam"][0]]})
    assert outside.status_code == 403 and "own team" in outside.json()["error"]
    assert mgr.post("/api/team/prompts", json={"practitioner_ids": [users["pat"][0]], "set_key": "nope"}).status_code == 422
    assert mgr.post("/api/team/prompts", json={"practitioner_ids": []}).status_code == 422
    assert as_("pat").post("/api/team/prompts", json={"practitioner_ids": [users["pat"][0]]}).status_code == 403
    assert as_("prog").post("/api/team/prompts", json={"practitioner_ids": [users["pat"][0]]}).status_code == 403
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(ReflectionPrompt)) == 1


def test_practitioner_sees_snoozes_and_dismisses_prompts(as_, world):
    users, _ = world
    as_("mgr").post("/api/team/prompts", json={"practitioner_ids": [users["pat"][0]], "note": "Please reflect"})
    pat = as_("pat")
    [prompt] = pat.get("/api/prompts").json()
    assert prompt["from_name"] == "mgr" and prompt["note"] == "Please reflect"
    assert as_("sam").post(f"/api/prompts/{prompt['id']}/snooze", json={"hours": 2}).status_code == 404
    assert as_("mgr").get("/api/prompts").status_code == 403
    assert pat.post(f"/api/prompts/{prompt['id']}/snooze", json={"hours": 2}).status_code == 200
    assert pat.get("/api/prompts").json() == []
    assert pat.post(f"/api/prompts/{prompt['id']}/snooze", json={"hours": 1000}).status_code == 422
    assert pat.post(f"/api/prompts/{prompt['id']}/dismiss", json={}).json()["status"] == "dismissed"


def test_sessions_create_a_prompt_in_working_hours_and_replays_are_safe(as_, world, seeded, monkeypatch):
    users, _ = world
    pat = as_("pat")
    body = {"occurred_at": "2026-11-21T16:50:00", "external_ref": "cms-1"}  # a Saturday afternoon
    first = pat.post("/api/sessions", json=body)
    assert first.status_code == 201, first.text
    deliver = dt.datetime.fromisoformat(first.json()["deliver_after"])  # stored as naive UTC
    local = deliver.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo("Europe/London"))
    assert local.weekday() < 5 and 9 <= local.hour < 17
    again = pat.post("/api/sessions", json=body)
    assert again.status_code == 200 and again.json()["session_id"] == first.json()["session_id"]
    assert as_("mgr").post("/api/sessions", json={"practitioner_id": users["pat"][0]}).status_code == 201
    assert as_("mgr2").post("/api/sessions", json={"practitioner_id": users["pat"][0]}).status_code == 403
    assert as_("prog").post("/api/sessions", json={}).status_code == 403
    assert as_(None).post("/api/sessions", json={"practitioner_id": users["pat"][0]}).status_code == 401
    assert pat.post("/api/sessions", json={"occurred_at": "yesterday"}).status_code == 422


def test_sessions_from_a_case_management_system(seeded, world):
    users, _ = world
    settings = seeded.copy(update={"service_token": "cms-secret-token"})
    with TestClient(create_app(settings)) as c:
        ok = c.post("/api/sessions", json={"practitioner_id": users["pat"][0]}, headers={"X-Service-Token": "cms-secret-token"})
        assert ok.status_code == 201
        unknown = c.post("/api/sessions", json={"practitioner_id": 99999}, headers={"X-Service-Token": "cms-secret-token"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "Unknown practitioner."
        assert c.post("/api/sessions", json={"practitioner_id": users["pat"][0]},
                      headers={"X-Service-Token": "wrong"}).status_code == 401


def test_deleting_a_reflection_removes_its_text_from_the_conversation_store(seeded, world):
    users, ids = world
    with session_scope(seeded.database_url) as s:
        s.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), "
                       "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"))
        r = s.get(Reflection, ids["private"])
        inside = (r.started_at - dt.datetime(1970, 1, 1)).total_seconds() + 1
        s.execute(text("INSERT INTO events (id, sender_id, type_name, timestamp, data) VALUES "
                       "(1, :sender, 'user', :inside, 'private answer text'), "
                       "(2, :sender, 'user', :before, 'an FAQ from last month')"),
                  {"sender": str(users["pat"][0]), "inside": inside, "before": inside - 40 * 86400})
    with session_scope(seeded.database_url) as s:
        data.delete_own(ids["private"], users["pat"][0], session=s)
    with session_scope(seeded.database_url) as s:
        assert s.execute(text("SELECT data FROM events")).scalars().all() == ["an FAQ from last month"]


def test_purge_deletes_reflections_older_than_the_retention_period(seeded, world):
    with session_scope(seeded.database_url) as s:
        assert data.purge(365, session=s) == 0
        assert data.purge(365, session=s, now=dt.datetime.utcnow() + dt.timedelta(days=400)) == 2
        assert s.scalar(select(func.count()).select_from(Reflection)) == 0


def test_the_privacy_faq_states_the_rules_the_code_enforces(seeded):
    with session_scope(seeded.database_url) as s:
        answer = s.scalars(select(Faq.answer).where(Faq.key == "reflection_privacy")).one()
    answer = " ".join(answer.split())
    assert seeded.retention_days == 365 and "deleted automatically after 12 months" in answer
    for phrase in ("private to you", "choose to share it", "counts", "programme team sees no", "export", "delete"):
        assert phrase in answer.lower(), phrase


def test_a_wrong_service_token_is_refused_in_constant_time_terms(seeded, monkeypatch):
    from fastapi.testclient import TestClient

    from assistant.web.app import create_app
    from tests.test_api import RecordingRasa

    settings = seeded.copy(update={"service_token": "cms-secret-token-value"})
    with TestClient(create_app(settings)) as c:
        c.app.state.rasa = RecordingRasa()
        for token in ("cms-secret-token-valuX", "", "x" * 500, "cms-secret-token-value "):
            resp = c.post("/api/sessions", json={"practitioner_id": 1}, headers={"X-Service-Token": token})
            assert resp.status_code == 401 and resp.json()["code"] == "bad_service_token"
