"""The programme team's FAQ pages: create, edit, history, revert, import/export,
review queue, usage, training status and permissions (no retraining here: the
end-to-end test retrains for real)."""
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.content import load_faq_file
from assistant.db import session_scope
from assistant.faq import record_answer, record_feedback, record_unanswered
from assistant.models import AuditEntry, Faq, TrainingJob
from assistant.web.app import create_app
from tests.conftest import ROOT
from tests.test_api import RecordingRasa


@pytest.fixture
def users(make_user):
    return {"prog": make_user("prog", role="programme"), "mgr": make_user("mgr", role="manager"),
            "pat": make_user("pat")}


@pytest.fixture
def client_for(seeded, users):
    made = []

    def factory(who):
        c = TestClient(create_app(seeded))
        c.__enter__()
        c.app.state.rasa = RecordingRasa()
        if who:
            _, name, pw = users[who]
            assert c.post("/api/login", json={"username": name, "password": pw}).status_code == 200
        made.append(c)
        return c

    yield factory
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture
def prog(client_for):
    return client_for("prog")


def jobs(settings):
    with session_scope(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(TrainingJob))


@pytest.mark.parametrize("who, status", [("mgr", 403), ("pat", 403), (None, 401)])
def test_only_the_programme_team_gets_in(client_for, who, status):
    c = client_for(who)
    for method, path, body in [("get", "/api/faqs", None), ("get", "/api/faqs/omfq", None),
                               ("put", "/api/faqs/omfq", {"answer": "x", "version": 1}),
                               ("post", "/api/faqs", {"key": "new_one"}), ("get", "/api/faqs/export", None),
                               ("post", "/api/faqs/import", {"format": "yaml", "content": "[]"}),
                               ("get", "/api/review-queue", None), ("get", "/api/usage", None),
                               ("get", "/api/training", None), ("post", "/api/faqs/omfq/revert/1", {})]:
        resp = getattr(c, method)(path, json=body) if body is not None else getattr(c, method)(path)
        assert resp.status_code == status, (method, path)


def test_list_search_filter_and_overdue(prog, seeded):
    with session_scope(seeded.database_url) as s:
        s.scalars(select(Faq).where(Faq.key == "omfq")).one().review_by = __import__("datetime").date(2020, 1, 1)
    body = prog.get("/api/faqs").json()
    assert len(body["faqs"]) == len(load_faq_file(ROOT / "content" / "faqs.yml")) and "practice_models" in body["categories"]
    assert [f["key"] for f in body["faqs"] if f["overdue"]] == ["omfq"]
    assert [f["key"] for f in prog.get("/api/faqs?q=jolliffe").json()["faqs"]] == ["omfq"]
    assert {f["category"] for f in prog.get("/api/faqs?category=discretion").json()["faqs"]} == {"discretion"}


def test_edit_history_revert_and_audit(prog, seeded):
    faq = prog.get("/api/faqs/omfq").json()
    resp = prog.put("/api/faqs/omfq", json={"answer": "New **answer** about the OMFQ-r.", "version": faq["version"]})
    assert resp.status_code == 200 and resp.json()["training_job"] is None  # answer only: live, no retraining
    assert resp.json()["faq"]["answer_html"] == "<p>New <strong>answer</strong> about the OMFQ-r.</p>\n"
    detail = prog.get("/api/faqs/omfq").json()
    [rev] = detail["history"]
    assert rev["before"]["answer"] == faq["answer"] and rev["after"]["answer"].startswith("New **answer**")
    reverted = prog.post(f"/api/faqs/omfq/revert/{rev['id']}", json={})
    assert reverted.status_code == 200 and reverted.json()["faq"]["answer"] == faq["answer"]
    assert [h["action"] for h in prog.get("/api/faqs/omfq").json()["history"]] == ["revert", "edit"]
    with session_scope(seeded.database_url) as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["faq.edit", "faq.revert"]
    assert jobs(seeded) == 0


def test_two_editors_at_once_the_second_is_told_and_keeps_their_text(prog, client_for):
    other = client_for("prog")
    version = prog.get("/api/faqs/omfq").json()["version"]
    assert prog.put("/api/faqs/omfq", json={"answer": "First editor's answer.", "version": version}).status_code == 200
    resp = other.put("/api/faqs/omfq", json={"answer": "Second editor's answer.", "version": version})
    assert resp.status_code == 409
    body = resp.json()
    assert "Someone else changed" in body["error"]
    assert body["yours"]["answer"] == "Second editor's answer."
    assert body["current"]["answer"] == "First editor's answer."


@pytest.mark.parametrize("answer", ["", "   ", "x" * 100_000, " ".join(["word"] * 130)])
def test_bad_answers_are_refused(prog, answer):
    version = prog.get("/api/faqs/omfq").json()["version"]
    resp = prog.put("/api/faqs/omfq", json={"answer": answer, "version": version})
    assert resp.status_code == 422 and "answer" in resp.json()["error"]  # the content rules, from the domain
    assert prog.get("/api/faqs/omfq").json()["version"] == version


def test_script_in_markdown_is_rendered_harmless(prog):
    version = prog.get("/api/faqs/omfq").json()["version"]
    resp = prog.put("/api/faqs/omfq", json={"answer": "<script>alert(1)</script> [x](javascript:alert(1)) ok.",
                                             "version": version})
    html = resp.json()["faq"]["answer_html"]
    assert "<script>" not in html and 'href="javascript' not in html
    assert "<script>" not in prog.post("/api/faqs/preview", json={"markdown": "<script>x</script>"}).json()["html"]


def test_create_publish_queues_training_and_duplicates_are_refused(prog, seeded):
    new = {"key": "caseload_weighting", "category": "probation_rules", "question": "How is caseload weighted?",
           "answer": "An answer. With two sentences.", "source": "Test source", "status": "published",
           "examples": ["how is caseload weighted", "caseload weighting explained"]}
    resp = prog.post("/api/faqs", json=new)
    assert resp.status_code == 201 and resp.json()["training_job"]
    assert prog.post("/api/faqs", json=new).status_code == 409
    draft = dict(new, key="draft_one", status="draft", examples=["a draft question"])
    assert prog.post("/api/faqs", json=draft).json()["training_job"] is None
    assert prog.get("/api/training").json()["jobs"][0]["status"] == "queued"
    assert jobs(seeded) == 1


def test_example_changes_retrain(prog, seeded):
    faq = prog.get("/api/faqs/omfq").json()
    resp = prog.put("/api/faqs/omfq", json={"examples": faq["examples"] + ["omfq scores and outcomes"],
                                             "version": faq["version"]})
    assert resp.json()["training_job"] and jobs(seeded) == 1


def test_export_yaml_and_csv_round_trip_and_import_is_all_or_nothing(prog, seeded):
    yml = prog.get("/api/faqs/export?format=yaml")
    assert yml.status_code == 200 and "key: seed_what_is" in yml.text
    csv_text = prog.get("/api/faqs/export?format=csv").text
    assert csv_text.splitlines()[0] == "key,category,question,answer,source,status,last_reviewed,review_by,examples"
    ok = prog.post("/api/faqs/import", json={"format": "csv", "content": csv_text})
    assert ok.status_code == 200 and ok.json()["imported"] == len(load_faq_file(ROOT / "content" / "faqs.yml"))
    lines = csv_text.splitlines()  # one FAQ per line; line 1 is the header
    bad_key = next(i for i, line in enumerate(lines) if line.startswith("seed_what_is,"))
    lines[bad_key] = lines[bad_key].replace("seed_what_is,", "Not A Key,", 1)
    lines[3] = lines[3].split(",", 1)[0] + ",," + lines[3].split(",", 2)[2]  # empty category
    resp = prog.post("/api/faqs/import", json={"format": "csv", "content": "\n".join(lines)})
    assert resp.status_code == 422 and resp.json()["code"] == "import_errors"
    assert {r["row"] for r in resp.json()["rows"]} == {4, bad_key + 1}
    bad_yaml = prog.post("/api/faqs/import", json={"format": "yaml", "content": "- key: [unclosed"})
    assert bad_yaml.status_code == 422
    after = prog.get("/api/faqs/seed_what_is").json()
    # the good import was the same content (no change, no revision); the bad ones changed nothing
    assert after["version"] == 1 and after["history"] == []


def test_review_queue_groups_similar_questions_and_actions(prog, seeded, users):
    uid = users["pat"][0]
    with session_scope(seeded.database_url) as s:
        for i, text in enumerate(["how do I claim mileage", "how do I claim my mileage back", "where is the canteen"]):
            record_unanswered(text=text, reason="declined", user_id=uid, top_key=None, confidence=None,
                              message_id=f"q{i}", session=s)
        record_answer(answer_id="a1", user_id=uid, faq_key="omfq", confidence=0.9, session=s)
        record_feedback(user_id=uid, answer_id="a1", helpful=False, session=s)
    items = prog.get("/api/review-queue").json()["items"]
    groups = [i for i in items if "text" in i]
    assert sorted(g["count"] for g in groups) == [1, 2]
    assert {"not_helpful_key": "omfq", "count": 1} in items
    mileage = next(g for g in groups if g["count"] == 2)
    resp = prog.post("/api/faqs/feedback_to_programme/examples", json={"text": "how do I claim mileage",
                                                                       "queue_ids": mileage["ids"]})
    assert resp.status_code == 201 and "how do I claim mileage" in resp.json()["faq"]["examples"]
    canteen = next(g for g in groups if g["count"] == 1)
    assert prog.post("/api/review-queue/dismiss", json={"ids": canteen["ids"]}).json() == {"dismissed": 1}
    assert [i for i in prog.get("/api/review-queue").json()["items"] if "text" in i] == []


def test_usage_figures(prog, seeded, users):
    uid = users["pat"][0]
    with session_scope(seeded.database_url) as s:
        for i in range(3):
            record_answer(answer_id=f"u{i}", user_id=uid, faq_key="seed_what_is", confidence=0.9, session=s)
        record_feedback(user_id=uid, answer_id="u0", helpful=True, session=s)
        record_unanswered(text="weather?", reason="declined", user_id=uid, top_key=None, confidence=None,
                          message_id="w", session=s)
    u = prog.get("/api/usage").json()
    [week] = u["weekly"]
    assert (week["questions"], week["answered"], week["declined"], week["decline_rate"]) == (4, 3, 1, 0.25)
    assert u["top_faqs"][0] == {"key": "seed_what_is", "question": "What is SEED?", "answers": 3}
    assert u["helpfulness"] == [{"key": "seed_what_is", "question": "What is SEED?", "helpful": 1,
                                 "not_helpful": 0, "rate": 1.0}]


def test_pages_are_served(prog):
    assert "/static/programme.js" in prog.get("/programme").text


def test_an_import_records_one_revision_per_changed_faq_by_the_importer(prog, seeded):
    yml = prog.get("/api/faqs/export?format=yaml").text
    changed = yml.replace("Offender Management Feedback Questionnaire", "Offender Management Feedback Questionnaire (OMFQ-r)", 1)
    assert changed != yml
    resp = prog.post("/api/faqs/import", json={"format": "yaml", "content": changed})
    assert resp.status_code == 200 and resp.json()["updated"] >= 1
    histories = {f["key"]: prog.get(f"/api/faqs/{f['key']}").json()["history"] for f in prog.get("/api/faqs").json()["faqs"]}
    changed_keys = [k for k, h in histories.items() if h]
    assert len(changed_keys) == resp.json()["updated"]
    for key in changed_keys:
        [revision] = histories[key]
        assert revision["action"] == "import"
