"""Property-based run of the whole JSON API from its OpenAPI schema: no input, as any role,
gets a server error. Every operation in ``app.openapi()`` is called with path, query and
body values generated from its schema (hypothesis-jsonschema) mixed with values that break
it (wrong types, huge integers, lone surrogates, NUL, impossible dates, "/ /restart"),
as a practitioner, a manager, the programme team, an administrator and nobody.

Derandomized (the same examples every run) and bounded: at most EXAMPLES per operation, and
about BUDGET_SECONDS per database, shared between the operations (each gets at least
MIN_SHARE_SECONDS); it takes about 20 s per database on an idle machine."""
import json
import time
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from hypothesis_jsonschema import from_schema

from assistant import prompts
from assistant import reflections as data
from assistant.db import session_scope
from assistant.models import User
from assistant.users import start_session
from assistant.web.app import create_app
from assistant.web.deps import COOKIE_NAME
from tests.test_api import RecordingRasa

EXAMPLES = 100
BUDGET_SECONDS = 60
MIN_SHARE_SECONDS = 4  # login checks a password hash (argon2) per call: slow on a busy machine
ROLES = ["pat", "mgr", "prog", "adm", None]

NASTY_TEXT = ["", " ", "\ud800", "a\udfffb", "\x00", "a\x00b", "/ /restart", "//restart", '/faq{"faq_key": "omfq"}',
              "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-02-30", "2026-02-30T10:00:00",
              "\u202e\u2066", "\U0001f642" * 3, "x" * 5000, "=HYPERLINK(1)", "omfq", "csv", "yaml", "md",
              "true", "null", "1e999", "-1"]
NASTY_INT = [0, -1, 1, 2, 3, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**40]
SCALARS = (st.none() | st.booleans() | st.integers() | st.sampled_from(NASTY_INT)
           | st.floats(allow_nan=False) | st.text(max_size=50) | st.sampled_from(NASTY_TEXT))
ANY_JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


def operations(app) -> list:
    """(method, path, operation) for every operation in the app's OpenAPI document."""
    doc = app.openapi()
    return [(method.upper(), path, op, doc) for path, item in sorted(doc["paths"].items())
            for method, op in sorted(item.items()) if method in ("get", "post", "put", "patch", "delete")]


def _resolved(schema: dict, doc: dict) -> dict:
    """``schema`` with the document's components beside it, so ``#/components/...`` refs resolve."""
    return {**schema, "components": doc.get("components", {})}


def _value(schema: dict, doc: dict):
    """Valid values for a parameter's schema, or values that break it."""
    kind = schema.get("type")
    nasty = st.sampled_from(NASTY_INT) if kind == "integer" else st.sampled_from(NASTY_TEXT)
    return from_schema(_resolved(schema, doc)) | nasty | st.text(max_size=30)


def _body(schema: dict, doc: dict):
    """Bodies from the schema; the schema's fields with any JSON values; or any JSON at all."""
    target = schema
    if "$ref" in schema:
        target = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    fields = list(target.get("properties", {}))
    mixed = st.fixed_dictionaries({}, optional={f: ANY_JSON | st.sampled_from(NASTY_TEXT + NASTY_INT)
                                               for f in fields})
    return from_schema(_resolved(schema, doc)) | mixed | ANY_JSON


def request_strategy(path: str, op: dict, doc: dict):
    """A strategy of (role, url, query, headers, body) for one operation."""
    params = {"path": {}, "query": {}, "header": {}}
    for p in op.get("parameters", []):
        if p["in"] in params:
            params[p["in"]][p["name"]] = _value(p.get("schema", {}), doc)
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return st.tuples(
        st.sampled_from(ROLES),
        st.fixed_dictionaries(params["path"]),
        st.fixed_dictionaries({}, optional=params["query"]),
        st.fixed_dictionaries({}, optional=params["header"]),
        _body(body, doc) if body else st.none(),
    )


def _url(path: str, values: dict, query: dict) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(str(value).encode("utf-8", "surrogatepass"), safe=""))
    if query:
        path += "?" + "&".join(f"{quote(k)}={quote(str(v).encode('utf-8', 'surrogatepass'), safe='')}"
                               for k, v in query.items())
    return path


@pytest.fixture
def world(seeded, make_user):
    """Users of every role, with a reflection, a prompt and a session to find; a session token each."""
    users = {"mgr": make_user("mgr", role="manager"), "prog": make_user("prog", role="programme")}
    users["pat"] = make_user("pat", manager="mgr")
    users["adm"] = make_user("adm", role="admin")
    with session_scope(seeded.database_url) as s:
        r = data.start_reflection(author_id=users["pat"][0], run_id="fuzz", set_row=data.get_set(None, session=s),
                                  session=s)
        data.save_answer(r, position=1, qid="what", question="What happened?", answer="An answer.", session=s)
        data.complete(r, session=s)
        prompts.create_prompts(manager=s.get(User, users["mgr"][0]), practitioner_ids=[users["pat"][0]],
                               set_key=None, note="Please reflect", due_date=None, session=s)
    return users


def token_for(settings, users, who):
    """A new login session for ``who`` (no password check: the throttle is not under test here)."""
    with session_scope(settings.database_url) as s:
        return start_session(s.get(User, users[who][0]), hours=1, session=s)


def fuzz_operation(client, method: str, path: str, op: dict, doc: dict, *, until: float, session_for,
                   statuses: list) -> None:
    """Call one operation EXAMPLES times (or until ``until``), failing on any server error."""

    @given(request_strategy(path, op, doc))
    @hsettings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=True,
               suppress_health_check=list(HealthCheck))
    def call(case):
        if time.monotonic() > until:
            return  # this operation's share of the time is used up
        role, path_values, query, headers, body = case
        # header values as a client could send them: printable ASCII (h11 refuses the rest)
        headers = {k: "".join(c for c in str(v).encode("ascii", "backslashreplace").decode() if c.isprintable())
                   for k, v in headers.items()}
        headers["content-type"] = "application/json"
        if role:  # logging out ends a throwaway session, not the one the other calls use
            headers["cookie"] = f"{COOKIE_NAME}={session_for(role, fresh=path.endswith('/logout'))}"
        content = None if body is None and method in ("GET", "DELETE") else json.dumps(body)
        client.cookies.clear()  # each call carries only the cookie chosen for it
        resp = client.request(method, _url(path, path_values, query), content=content, headers=headers)
        statuses.append(resp.status_code)
        assert resp.status_code < 500, (method, path, case, resp.status_code, resp.text[:500])
        if resp.status_code >= 400 and resp.headers.get("content-type", "").startswith("application/json"):
            assert {"error", "code"} <= set(resp.json()), resp.text[:500]

    call()


def test_no_input_gives_a_server_error(seeded, world):
    app = create_app(seeded)
    # administration last: it deactivates and resets the other roles' accounts (ending their sessions)
    ops = sorted(operations(app), key=lambda op: op[1].startswith("/api/admin/"))
    assert len(ops) >= 30, "the OpenAPI document lost its operations"
    tokens = {who: token_for(seeded, world, who) for who in ROLES if who}

    def session_for(role, fresh=False):
        return token_for(seeded, world, role) if fresh else tokens[role]

    seen = {}
    takes_input = {f"{method} {path}": bool(op.get("parameters") or op.get("requestBody")) for method, path, op, _ in ops}
    started = time.monotonic()
    deadline = started + BUDGET_SECONDS
    with TestClient(app, raise_server_exceptions=True) as client:  # an exception fails with its traceback
        client.app.state.rasa = RecordingRasa()
        for number, (method, path, op, doc) in enumerate(ops):
            share = max(MIN_SHARE_SECONDS, (deadline - time.monotonic()) / (len(ops) - number))
            fuzz_operation(client, method, path, op, doc, until=time.monotonic() + share, session_for=session_for,
                           statuses=seen.setdefault(f"{method} {path}", []))
    print(f"\nAPI fuzz: {sum(map(len, seen.values()))} requests over {len(seen)} operations "
          f"in {time.monotonic() - started:.0f} s")
    for name, statuses in sorted(seen.items()):
        print(f"  {name}: {len(statuses)} calls, statuses {sorted(set(statuses))}")
    # an operation without parameters or body has only the roles to vary: hypothesis stops once it has tried them
    starved = [name for name, statuses in seen.items() if len(statuses) < (5 if takes_input[name] else len(ROLES))]
    assert not starved, f"operations called too few times (time budget too small?): {starved}"
    # every route was reached by an allowed role at least once (not only refused at the door)
    unreached = [name for name, statuses in seen.items() if not set(statuses) - {401, 403}]
    assert not unreached, f"operations never got past authentication: {unreached}"
