"""Reflection actions with CollectingDispatcher and real Trackers, against a real database."""
import pytest
from sqlalchemy import func, select

from actions.reflection_actions import (
    ASK_QUESTION_ACTIONS, ActionAskReflectionSet, ActionAskShareChoice, ActionReflectionEnd, ActionStartReflection,
    ActionSubmitShare, ValidateReflectionForm, ValidateShareForm,
)
from assistant.db import session_scope
from assistant.models import Reflection, ReflectionAnswer
from tests.action_harness import make_tracker, run

ActionAskQ2 = ASK_QUESTION_ACTIONS[1]

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
    assert slots["share_pending"] == rid and slots["ask_share"] is True and slots["q1"] is None
    msgs, _, _ = run(ActionAskShareChoice(), make_tracker(sender, "x", slots={"share_pending": rid}))
    assert "share this reflection with your line manager, mgr" in msgs[0]["text"]

    share_step = dict(slots={"share_pending": rid, "share_choice": "yes"}, intent="affirm", loop="share_form",
                      requested="share_choice", just_set=["share_choice"])
    _, slots, _ = run(ValidateShareForm(), make_tracker(sender, "yes", **share_step))
    assert slots["share_choice"] == "yes"
    msgs, slots, _ = run(ActionSubmitShare(), make_tracker(sender, "yes", slots={"share_pending": rid,
                                                                                 "share_choice": "yes"}))
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
    assert slots["reflection_set"] is None and slots["step_retries"] == 1 and msgs == []  # the ask action asks
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
    assert slots["ask_share"] is False


def test_reflection_needs_a_logged_in_user(seeded):
    msgs, slots, _ = run(ActionStartReflection(), make_tracker("not-a-user", "reflect"))
    assert "logged in" in msgs[0]["text"]
