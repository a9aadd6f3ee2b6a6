"""The user-administration API per role, and passwords: admin routes for admins only; each
operation; a deactivated user's old cookie, one-time links used twice or late, a practitioner
as line manager, the last admin deactivating themself; must-change-password gating; audit."""
import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from assistant.db import session_scope
from assistant.models import AuditEntry, Reflection, User
from assistant.web.app import create_app


@pytest.fixture
def users(make_user):
    made = {"adm": make_user("adm", role="admin"), "mgr": make_user("mgr", role="manager"),
            "prog": make_user("prog", role="programme")}
    made["pat"] = make_user("pat", manager="mgr")
    return made


@pytest.fixture
def client_for(settings, users):
    """A client logged in as ``who`` (None: nobody). The app's lifespan is not run: these
    routes need neither Rasa nor the masking warm-up."""
    app = create_app(settings)

    def factory(who=None, password=None):
        client = TestClient(app)
        if who:
            _, name, pw = users[who] if who in users else (None, who, None)
            resp = client.post("/api/login", json={"username": name, "password": password or pw})
            assert resp.status_code == 200, resp.text
        return client

    return factory


@pytest.fixture
def admin(client_for):
    return client_for("adm")


def admin_operations(app):
    """(method, path) of every admin route, with a real id in the path."""
    return [(method, route.path.replace("{user_id}", "1")) for route in app.routes
            if getattr(route, "path", "").startswith("/api/admin") for method in route.methods]


@pytest.mark.parametrize("who, status", [("pat", 403), ("mgr", 403), ("prog", 403), (None, 401)])
def test_only_admins_reach_admin_routes(client_for, settings, who, status):
    client = client_for(who)
    operations = admin_operations(client.app)
    assert len(operations) >= 9
    for method, path in operations:
        resp = client.request(method, path, json={} if method == "POST" else None)
        assert resp.status_code == status, (method, path, resp.text)
        assert resp.json()["code"] in ("forbidden", "not_logged_in")


def test_an_admin_sees_no_reflections_and_no_faq_pages(admin):
    for path in ("/api/reflections", "/api/team", "/api/faqs", "/api/reflections/export"):
        assert admin.get(path).status_code == 403, path


def test_list_search_and_get(admin, users):
    body = admin.get("/api/admin/users").json()
    assert body["total"] == 4 and [a["username"] for a in body["accounts"]] == ["adm", "mgr", "pat", "prog"]
    assert "password_hash" not in body["accounts"][0]
    body = admin.get("/api/admin/users", params={"q": "PA", "role": "practitioner", "active": "true"}).json()
    assert [(a["username"], a["manager_name"]) for a in body["accounts"]] == [("pat", "mgr")]
    assert admin.get("/api/admin/users", params={"role": "root"}).status_code == 422
    assert admin.get("/api/admin/users", params={"per_page": 1000}).status_code == 422
    one = admin.get(f"/api/admin/users/{users['pat'][0]}").json()
    assert one["account"]["username"] == "pat" and one["reflections"]["count"] == 0
    assert admin.get("/api/admin/users/999999").status_code == 404
    assert admin.get(f"/api/admin/users/{2**31}").status_code == 422


def test_create_with_a_link_then_log_in(admin, client_for, users):
    resp = admin.post("/api/admin/users", json={"username": "jo.new", "display_name": "Jo New",
                                                 "role": "practitioner", "manager_id": users["mgr"][0]})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["account"]["manager_name"] == "mgr" and body["credential"]["temporary_password"] is None
    token = body["credential"]["link_path"].split("#token=", 1)[1]
    anonymous = client_for(None)
    assert anonymous.post("/api/password/reset", json={"token": token, "new_password": "jo's own password"}).json() == {
        "ok": True}
    assert client_for("jo.new", "jo's own password").get("/api/me").json()["username"] == "jo.new"
    # the bad-input case: the link used twice
    again = anonymous.post("/api/password/reset", json={"token": token, "new_password": "someone else's pw"})
    assert again.status_code == 422 and again.json()["code"] == "link_used"
    assert "already been used" in again.json()["error"]
    taken = admin.post("/api/admin/users", json={"username": "JO.NEW", "role": "manager"})
    assert taken.status_code == 409 and taken.json()["code"] == "username_taken"


def test_an_expired_link_is_refused(admin, client_for, users, settings):
    token = admin.post(f"/api/admin/users/{users['pat'][0]}/password-reset", json={}).json()["link_path"].split("=")[1]
    with session_scope(settings.database_url) as s:
        s.execute(update(User).where(User.username == "pat")
                  .values(password_reset_expires_at=dt.datetime.utcnow() - dt.timedelta(minutes=1)))
    resp = client_for(None).post("/api/password/reset", json={"token": token, "new_password": "a new long password"})
    assert resp.status_code == 422 and resp.json()["code"] == "link_expired"
    resp = client_for(None).post("/api/password/reset", json={"token": "nonsense", "new_password": "a new long pw"})
    assert resp.status_code == 422 and resp.json()["code"] == "link_invalid"
    assert client_for(None).post("/api/password/reset", json={"token": "a\x00", "new_password": "x" * 12}
                                 ).status_code == 422


def test_role_and_line_manager(admin, users):
    pat, mgr, prog = users["pat"][0], users["mgr"][0], users["prog"][0]
    # the bad-input case: a practitioner as line manager
    resp = admin.post(f"/api/admin/users/{prog}/manager", json={"manager_id": pat})
    assert resp.status_code == 422 and resp.json()["code"] == "bad_manager"
    assert "pat is a practitioner, not a manager" in resp.json()["error"]
    resp = admin.post(f"/api/admin/users/{mgr}/manager", json={"manager_id": mgr})
    assert resp.status_code == 422 and "own line manager" in resp.json()["error"]
    assert admin.post(f"/api/admin/users/{prog}/manager", json={"manager_id": mgr}).json()["manager_id"] == mgr
    assert admin.post(f"/api/admin/users/{prog}/manager", json={"manager_id": None}).json()["manager_id"] is None
    assert admin.post(f"/api/admin/users/{prog}/role", json={"role": "manager"}).json()["role"] == "manager"
    assert admin.post(f"/api/admin/users/{prog}/role", json={"role": "root"}).status_code == 422
    resp = admin.post(f"/api/admin/users/{mgr}/role", json={"role": "practitioner"})
    assert resp.status_code == 409 and resp.json()["code"] == "has_team"


def test_deactivate_ends_the_session_and_reactivate(admin, client_for, users, settings):
    pat_id = users["pat"][0]
    pat = client_for("pat")
    assert pat.get("/api/reflections").status_code == 200
    with session_scope(settings.database_url) as s:
        s.add(Reflection(author_id=pat_id, run_id="r1", set_key="gibbs", set_name="Gibbs"))
    resp = admin.post(f"/api/admin/users/{pat_id}/deactivate", json={})
    assert resp.status_code == 409 and resp.json()["code"] == "export_first"
    assert resp.json()["export_path"] == "/api/reflections/export?format=md" and resp.json()["reflections"] == 1
    resp = admin.post(f"/api/admin/users/{pat_id}/deactivate", json={"export_offered": True})
    assert resp.status_code == 200 and resp.json()["active"] is False
    # the bad-input case: the deactivated user's old session cookie
    old = pat.get("/api/reflections")
    assert old.status_code == 401 and old.json()["code"] == "session_expired"
    assert pat.get("/api/me").status_code == 401
    login = client_for(None).post("/api/login", json={"username": "pat", "password": users["pat"][2]})
    assert login.status_code == 401
    assert admin.post(f"/api/admin/users/{pat_id}/reactivate", json={}).json()["active"] is True
    assert client_for("pat").get("/api/me").status_code == 200


def test_the_last_admin_cannot_deactivate_themself(admin, users):
    adm = users["adm"][0]
    resp = admin.post(f"/api/admin/users/{adm}/deactivate", json={"export_offered": True})
    assert resp.status_code == 409 and resp.json()["code"] == "last_admin"
    assert "last active administrator" in resp.json()["error"]
    resp = admin.post(f"/api/admin/users/{adm}/role", json={"role": "manager"})
    assert resp.status_code == 409 and resp.json()["code"] == "last_admin"
    assert admin.get("/api/me").json()["role"] == "admin"


def test_temporary_password_must_be_changed_first(admin, client_for, users):
    pat_id = users["pat"][0]
    before = client_for("pat")
    cred = admin.post(f"/api/admin/users/{pat_id}/password-reset", json={"method": "temporary"}).json()
    assert cred["method"] == "temporary" and cred["link_path"] is None
    assert before.get("/api/me").status_code == 401  # a reset ends their sessions
    pat = client_for("pat", cred["temporary_password"])
    gated = pat.get("/api/reflections")
    assert gated.status_code == 403 and gated.json()["code"] == "must_change_password"
    assert pat.post("/api/chat", json={"message": "hello"}).json()["code"] == "must_change_password"
    assert pat.get("/api/me").status_code == 200
    assert pat.get("/api/me/password").json() == {"must_change_password": True}
    resp = pat.post("/api/me/password", json={"current_password": "wrong one!", "new_password": "pat's new password"})
    assert resp.status_code == 422 and resp.json()["code"] == "wrong_password"
    resp = pat.post("/api/me/password", json={"current_password": cred["temporary_password"], "new_password": "short"})
    assert resp.status_code == 422 and resp.json()["code"] == "weak_password"
    resp = pat.post("/api/me/password", json={"current_password": cred["temporary_password"],
                                              "new_password": "pat's new password"})
    assert resp.status_code == 200
    assert pat.get("/api/reflections").status_code == 200  # the same session goes on
    assert pat.get("/api/me/password").json() == {"must_change_password": False}
    assert client_for("pat", "pat's new password").get("/api/me").status_code == 200


def test_an_admin_changes_their_own_password_only_themself(admin, users):
    resp = admin.post(f"/api/admin/users/{users['adm'][0]}/password-reset", json={"method": "temporary"})
    assert resp.status_code == 403 and "another administrator" in resp.json()["error"]
    assert admin.post("/api/me/password", json={"current_password": users["adm"][2],
                                                "new_password": "a new admin password"}).status_code == 200


def test_every_change_is_audited_with_who_and_when(admin, users, settings):
    pat, mgr = users["pat"][0], users["mgr"][0]
    admin.post(f"/api/admin/users/{pat}/manager", json={"manager_id": None})
    admin.post(f"/api/admin/users/{pat}/role", json={"role": "manager"})
    admin.post(f"/api/admin/users/{pat}/deactivate", json={})
    admin.post(f"/api/admin/users/{pat}/reactivate", json={})
    admin.post(f"/api/admin/users/{pat}/password-reset", json={"method": "link"})
    admin.post("/api/admin/users", json={"username": "new.one", "role": "practitioner", "manager_id": mgr})
    log = admin.get("/api/admin/audit").json()
    assert [e["action"] for e in log["entries"]] == [
        "account.create", "account.reset_password", "account.reactivate", "account.deactivate",
        "account.role", "account.manager"]
    assert {e["by_user_id"] for e in log["entries"]} == {users["adm"][0]}
    assert all(dt.datetime.fromisoformat(e["at"]) > dt.datetime.utcnow() - dt.timedelta(minutes=5)
               for e in log["entries"])
    with session_scope(settings.database_url) as s:
        assert s.scalars(select(AuditEntry.target).where(AuditEntry.action == "account.role")).all() == ["pat"]


def test_bad_bodies_are_422(admin, users):
    pat = users["pat"][0]
    for path, body in [("/api/admin/users", {"username": "x\x00y", "role": "practitioner"}),
                       ("/api/admin/users", {"username": "ok.name", "role": "practitioner", "manager_id": 2**40}),
                       ("/api/admin/users", {"username": "Bad Name!", "role": "practitioner"}),
                       (f"/api/admin/users/{pat}/deactivate", {"export_offered": "yes"}),
                       (f"/api/admin/users/{pat}/password-reset", {"method": "email"})]:
        resp = admin.post(path, json=body)
        assert resp.status_code == 422, (path, body, resp.text)


def test_the_password_page_is_served_without_inline_script(client_for):
    resp = client_for(None).get("/password")
    assert resp.status_code == 200 and "script-src 'self'" in resp.headers["content-security-policy"]
    assert '<script src="/static/password.js"' in resp.text and "<script>" not in resp.text
    assert "style=" not in resp.text and "<style" not in resp.text
    assert client_for(None).get("/static/password.js").status_code == 200
