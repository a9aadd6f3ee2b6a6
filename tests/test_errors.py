"""Errors in one place: typed domain errors mapped to status codes by one handler; the
security headers on every response (a 500 and HSTS included); CSV exports that no
spreadsheet runs as formulas; Secure cookies required in prod."""
import csv
import io

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from assistant import faq_admin, faq_io, prompts
from assistant import reflections as data
from assistant.config import Settings
from assistant.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound, kind_of
from assistant.faq_io import ImportErrors
from assistant.users import UserError
from assistant.web.app import SECURITY_HEADERS, create_app
from tests.test_api import RecordingRasa


@pytest.mark.parametrize("exc, kind", [
    (data.ReflectionNotFound("x"), NotFound), (data.ReflectionNotAllowed("x"), NotAllowed),
    (data.ReflectionError("x"), DomainError), (faq_admin.FaqNotFound("x"), NotFound),
    (faq_admin.FaqConflict("x"), Conflict), (faq_admin.FaqAdminError("x"), DomainError),
    (ImportErrors([(1, "bad")]), Invalid), (UserError("x"), Invalid), (Invalid("x"), Invalid),
])
def test_each_domain_error_has_one_kind_and_its_family(exc, kind):
    assert kind_of(exc) is kind
    assert isinstance(exc, DomainError) and isinstance(exc, ValueError)  # old `except ValueError` still works


def test_a_family_error_is_still_caught_as_the_family():
    with pytest.raises(data.ReflectionError):
        raise data.ReflectionNotFound("That reflection was not found.")
    assert data.ReflectionNotFound("x").code == "not_found" and ImportErrors([]).code == "import_errors"


def _app_raising(settings, exc):
    app = create_app(settings)

    @app.get("/api/test-only/raise")
    def boom():  # a test-only route: raises whatever the test hands it
        raise exc

    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    client.app.state.rasa = RecordingRasa()
    return client


@pytest.mark.parametrize("exc, status, code", [
    (NotFound("No such thing."), 404, "not_found"), (NotAllowed("Not yours."), 403, "forbidden"),
    (Conflict("Changed meanwhile.", current={"v": 2}), 409, "conflict"), (Invalid("Too long."), 422, "invalid"),
    (data.ReflectionError("No manager."), 422, "invalid"), (data.ReflectionNotFound("Gone."), 404, "not_found"),
    (faq_admin.FaqConflict("Key taken.", code="key_taken"), 409, "key_taken"),
])
def test_one_handler_maps_the_kind_to_the_status(settings, exc, status, code):
    client = _app_raising(settings, exc)
    try:
        resp = client.get("/api/test-only/raise")
    finally:
        client.__exit__(None, None, None)
    assert (resp.status_code, resp.json()["code"], resp.json()["error"]) == (status, code, str(exc))
    if exc.extra:
        assert resp.json()["current"] == {"v": 2}


def test_an_unhandled_error_is_a_500_in_the_api_shape_with_the_security_headers(settings):
    client = _app_raising(settings, RuntimeError("secret internals"))
    try:
        resp = client.get("/api/test-only/raise")
    finally:
        client.__exit__(None, None, None)
    assert resp.status_code == 500
    assert resp.json() == {"error": "Something went wrong on our side. Please try again.", "code": "server_error"}
    assert "secret internals" not in resp.text
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers[name] == value
    assert "strict-transport-security" not in resp.headers  # cookies are not Secure in this test


def test_hsts_is_sent_when_cookies_are_secure(settings):
    for secure in (True, False):
        with TestClient(create_app(settings.copy(update={"cookie_secure": secure}))) as client:
            client.app.state.rasa = RecordingRasa()
            for resp in (client.get("/healthz"), client.get("/api/me"), client.get("/nowhere")):
                assert ("Strict-Transport-Security" in resp.headers) is secure
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
            if secure:
                assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.fixture
def prod_secrets(monkeypatch, tmp_path):
    """Every secret set in the environment, as in production."""
    for name in ("RASA_TOKEN", "CHANNEL_TOKEN", "ACTION_TOKEN"):
        monkeypatch.setenv(f"ASSISTANT_{name}", f"a-production-{name.lower()}-0123456789")
    monkeypatch.delenv("ASSISTANT_COOKIE_SECURE", raising=False)


def test_prod_refuses_cookies_without_the_secure_flag(prod_secrets):
    with pytest.raises(ValidationError, match="ASSISTANT_COOKIE_SECURE must be true in prod"):
        Settings(env="prod")
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(env="prod", cookie_secure=False)
    assert Settings(env="prod", cookie_secure=True).cookie_secure is True
    assert Settings(env="dev").cookie_secure is False  # plain http://127.0.0.1 in development


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "\uff1dHYPERLINK()"])
def test_spreadsheet_cells_never_start_a_formula_and_import_back_unchanged(value):
    cell = faq_io.spreadsheet_cell(value)
    assert cell == "'" + value
    assert faq_io.from_spreadsheet_cell(cell) == value
    for plain in ("plain", "'quoted", "", "1.5", "a=b"):
        assert faq_io.spreadsheet_cell(plain) == plain == faq_io.from_spreadsheet_cell(plain)


def test_the_faq_csv_export_neutralises_formulas_and_round_trips(seeded):
    items = [{"key": "formula_faq", "category": "general", "question": "@SUM(1+1)?",
              "answer": "- first point\n- second point", "source": "+44 guidance", "status": "published",
              "last_reviewed": None, "review_by": None,
              "examples": ["-1 is my balance, what now", "=HYPERLINK(evil) in a spreadsheet"]}]
    text = faq_io.to_csv(items)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["category"] == "general"
    for field in ("question", "answer", "source", "examples"):
        assert row[field].startswith("'"), field
    [parsed] = faq_io.parse_csv(text)
    assert (parsed.question, parsed.answer, parsed.source) == ("@SUM(1+1)?", "- first point\n- second point",
                                                               "+44 guidance")
    assert parsed.examples == items[0]["examples"]


def test_domain_modules_raise_typed_errors_not_http(seeded, make_user):
    from assistant.db import session_scope

    make_user("mgr", role="manager")
    uid, _, _ = make_user("pat", manager="mgr")
    with session_scope(seeded.database_url) as s:
        with pytest.raises(NotFound):
            prompts.own_prompt(12345, uid, session=s)
        with pytest.raises(NotFound):
            data.get_own(12345, uid, session=s)
        with pytest.raises(NotFound):
            faq_admin.get_faq("no_such_faq", session=s)
    assert not hasattr(faq_admin.FaqAdminError("x"), "status")
