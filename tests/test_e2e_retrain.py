"""End to end: the programme team adds an FAQ; the web app retrains in the background,
evaluates, swaps the model into the running Rasa, and a conversation in progress carries on.
Slow (a full training run), but it runs in `make test`."""
from __future__ import annotations

import shutil
import time

import httpx
import pytest

from assistant.db import session_scope
from assistant.users import create_user
from tests.conftest import ROOT
from tests.e2e_stack import RASA_INSTANCES, TOKENS, free_port, make_database, model_available
from tests.test_e2e import ask, client_for

pytestmark = pytest.mark.e2e

NEW_FAQ = {
    "key": "approved_premises", "category": "sentence_management", "status": "published",
    "question": "What are approved premises?",
    "answer": "Approved premises (formerly probation hostels) provide supervised accommodation with staff on "
              "site around the clock. Referral criteria and house rules are set nationally and by each premises.",
    "source": "Synthetic test FAQ",
    "examples": ["what are approved premises", "what is an approved premises", "AP hostel", "probation hostel",
                 "how do I refer to an approved premises", "AP referral", "is there a bed in an approved premises",
                 "approved premises house rules", "what's an AP", "hostel placement for someone on licence",
                 "AP curfew times", "who staffs approved premises", "approved premises vacancies",
                 "moving on from an approved premises", "what happens at an approved premises"],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not model_available():
        pytest.fail("no trained model in models/: run `make train` first")
    from assistant.stack import Ports, start_stack

    tmp = tmp_path_factory.mktemp("e2e-retrain")
    models = tmp / "models"
    models.mkdir()
    latest = max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    shutil.copy(latest, models / latest.name)
    url = make_database("sqlite", tmp)
    with session_scope(url) as s:
        create_user(username="prog.e2e", password="prog e2e password", role="programme", session=s)
    ports = Ports(actions=free_port(), rasa=free_port(RASA_INSTANCES), web=free_port())
    running = start_stack(url, ports, TOKENS, tmp / "logs",
                          extra_env={"ASSISTANT_ENV": "test", "ASSISTANT_MODELS_DIR": str(models)})
    running.models = models
    yield running
    running.stop_all()


def test_adding_an_faq_retrains_and_swaps_without_downtime(stack):
    with client_for(stack, "pat.e2e") as pat, httpx.Client(base_url=stack.web_url, timeout=30) as prog:
        assert prog.post("/api/login", json={"username": "prog.e2e", "password": "prog e2e password"}).status_code == 200
        before = ask(pat, "can I get him a place in a probation hostel?")
        assert not any(m.get("faq_key") == "approved_premises" for m in before)

        resp = prog.post("/api/faqs", json=NEW_FAQ)
        assert resp.status_code == 201 and resp.json()["training_job"]

        # the conversation carries on while the model trains and is swapped
        deadline, statuses, answered = time.monotonic() + 900, [], 0  # training ~4 min + evaluation on 2 cores
        while time.monotonic() < deadline:
            job = prog.get("/api/training").json()["jobs"][0]
            statuses.append(job["status"])
            if job["status"] in ("deployed", "rejected", "failed"):
                break
            [msg] = ask(pat, "what is motivational interviewing")
            assert msg["faq_key"] == "motivational_interviewing"
            answered += 1
            time.sleep(10)  # history shows the last 200 messages (issue 11): keep the test conversation under it
        assert job["status"] == "deployed", (job["reason"], job["metrics"])
        assert "training" in statuses and answered >= 3
        cand, run, noise = job["metrics"]["candidate"], job["metrics"]["running"], job["metrics"]["noise"]
        assert run["answered_correctly_n"] - cand["answered_correctly_n"] <= noise["answered_correctly"]

        [msg] = ask(pat, "how do I make a referral to approved premises?")
        assert msg["faq_key"] == "approved_premises"
        [msg] = ask(pat, "what does SEED stand for?")
        assert msg["faq_key"] == "seed_what_is"
        history = pat.get("/api/history").json()["messages"]
        assert "can I get him a place in a probation hostel?" in [m.get("text") for m in history]  # same conversation
    assert len(list(stack.models.glob("*.tar.gz"))) == 2
