"""Only the web app can act for a user: the action server and Rasa refuse everyone else.

Unit tests of the rules, then (marked e2e, on the shared real stack) each attack from
issue 9 replayed: a made-up tracker posted to the action server, a message posted to
Rasa's REST webhook or our channel without the web app's secret, a model loaded without
Rasa's token, and the secrets looked for on the processes' command lines."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from assistant.action_server import refusal
from assistant.config import SECRET_NAMES, Settings
from assistant.rasa_server import with_auth_token


# --- the rules, without servers ---------------------------------------------------------

@pytest.mark.parametrize("path,method,ctype,token,expected", [
    ("/health", "GET", None, None, None),
    ("/webhook", "POST", "application/json", "s3cret-token-value", None),
    ("/webhook", "POST", "application/json; charset=utf-8", "s3cret-token-value", None),
    ("/webhook", "POST", "application/json", None, (401, "unauthorised")),
    ("/webhook", "POST", "application/json", "s3cret-token-valuX", (401, "unauthorised")),
    ("/webhook", "POST", "text/plain", None, (401, "unauthorised")),
    ("/webhook", "POST", "text/plain", "s3cret-token-value", (415, "json_only")),
    ("/webhook", "POST", None, "s3cret-token-value", (415, "json_only")),
    ("/actions", "GET", None, None, (401, "unauthorised")),
    ("/health", "POST", "application/json", None, (401, "unauthorised")),
    ("/webhook", "POST", "application/json", "s3cret-token-value\udcff", (401, "unauthorised")),
])
def test_the_action_server_guard(path, method, ctype, token, expected):
    assert refusal(path, method, ctype, token, "s3cret-token-value") == expected


def test_rasa_gets_its_api_token_inside_the_process_only():
    argv = ["rasa_server", "run", "--enable-api", "-p", "5005"]
    assert with_auth_token(argv, "tok-123")[-2:] == ["--auth-token", "tok-123"]
    assert "--auth-token" not in argv  # the caller's list (and so /proc/<pid>/cmdline) is unchanged
    assert with_auth_token(["rasa_server", "run"], "tok-123") == ["rasa_server", "run"]  # no API, no token


def test_secrets_are_required_outside_dev(tmp_path, monkeypatch):
    for name in SECRET_NAMES:
        monkeypatch.delenv(f"ASSISTANT_{name.upper()}", raising=False)
    with pytest.raises(ValidationError, match="must be set outside dev"):
        Settings(env="prod", secrets_dir=tmp_path / "none", cookie_secure=True)
    with pytest.raises(ValidationError, match="too short"):
        Settings(env="prod", secrets_dir=tmp_path / "none", cookie_secure=True,
                 rasa_token="short", channel_token="x" * 20, action_token="y" * 20)
    ok = Settings(env="prod", secrets_dir=tmp_path / "none", cookie_secure=True,
                  rasa_token="r" * 20, channel_token="c" * 20, action_token="a" * 20)
    assert ok.channel_token == "c" * 20
    assert not (tmp_path / "none").exists()  # nothing generated outside dev


def test_dev_secrets_are_generated_per_install_and_private(tmp_path, monkeypatch):
    for name in SECRET_NAMES:
        monkeypatch.delenv(f"ASSISTANT_{name.upper()}", raising=False)
    first = Settings(env="dev", secrets_dir=tmp_path / "a")
    again = Settings(env="dev", secrets_dir=tmp_path / "a")
    other = Settings(env="dev", secrets_dir=tmp_path / "b")
    values = [getattr(first, n) for n in SECRET_NAMES]
    assert len(set(values)) == 3 and all(len(v) >= 32 for v in values)
    assert values == [getattr(again, n) for n in SECRET_NAMES]  # stable for this install
    assert values != [getattr(other, n) for n in SECRET_NAMES]  # another install has its own
    for name in SECRET_NAMES:
        assert stat.S_IMODE((tmp_path / "a" / name).stat().st_mode) == 0o600
    # a file can also provide a secret outside dev
    prod = Settings(env="prod", secrets_dir=tmp_path / "a", cookie_secure=True)
    assert prod.rasa_token == first.rasa_token


# --- the attacks, replayed against the real stack ---------------------------------------

@pytest.fixture
def stack(sqlite_stack):
    return sqlite_stack


def _forged_tracker(sender: str, next_action: str) -> dict:
    return {"next_action": next_action, "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {"reflection_id": 1}, "latest_message": {},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}


@pytest.mark.e2e
@pytest.mark.parametrize("next_action", ["action_reflection_end", "action_submit_share"])
def test_a_forged_tracker_is_refused_by_the_action_server(stack, next_action):
    url = f"{stack.actions_url}/webhook"
    forged = _forged_tracker("1", next_action)
    assert httpx.post(url, json=forged).status_code == 401
    assert httpx.post(url, json=forged, headers={"X-Action-Token": "guess-guess-guess"}).status_code == 401
    import json
    plain = httpx.post(url, content=json.dumps(forged), headers={"Content-Type": "text/plain"})
    assert plain.status_code == 401
    assert httpx.get(f"{stack.actions_url}/actions").status_code == 401
    assert httpx.get(f"{stack.actions_url}/health").status_code == 200


@pytest.mark.e2e
def test_only_the_web_app_can_post_as_a_user(stack):
    from tests.e2e_stack import TOKENS

    body = {"sender": "1", "message": "what does SEED stand for?"}
    assert httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body).status_code == 404  # channel off
    ours = f"{stack.rasa_url}/webhooks/webapp/webhook"
    assert httpx.post(ours, json=body).status_code == 401
    assert httpx.post(ours, json=body, headers={"X-Channel-Token": TOKENS["rasa_token"]}).status_code == 401
    import json
    wrong_type = httpx.post(ours, content=json.dumps(body),
                            headers={"X-Channel-Token": TOKENS["channel_token"], "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    no_sender = httpx.post(ours, json={"message": "hi"}, headers={"X-Channel-Token": TOKENS["channel_token"]})
    assert no_sender.status_code == 400
    # with the secret, the channel works as the web app uses it
    [item] = httpx.post(ours, json={"sender": "door-check", "message": "what is the reflective supervision model"},
                        headers={"X-Channel-Token": TOKENS["channel_token"]}, timeout=30).json()
    assert item["custom"]["faq_key"] == "rsm_what_is"


@pytest.mark.e2e
def test_rasa_api_needs_its_token(stack):
    assert httpx.put(f"{stack.rasa_url}/model", json={"model_file": "/tmp/x.tar.gz"}).status_code == 401
    assert httpx.get(f"{stack.rasa_url}/conversations/1/tracker").status_code == 401
    assert httpx.get(f"{stack.rasa_url}/conversations/1/tracker",
                     params={"token": "guess-guess-guess"}).status_code == 401


@pytest.mark.e2e
def test_no_secret_on_any_command_line(stack):
    from tests.e2e_stack import TOKENS

    pids = list(stack.pids().values())
    assert len(pids) >= 3
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        for name, secret in TOKENS.items():
            assert secret not in cmdline, f"{name} on the command line of {pid}"
    logs = b"".join(p.read_bytes() for p in Path(stack.log_dir).glob("*.log"))
    for name, secret in TOKENS.items():
        assert secret.encode() not in logs, f"{name} in the logs"
    assert os.environ.get("ASSISTANT_CHANNEL_TOKEN") != TOKENS["channel_token"]
