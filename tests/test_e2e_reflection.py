"""End to end: a reflection through the real Rasa form and actions, shared with the manager."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from assistant.db import session_scope
from assistant.models import Reflection
from tests.e2e_stack import TOKEN
from tests.test_e2e import ask, client_for, user_id

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(sqlite_stack):
    return sqlite_stack


def press(client, payload):
    resp = client.post("/api/chat", json={"payload": payload})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def texts(messages):
    return " ".join(m.get("text") or "" for m in messages)


def test_reflect_share_and_the_manager_reads_it(stack):
    with client_for(stack, "pat.e2e") as pat:
        msgs = ask(pat, "just finished a session with a new case, can I reflect?")
        buttons = [b["payload"] for m in msgs for b in m["buttons"]]
        assert '/inform{"reflection_set": "quick_check"}' in buttons
        msgs = press(pat, '/inform{"reflection_set": "quick_check"}')
        assert "Question 1 of 2" in texts(msgs)

        resp = pat.post("/api/chat", json={"message": "Mr Smith (X123456) opened up about his housing"})
        body = resp.json()
        assert body["sent"] == "[name] ([case reference]) opened up about his housing"
        assert body["messages"][0]["type"] == "notice" and "privacy" in body["messages"][0]["text"]
        assert "Question 2 of 2" in texts(body["messages"])

        msgs = ask(pat, "what is pro-social modelling?")  # an FAQ mid-reflection
        assert any(m.get("faq_key") == "prosocial_modelling" for m in msgs)
        assert "Question 2 of 2" in texts(msgs)

        msgs = ask(pat, "Check in about the housing appointment first next time")
        assert "summary" in texts(msgs) and "[name] ([case reference])" in texts(msgs)
        assert any(b["payload"] == "/affirm" for m in msgs for b in m["buttons"])
        msgs = press(pat, "/affirm")
        assert "Shared with" in texts(msgs)

    uid = user_id(stack, "pat.e2e")
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{uid}/tracker", params={"token": TOKEN}).text
    assert "X123456" not in tracker and "Mr Smith" not in tracker  # masked before Rasa stored anything

    with session_scope(stack.database_url) as s:
        r = s.scalars(select(Reflection).where(Reflection.author_id == uid)).one()
        assert (r.status, r.shared) == ("completed", True)

    with client_for(stack, "mgr.e2e") as mgr:
        team = mgr.get("/api/team").json()
        [shared] = team["shared"]
        assert shared["answers"][0]["answer"] == "[name] ([case reference]) opened up about his housing"
    with client_for(stack, "sam.e2e") as sam:
        assert sam.get(f"/api/reflections/{r.id}").status_code == 404


def test_stop_and_resume_through_the_stack(stack):
    with client_for(stack, "sam.e2e") as sam:
        press(sam, '/start_reflection{"reflection_set": "gibbs"}')
        ask(sam, "We went through the licence conditions together")
        msgs = ask(sam, "stop")
        assert "paused" in texts(msgs)
        msgs = ask(sam, "continue my reflection")
        assert "already have a reflection in progress" in texts(msgs) and "Question 2 of 6" in texts(msgs)


def test_a_manager_prompts_a_named_person_by_chat_and_confirms(stack):
    from assistant.models import ReflectionPrompt, User
    with session_scope(stack.database_url) as s:
        s.scalars(select(User).where(User.username == "pat.e2e")).one().display_name = "Pat Rowan"
    mgr_id = user_id(stack, "mgr.e2e")
    mine = select(ReflectionPrompt).where(ReflectionPrompt.manager_id == mgr_id)  # the stack is shared
    with client_for(stack, "mgr.e2e") as mgr:
        msgs = ask(mgr, "please ask Pat Rowan to do a Gibbs reflection by Friday")
        shown = texts(msgs)
        assert "Pat Rowan" in shown and "Gibbs" in shown and "Shall I send it?" in shown, shown
        with session_scope(stack.database_url) as s:
            assert s.scalars(mine).all() == []
        msgs = ask(mgr, "what is desistance?")  # an aside: answered, then the draft again
        assert any(m.get("faq_key") == "desistance" for m in msgs) and "Shall I send it?" in texts(msgs)
        msgs = press(mgr, "/affirm")
        assert "Sent" in texts(msgs)
    with session_scope(stack.database_url) as s:
        [p] = s.scalars(mine).all()
        assert p.set_key == "gibbs" and p.due_date.weekday() == 4


def test_typing_instead_of_clicking_never_traps(stack):
    with client_for(stack, "sam.e2e") as sam:
        msgs = ask(sam, "I'd like to reflect on a session")
        if "Which questions" in texts(msgs):
            msgs = ask(sam, "the first one")
        assert "**Question" in texts(msgs)  # a new reflection, or the one sam paused earlier
        msgs = ask(sam, "forget it, I'll do this later")
        assert "paused" in texts(msgs) and "Question" not in texts(msgs)
        msgs = ask(sam, "what is pro-social modelling?")  # out of the flow: a plain answer
        assert any(m.get("faq_key") == "prosocial_modelling" for m in msgs)


def test_two_messages_sent_at_once_mid_form_are_both_kept_once(stack):
    import concurrent.futures
    with client_for(stack, "pat.e2e") as pat:
        press(pat, '/start_reflection{"reflection_set": "gibbs"}')
        msgs = ask(pat, "continue my reflection")
        first = texts(msgs)
        assert "**Question" in first
        sent = ["We looked at his week together", "He seemed calmer than last time"]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda t: pat.post("/api/chat", json={"message": t}), sent))
        assert [r.status_code for r in replies] == [200, 200]
        uid = user_id(stack, "pat.e2e")
        with session_scope(stack.database_url) as s:
            r = s.scalars(select(Reflection).where(Reflection.author_id == uid, Reflection.status == "in_progress")).one()
            answers = [a.answer for a in r.answers]
        assert sorted(a for a in answers if a in sent) == sorted(sent)  # each kept, once
        ask(pat, "stop")
