"""Two editors, one winner (issue 11, item 5): two saves of one FAQ from the same version,
sent at the same moment, on SQLite and PostgreSQL. Exactly one succeeds; the other gets 409
with both texts (theirs and the one now saved), and the history has one revision per save."""
from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant import faq_admin as admin
from assistant.db import session_scope
from assistant.models import AuditEntry, Faq, FaqRevision, User
from assistant.web.app import create_app
from tests.test_api import RecordingRasa

ROUNDS = 5
KEY = "omfq"


@pytest.fixture
def editors(seeded, make_user):
    """Two programme-team members, each logged in with their own client (own app, own
    database sessions, as two browsers would be)."""
    clients = []
    for name in ("ann", "bob"):
        _, username, password = make_user(name, role="programme")
        c = TestClient(create_app(seeded))
        c.__enter__()
        c.app.state.rasa = RecordingRasa()
        assert c.post("/api/login", json={"username": username, "password": password}).status_code == 200
        clients.append(c)
    yield clients
    for c in clients:
        c.__exit__(None, None, None)


def _at_once(calls):
    """Run each call in its own thread, released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a save hung"
    return results


def _edits(url):
    with session_scope(url) as s:
        return list(s.scalars(select(FaqRevision).where(FaqRevision.faq_key == KEY).order_by(FaqRevision.id)))


def test_two_saves_from_one_version_one_wins_the_other_gets_both_texts(editors, seeded):
    ann, bob = editors
    for n in range(ROUNDS):
        version = ann.get(f"/api/faqs/{KEY}").json()["version"]
        texts = [f"Round {n}: Ann's answer.", f"Round {n}: Bob's answer."]
        responses = _at_once([lambda c=c, t=t, v=version: c.put(f"/api/faqs/{KEY}", json={"answer": t, "version": v})
                              for c, t in zip(editors, texts)])
        statuses = [r.status_code for r in responses]
        assert sorted(statuses) == [200, 409], (n, statuses, [r.text[:200] for r in responses])
        won, lost = (0, 1) if statuses[0] == 200 else (1, 0)
        saved = responses[won].json()["faq"]
        assert saved["answer"] == texts[won] and saved["version"] == version + 1
        body = responses[lost].json()
        assert body["code"] == "conflict" and "Someone else changed" in body["error"]
        assert body["yours"]["answer"] == texts[lost]             # the loser's text, kept
        assert body["current"]["answer"] == texts[won]            # the text that was saved
        assert body["current"]["version"] == version + 1
        assert ann.get(f"/api/faqs/{KEY}").json()["answer"] == texts[won]

    revisions = _edits(seeded.database_url)
    assert [r.action for r in revisions] == ["edit"] * ROUNDS     # one revision per successful save
    assert [r.version for r in revisions] == list(range(revisions[0].version, revisions[0].version + ROUNDS))
    for older, newer in zip(revisions, revisions[1:]):
        assert json.loads(newer.before)["answer"] == json.loads(older.after)["answer"]
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "faq.edit")) == ROUNDS
        assert s.scalars(select(Faq.version).where(Faq.key == KEY)).one() == revisions[-1].version


def test_examples_added_at_once_are_not_lost(editors, seeded):
    """Two review-queue additions to one FAQ at the same moment: neither overwrites the other
    silently (one is saved; the other is told, with the FAQ as it now is)."""
    texts = ["omfq questions for people on probation", "what does the omfq feedback show"]
    responses = _at_once([lambda c=c, t=t: c.post(f"/api/faqs/{KEY}/examples", json={"text": t})
                          for c, t in zip(editors, texts)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409]), statuses
    saved = [t for t, r in zip(texts, responses) if r.status_code == 201]
    examples = editors[0].get(f"/api/faqs/{KEY}").json()["examples"]
    assert all(t in examples for t in saved)
    assert len(_edits(seeded.database_url)) == len(saved)
    for r in responses:
        if r.status_code == 409:
            assert r.json()["current"]["examples"] == examples


def test_a_stale_session_cannot_overwrite_a_save_it_did_not_see(seeded, make_user):
    """The interleaving behind the race, without threads: both read version v, the first
    commits, then the second saves; the domain raises FaqConflict (a Conflict) with both."""
    make_user("ann", role="programme")
    with session_scope(seeded.database_url) as first, session_scope(seeded.database_url) as second:
        ann = first.scalars(select(User).where(User.username == "ann")).one()
        ann2 = second.get(User, ann.id)
        version = admin.get_faq(KEY, session=first).version
        assert admin.get_faq(KEY, session=second).version == version   # both read v
        admin.update_faq(KEY, {"answer": "First answer."}, expected_version=version, user=ann, session=first)
        first.commit()
        with pytest.raises(admin.FaqConflict) as err:
            admin.update_faq(KEY, {"answer": "Second answer."}, expected_version=version, user=ann2, session=second)
        second.rollback()
    assert err.value.extra["current"]["answer"] == "First answer."
    assert err.value.extra["yours"]["answer"] == "Second answer."
    assert len(_edits(seeded.database_url)) == 1


def test_two_creates_of_one_new_key_at_once_one_wins_the_other_gets_409(editors, seeded):
    for n in range(3):
        new = {"key": f"race_key_{n}", "category": "probation_rules", "question": f"Race question {n}?",
               "answer": "An answer. With two sentences.", "source": "Test source, 2026", "status": "draft",
               "examples": [f"race question number {n}", f"what about the race {n}"]}
        results = _at_once([lambda c=c, body=new: c.post("/api/faqs", json=body) for c in editors])
        assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
        assert all(r.headers["content-type"].startswith("application/json") for r in results)
