"""Reflection actions with CollectingDispatcher and real Trackers, against a real database."""
import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.reflection_actions import (
    ActionAskQ2, ActionAskReflectionSet, ActionPromptTeam, ActionReflectionEnd, ActionShareReflection,
    ActionStartReflection, ValidateReflectionForm,
)
from assistant import reflection_flow as flow
from assistant.db import session_scope
from assistant.models import Reflection, ReflectionAnswer, ReflectionPrompt
from tests.test_actions import parse

DOMAIN = {"forms": {"reflection_form": {"required_slots": ["reflection_set"] + [f"q{i}" for i in range(1, 8)]}},
          "slots": {}}


def make_tracker(sender, text, slots=None, intent="start_reflection", entities=(), message_id="m1",
                 requested=None, just_set=()):
    latest = parse(text, intent=intent, entities=entities, message_id=message_id)
    all_slots = {"reflection_set": None, "reflection_id": None, "reflection_paused": None,
                 "share_pending": None, "requested_slot": requested, **{f"q{i}": None for i in range(1, 8)}}
    all_slots.update(slots or {})
    events = [{"event": "user", "text": text, "parse_data": latest}]
    events += [{"event": "slot", "name": k, "value": all_slots[k]} for k in just_set]
    return Tracker(sender, all_slots, latest, events, False, None,
                   {"name": "reflection_form"} if requested else {}, "action_listen")


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, {e["name"]: e.get("value") for e in events if e.get("event") == "slot"}, events


def answer(sender, n, text, state, message_id):
    """Answer question n as the form would pass it; ``state`` keeps the slots like a tracker."""
    tracker = make_tracker(sender, text, slots={**state, f"q{n}": text}, intent="inform",
                           message_id=message_id, requested=f"q{n}", just_set=[f"q{n}"])
    msgs, slots, events = run(ValidateReflectionForm(), tracker)
    state.update({k: v for k, v in slots.items() if k.startswith("q")})
    return msgs, slots, events


@pytest.fixture
def team(seeded, make_user):
    mgr, _, _ = make_user("mgr", role="manager")
    pat, _, _ = make_user("pat", manager="mgr")
    return {"mgr": mgr, "pat": pat}


def test_full_reflection_is_saved_masked_and_shared(seeded, team):
    sender = str(team["pat"])
    msgs, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "reflect", entities=[{"entity": "reflection_set", "value": "what_so_what_now_what"}]))
    assert "What? So what? Now what?" in msgs[0]["text"] and "skip" in msgs[0]["text"]
    rid = slots["reflection_id"]
    state = {"reflection_set": "what_so_what_now_what", "reflection_id": rid}

    msgs, _, _ = run(ActionAskQ2(), make_tracker(sender, "x", slots=state))
    assert msgs[0]["text"].startswith("**Question 2 of 3.** So what?")

    msgs, slots, events = answer(sender, 1, "Mr Smith (X123456) was late but engaged well", state, "a1")
    assert slots["q1"] == "__saved__" and slots["requested_slot"] == "q2"
    assert "privacy" in msgs[0]["text"]
    _, slots, _ = answer(sender, 2, "skip", state, "a2")
    assert slots["q2"] == "__skipped__"
    _, slots, _ = answer(sender, 3, "<script>alert(1)</script> agree goals next time", state, "a3")
    assert slots["requested_slot"] is None

    msgs, slots, _ = run(ActionReflectionEnd(), make_tracker(sender, "x", slots=state))
    summary = msgs[0]["text"]
    assert "[name] ([case reference]) was late" in summary and "_(skipped)_" in summary
    assert "X123456" not in summary and "Smith" not in summary
    assert "share this reflection with your line manager, mgr" in msgs[1]["text"]
    assert slots["share_pending"] == rid and slots["q1"] is None

    msgs, slots, _ = run(ActionShareReflection(), make_tracker(sender, "yes", intent="affirm",
                                                               slots={"share_pending": rid}))
    assert msgs[0]["text"].startswith("Shared with mgr") and slots["share_pending"] is None
    with session_scope(seeded.database_url) as s:
        r = s.get(Reflection, int(rid))
        assert (r.status, r.shared, r.set_key) == ("completed", True, "what_so_what_now_what")
        assert [a.answer for a in r.answers] == [
            "[name] ([case reference]) was late but engaged well", None,
            "<script>alert(1)</script> agree goals next time"]
        assert r.answers[0].masked_count == 2


def test_saving_is_idempotent_for_retries(seeded, team):
    sender = str(team["pat"])
    tracker = make_tracker(sender, "reflect", entities=[{"entity": "reflection_set", "value": "quick_check"}])
    _, first, _ = run(ActionStartReflection(), tracker)
    _, again, _ = run(ActionStartReflection(), tracker)  # the same action, retried
    assert first["reflection_id"] == again["reflection_id"]
    state = {"reflection_set": "quick_check", "reflection_id": first["reflection_id"]}
    answer(sender, 1, "Agreed a plan", state, "x1")
    answer(sender, 1, "Agreed a plan", state, "x1")
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Reflection)) == 1
        assert s.scalar(select(func.count()).select_from(ReflectionAnswer)) == 1


def test_stop_pauses_and_start_resumes_where_left_off(seeded, team):
    sender = str(team["pat"])
    _, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "reflect", entities=[{"entity": "reflection_set", "value": "gibbs"}], message_id="s1"))
    state = {"reflection_set": "gibbs", "reflection_id": slots["reflection_id"]}
    answer(sender, 1, "We reviewed the licence conditions", state, "g1")
    msgs, slots, events = answer(sender, 2, "stop", state, "g2")
    assert "paused" in msgs[0]["text"] and slots["reflection_paused"] is True
    assert {"event": "active_loop", "name": None} in [
        {"event": e.get("event"), "name": e.get("name")} for e in events if e.get("event") == "active_loop"]
    msgs, slots, _ = run(ActionReflectionEnd(), make_tracker(sender, "x", slots={**state, "reflection_paused": True}))
    assert msgs == [] and slots["reflection_id"] is None

    # a second "start reflection" resumes the open one instead of opening another
    msgs, slots, _ = run(ActionStartReflection(), make_tracker(sender, "reflect", message_id="s2"))
    assert "already have a reflection in progress" in msgs[0]["text"] and "1 of 6" in msgs[0]["text"]
    assert slots["q1"] == "__saved__" and slots["q2"] is None and slots["reflection_set"] == "gibbs"
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Reflection)) == 1


def test_empty_and_huge_answers_are_refused_clearly(seeded, team):
    sender = str(team["pat"])
    _, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "r", entities=[{"entity": "reflection_set", "value": "quick_check"}]))
    state = {"reflection_set": "quick_check", "reflection_id": slots["reflection_id"]}
    msgs, slots, _ = answer(sender, 1, "   ", state, "e1")
    assert slots["q1"] is None and "few words" in msgs[0]["text"]
    msgs, slots, _ = answer(sender, 1, "x" * 10_000, state, "e2")
    assert slots["q1"] is None and "10,000 characters" in msgs[0]["text"]
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(ReflectionAnswer)) == 0


def test_a_faq_question_mid_reflection_is_answered_and_the_question_asked_again(seeded, team):
    sender = str(team["pat"])
    _, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "r", entities=[{"entity": "reflection_set", "value": "quick_check"}]))
    state = {"reflection_set": "quick_check", "reflection_id": slots["reflection_id"]}
    tracker = make_tracker(sender, "what is pro-social modelling?", slots={**state, "q1": "what is pro-social modelling?"},
                           intent="faq", message_id="f1", requested="q1", just_set=["q1"])
    tracker.latest_message["response_selector"]["faq"]["ranking"] = [
        {"intent_response_key": "faq/prosocial_modelling", "confidence": 0.97}]
    msgs, slots, _ = run(ValidateReflectionForm(), tracker)
    assert msgs[0]["custom"]["faq_key"] == "prosocial_modelling"
    assert msgs[1]["text"] == "Now, back to your reflection."
    assert slots["q1"] is None and slots["requested_slot"] == "q1"


def test_a_database_error_mid_save_leaves_nothing_half_written(seeded, team, monkeypatch):
    sender = str(team["pat"])
    _, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "r", entities=[{"entity": "reflection_set", "value": "quick_check"}]))
    state = {"reflection_set": "quick_check", "reflection_id": slots["reflection_id"]}
    from assistant import reflections
    from sqlalchemy.exc import OperationalError

    def broken(reflection, **kwargs):
        reflection.updated_at = None  # a change that must be rolled back
        raise OperationalError("UPDATE", {}, Exception("disk I/O error"))

    monkeypatch.setattr(reflections, "save_answer", broken)
    msgs, slots, _ = answer(sender, 1, "Went well", state, "d1")
    assert "wasn't saved" in msgs[0]["text"] and slots["q1"] is None
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(ReflectionAnswer)) == 0
        assert s.get(Reflection, int(state["reflection_id"])).updated_at is not None


def test_choosing_a_set_inside_the_form(seeded, team):
    sender = str(team["pat"])
    _, slots, _ = run(ActionStartReflection(), make_tracker(sender, "can I reflect on this morning?"))
    assert slots["reflection_set"] is None
    msgs, _, _ = run(ActionAskReflectionSet(), make_tracker(sender, "x"))
    assert len(msgs[0]["buttons"]) == 4
    tracker = make_tracker(sender, "nonsense", slots={"reflection_set": "nonsense"}, requested="reflection_set",
                           just_set=["reflection_set"], intent="inform", message_id="c1")
    msgs, slots, _ = run(ValidateReflectionForm(), tracker)
    assert slots["reflection_set"] is None and msgs[0]["buttons"]
    tracker = make_tracker(sender, "gibbs", slots={"reflection_set": "gibbs"}, requested="reflection_set",
                           just_set=["reflection_set"], intent="inform", message_id="c2")
    msgs, slots, _ = run(ValidateReflectionForm(), tracker)
    assert slots["reflection_set"] == "gibbs" and slots["reflection_id"] and slots["requested_slot"] == "q1"


def test_no_manager_means_no_share_question(seeded, make_user):
    solo, _, _ = make_user("solo")
    sender = str(solo)
    _, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "r", entities=[{"entity": "reflection_set", "value": "quick_check"}]))
    state = {"reflection_set": "quick_check", "reflection_id": slots["reflection_id"]}
    answer(sender, 1, "a", state, "n1")
    answer(sender, 2, "b", state, "n2")
    msgs, slots, _ = run(ActionReflectionEnd(), make_tracker(sender, "x", slots=state))
    assert "no one to share it with" in msgs[-1]["text"] and slots.get("share_pending") is None


def test_reflection_needs_a_logged_in_user(seeded):
    msgs, slots, _ = run(ActionStartReflection(), make_tracker("not-a-user", "reflect"))
    assert "logged in" in msgs[0]["text"]


def test_manager_prompts_their_team_from_the_chat(seeded, team, make_user):
    make_user("other.mgr", role="manager")
    msgs, _, _ = run(ActionPromptTeam(), make_tracker(str(team["mgr"]), "ask my team to reflect on this week's sessions",
                                                      intent="prompt_team"))
    assert "asked 1 person" in msgs[0]["text"]
    msgs, _, _ = run(ActionPromptTeam(), make_tracker(str(team["pat"]), "ask my team to reflect", intent="prompt_team"))
    assert "Only line managers" in msgs[0]["text"]
    with session_scope(seeded.database_url) as s:
        [p] = s.scalars(select(ReflectionPrompt)).all()
        assert (p.practitioner_id, p.manager_id, p.status) == (team["pat"], team["mgr"], "pending")
        assert p.note == "ask my team to reflect on this week's sessions"


@pytest.mark.parametrize("text, kept", [
    ("[name] arrived on time and we set two goals", True),   # NLU may read this as "start a reflection"
    ("we had a good session", True),
    ("can I start a new reflection?", False),
    ("I want to reflect on this morning", False),
])
def test_an_answer_that_nlu_reads_as_start_reflection_is_kept_unless_it_asks_to_reflect(seeded, team, text, kept):
    sender = str(team["pat"])
    _, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "r", entities=[{"entity": "reflection_set", "value": "quick_check"}]))
    state = {"reflection_set": "quick_check", "reflection_id": slots["reflection_id"]}
    tracker = make_tracker(sender, text, slots={**state, "q1": text}, intent="start_reflection",
                           message_id="s1", requested="q1", just_set=["q1"])
    msgs, slots, _ = run(ValidateReflectionForm(), tracker)
    with session_scope(seeded.database_url) as s:
        saved = s.scalars(select(ReflectionAnswer.answer)).all()
    if kept:
        assert saved == [text] and slots["q1"] == flow.SAVED
    else:
        assert saved == [] and slots["q1"] is None
        assert msgs[0]["text"] == "You're already in the middle of a reflection, so let's carry on."
