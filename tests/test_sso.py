"""Single sign-on, end to end, against a real OpenID Connect provider started for these tests
(panva's certified oidc-provider, tests/oidc/, installed by `make oidc-provider`), on SQLite and
PostgreSQL.

Each sign-in is driven as a browser would: the web app's /sso/login, the provider's own
sign-in and consent forms (followed with httpx), the callback, then the session. The provider
tampers with the ID token for some accounts (tests/oidc/provider.mjs: wrong audience, expired,
wrong nonce, wrong issuer, a key it does not publish), re-signed with its own key, so the
production checks in assistant.sso_provider are what refuses them.
"""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.db import session_scope
from assistant.models import AuditEntry, SsoLogin, User
from assistant.sso import set_sso_id
from assistant.web.app import create_app
from tests.oidc_support import free_port, run_provider
from tests.test_api import RecordingRasa

CLIENT_ID = "probation-assistant"
CLIENT_SECRET = "test-client-secret-" + "x" * 24
CALLBACK = "http://testserver/sso/callback"
ACCOUNTS = {
    "pat": {"claims": {"email": "Pat.Practitioner@Example.org", "email_verified": True, "oid": "oid-pat"}},
    "sam": {"claims": {"email": "sam.manager@example.org", "email_verified": True}},
    "stranger": {"claims": {"email": "stranger@example.org", "email_verified": True}},
    "unverified": {"claims": {"email": "unverified@example.org", "email_verified": False}},
    "gone": {"claims": {"email": "gone@example.org", "email_verified": True}},
    **{f"tamper-{how}": {"claims": {"email": f"tamper-{how}@example.org", "email_verified": True}, "tamper": how}
       for how in ("aud", "expired", "nonce", "iss", "key")},
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The running provider's issuer URL (one per module; accounts above)."""
    with run_provider(tmp_path_factory.mktemp("oidc"), client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                      redirect_uris=[CALLBACK], accounts=ACCOUNTS) as issuer:
        yield issuer


def sso_settings(settings: Settings, issuer: str, **overrides) -> Settings:
    """The test's settings with single sign-on pointed at the provider."""
    values = {"sso_issuer": issuer, "sso_client_id": CLIENT_ID, "sso_client_secret": CLIENT_SECRET,
              "sso_provider_name": "Test Sign-In", **overrides}
    return Settings(**{**settings.dict(), **values})


@pytest.fixture
def app_settings(settings, provider):
    return sso_settings(settings, provider)


@pytest.fixture
def client(app_settings):
    with TestClient(create_app(app_settings)) as c:
        c.app.state.rasa = RecordingRasa()
        yield c


@pytest.fixture
def people(settings, make_user):
    """Local accounts: sam (manager), pat (practitioner, line manager sam), gone (deactivated),
    each linked to their provider email; 'stranger' has no account here."""
    make_user("sam", role="manager")
    make_user("pat", manager="sam")
    make_user("gone")
    with session_scope(settings.database_url) as session:
        for name in ("sam", "pat", "gone"):
            user = session.scalars(select(User).where(User.username == name)).one()
            set_sso_id(user.id, ACCOUNTS[name]["claims"]["email"], claim="email", actor=None, session=session)
        session.scalars(select(User).where(User.username == "gone")).one().active = False
        for how in ("aud", "expired", "nonce", "iss", "key"):
            # linked, so only the token's own fault can refuse these
            user = User(username=f"tamper-{how}", display_name=how, password_hash="x", role="practitioner",
                        sso_id=f"tamper-{how}@example.org")
            session.add(user)


class _Forms(HTMLParser):
    """The first form of an HTML page: its action and its inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def sign_in_at_provider(authorization_url: str, login: str) -> str:
    """Do what a person does at the provider (sign in as ``login``, consent); return the
    callback URL the provider redirects the browser to."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(authorization_url)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(CALLBACK):
                    return location
                response = browser.get(location)
                continue
            assert response.status_code == 200, response.text[:500]
            form = _Forms()
            form.feed(response.text)
            data = dict(form.fields)
            if data.get("prompt") == "login":
                data.update(login=login, password="anything")
            response = browser.post(urljoin(str(response.url), form.action), data=data)
    raise AssertionError("the provider never redirected back")


def start(client) -> str:
    """Press "Sign in with ...": the provider's authorisation URL."""
    response = client.get("/sso/login", follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def sso_login(client, login: str):
    """The whole sign-in as ``login``; the callback's response."""
    return client.get(callback_path(sign_in_at_provider(start(client), login)), follow_redirects=False)


def with_param(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def audit_actions(settings) -> list:
    with session_scope(settings.database_url) as session:
        return [(a.action, a.target) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# -- success -------------------------------------------------------------------------------------


def test_the_authorisation_request_uses_pkce_s256_state_and_nonce(client):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0] and query["redirect_uri"] == [CALLBACK]
    assert "openid" in query["scope"][0].split()
    assert "code_verifier" not in query and CLIENT_SECRET not in start(client)


def test_a_matched_user_gets_the_local_accounts_role_and_line_manager(client, people, settings):
    response = sso_login(client, "pat")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "pa_session=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    me = client.get("/api/me").json()
    assert (me["username"], me["role"]) == ("pat", "practitioner")
    with session_scope(settings.database_url) as session:
        pat = session.scalars(select(User).where(User.username == "pat")).one()
        assert pat.manager.username == "sam"
        assert session.scalar(select(func.count()).select_from(SsoLogin)) == 0  # used up
    assert ("login.sso", "pat") in audit_actions(settings)


def test_a_manager_signs_in_and_sees_their_team(client, people):
    assert sso_login(client, "sam").status_code == 303
    assert client.get("/api/me").json()["role"] == "manager"
    team = client.get("/api/team")
    assert team.status_code == 200 and "pat" in team.text


def test_matching_by_object_id(settings, provider, people):
    with session_scope(settings.database_url) as session:
        pat = session.scalars(select(User).where(User.username == "pat")).one()
        set_sso_id(pat.id, "oid-pat", claim="oid", actor=None, session=session)
    with TestClient(create_app(sso_settings(settings, provider, sso_match_claim="oid"))) as c:
        assert sso_login(c, "pat").status_code == 303
        assert c.get("/api/me").json()["username"] == "pat"
        assert sso_login(c, "sam").status_code == 403  # sam has no oid at the provider


# -- refused accounts ---------------------------------------------------------------------------


def test_an_unknown_user_is_refused_and_no_account_is_created(client, people, settings):
    with session_scope(settings.database_url) as session:
        before = session.scalar(select(func.count()).select_from(User))
    response = sso_login(client, "stranger")
    assert response.status_code == 403
    assert "no account here is linked" in response.text and "stranger@example.org" in response.text
    assert "text/html" in response.headers["content-type"] and "pa_session" not in response.headers.get("set-cookie", "")
    assert client.get("/api/me").status_code == 401
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(User)) == before
    assert ("login.sso_refused", "stranger@example.org") in audit_actions(settings)


def test_a_deactivated_user_is_refused(client, people):
    response = sso_login(client, "gone")
    assert response.status_code == 403 and "deactivated" in response.text
    assert client.get("/api/me").status_code == 401


def test_an_unverified_email_is_refused(client, people, settings):
    with session_scope(settings.database_url) as session:
        user = session.scalars(select(User).where(User.username == "gone")).one()
        user.active, user.sso_id = True, "unverified@example.org"
    response = sso_login(client, "unverified")
    assert response.status_code == 403 and "not confirmed your email" in response.text


# -- refused tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize("how, words", [
    ("aud", "audience"), ("expired", "expired"), ("nonce", "nonce"), ("iss", "issuer"), ("key", "signature"),
])
def test_an_id_token_that_fails_a_check_is_refused(client, people, how, words):
    response = sso_login(client, f"tamper-{how}")
    assert response.status_code == 422, response.text
    assert words in response.text and "could not be trusted" in response.text
    assert client.get("/api/me").status_code == 401


# -- refused callbacks --------------------------------------------------------------------------


def test_a_wrong_state_is_refused(client, people):
    callback = sign_in_at_provider(start(client), "pat")
    response = client.get(callback_path(with_param(callback, state="forged-state")))
    assert response.status_code == 422 and "Please sign in again" in response.text
    assert client.get("/api/me").status_code == 401


def test_a_replayed_callback_is_refused(client, people):
    callback = callback_path(sign_in_at_provider(start(client), "pat"))
    assert client.get(callback, follow_redirects=False).status_code == 303
    client.post("/api/logout", json={})
    again = client.get(callback, follow_redirects=False)
    assert again.status_code == 422 and "already been used" in again.text
    assert client.get("/api/me").status_code == 401


def test_a_callback_in_another_browser_is_refused(client, app_settings, people):
    callback = callback_path(sign_in_at_provider(start(client), "pat"))
    with TestClient(create_app(app_settings)) as other:  # no sign-in cookie of its own
        response = other.get(callback, follow_redirects=False)
        assert response.status_code == 422 and "another browser" in response.text
    # the attempt is used up: not even the right browser can use it afterwards
    assert client.get(callback, follow_redirects=False).status_code == 422


def test_a_refusal_at_the_provider_is_shown(client, people):
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get("/sso/callback?" + urlencode({"state": state, "error": "access_denied"}))
    assert response.status_code == 403 and "access_denied" in response.text


def test_a_callback_from_another_issuer_is_refused(client, people):
    callback = sign_in_at_provider(start(client), "pat")
    response = client.get(callback_path(with_param(callback, iss="https://impostor.example")))
    assert response.status_code == 422 and "did not come from" in response.text


@pytest.mark.parametrize("query", [
    "", "state=", "code=abc", "state=" + "s" * 5000 + "&code=c", "state=abc&code=" + "c" * 5000,
    "state=%00&code=x", "state=a&state=b&code=x", "error=" + "e" * 3000,
])
def test_bad_callbacks_get_a_clear_4xx_never_a_5xx(client, people, query):
    response = client.get("/sso/callback?" + query, follow_redirects=False)
    assert 400 <= response.status_code < 500, (query, response.status_code, response.text[:300])
    assert response.text.strip()


# -- passwords switched off, configuration ---------------------------------------------------------


def test_password_login_can_be_switched_off(settings, provider, people):
    off = sso_settings(settings, provider, password_login=False)
    with TestClient(create_app(off)) as c:
        options = c.get("/api/login-options").json()
        assert options == {"password_login": False, "sso": {"name": "Test Sign-In", "url": "/sso/login"}}
        response = c.post("/api/login", json={"username": "pat", "password": "correct horse pat"})
        assert response.status_code == 403
        assert response.json()["code"] == "password_login_off"
        assert "switched off" in response.json()["error"] and "Sign in with Test Sign-In" in response.json()["error"]
        assert sso_login(c, "pat").status_code == 303
        assert c.get("/api/me").json()["username"] == "pat"


def test_login_options_without_single_sign_on(settings):
    with TestClient(create_app(settings)) as c:
        assert c.get("/api/login-options").json() == {"password_login": True, "sso": None}
        response = c.get("/sso/login")
        assert response.status_code == 404 and "not set up" in response.text


def test_the_provider_being_down_is_a_clear_503(settings):
    down = sso_settings(settings, f"http://127.0.0.1:{free_port()}", sso_timeout_seconds=2)
    with TestClient(create_app(down)) as c:
        response = c.get("/sso/login")
        assert response.status_code == 503 and "not answering" in response.text


def test_an_issuer_that_is_not_the_providers_own_is_refused(settings, provider):
    wrong = sso_settings(settings, provider + "/")  # discovery works, but it names another issuer
    with TestClient(create_app(wrong)) as c:
        response = c.get("/sso/login")
        assert response.status_code == 503 and "not set up correctly" in response.text


def test_settings_are_checked(settings, tmp_path):
    base = {k: v for k, v in settings.dict().items() if not k.startswith("sso_") and k != "password_login"}
    with pytest.raises(ValueError, match="https"):
        Settings(**base, sso_issuer="http://idp.example", sso_client_id="a", sso_client_secret="b")
    with pytest.raises(ValueError, match="CLIENT_ID"):
        Settings(**base, sso_issuer="https://idp.example")
    with pytest.raises(ValueError, match="SSO_CLIENT_SECRET"):
        Settings(**{**base, "secrets_dir": tmp_path}, sso_issuer="https://idp.example", sso_client_id="a")
    with pytest.raises(ValueError, match="needs single sign-on"):
        Settings(**base, password_login=False)
    (tmp_path / "sso_client_secret").write_text("from-the-file\n")
    loaded = Settings(**{**base, "secrets_dir": tmp_path}, sso_issuer="https://idp.example", sso_client_id="a")
    assert loaded.sso_client_secret.get_secret_value() == "from-the-file"
    assert "from-the-file" not in repr(loaded)


def test_the_client_secret_is_never_logged(client, people, caplog):
    caplog.set_level("DEBUG")
    sso_login(client, "pat")
    sso_login(client, "tamper-aud")
    assert CLIENT_SECRET not in caplog.text


# -- linking accounts ----------------------------------------------------------------------------


def test_admins_link_accounts_and_others_cannot(client, people, make_user, settings):
    admin_id, admin, admin_password = make_user("ada", role="admin")
    with session_scope(settings.database_url) as session:
        pat_id = session.scalars(select(User.id).where(User.username == "pat")).one()
    assert client.post("/api/login", json={"username": "pat", "password": "correct horse pat"}).status_code == 200
    assert client.post(f"/api/admin/users/{pat_id}/sso-id", json={"sso_id": "x@example.org"}).status_code == 403
    assert client.post("/api/login", json={"username": admin, "password": admin_password}).status_code == 200
    response = client.post(f"/api/admin/users/{pat_id}/sso-id", json={"sso_id": " New.Pat@Example.org "})
    assert response.status_code == 200 and response.json()["sso_id"] == "new.pat@example.org"
    taken = client.post(f"/api/admin/users/{admin_id}/sso-id", json={"sso_id": "new.pat@example.org"})
    assert taken.status_code == 409 and "already has" in taken.json()["error"]
    for bad in ("not-an-email", "", "a\x01b@example.org"):
        response = client.post(f"/api/admin/users/{pat_id}/sso-id", json={"sso_id": bad})
        assert response.status_code == 422 and response.json()["error"]
    assert client.post("/api/admin/users/999999/sso-id", json={"sso_id": "z@example.org"}).status_code == 404
    for bad_id in ("0", "-1", str(2**63), "x"):  # refused before the database sees it (found by the API fuzz test)
        assert client.post(f"/api/admin/users/{bad_id}/sso-id", json={"sso_id": "z@example.org"}).status_code == 422
    unlinked = client.post(f"/api/admin/users/{pat_id}/sso-id", json={"sso_id": None})
    assert unlinked.status_code == 200 and unlinked.json()["sso_id"] is None
    assert ("account.sso_id", "pat") in audit_actions(settings)


def test_the_login_view_has_the_sign_in_button(client):
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="sso-login"' in page.text and 'href="/sso/login"' in page.text and "/static/sso.js" in page.text
    script = client.get("/static/sso.js")
    assert script.status_code == 200 and "/api/login-options" in script.text


def test_the_command_line_links_and_unlinks(settings, make_user, capsys):
    from assistant import cli

    make_user("jo")
    assert cli.main(["users", "set-sso-id", "jo", "Jo.Bloggs@Example.org"]) == 0
    assert "jo.bloggs@example.org" in capsys.readouterr().out
    make_user("al")
    assert cli.main(["users", "set-sso-id", "al", "jo.bloggs@example.org"]) == 1
    assert "already has" in capsys.readouterr().err
    assert cli.main(["users", "set-sso-id", "nobody", "x@example.org"]) == 1
    assert cli.main(["users", "set-sso-id", "jo", "--none"]) == 0
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(User.sso_id).where(User.username == "jo")).one() is None
        assert [a.detail for a in session.scalars(select(AuditEntry).where(AuditEntry.action == "account.sso_id"))]
