"""A manager prompts named people by chat: parse, confirm (send / change / cancel), send."""
import pytest
from sqlalchemy import select

from actions.flow_actions import ActionFlowAside, ActionLeaveFlow
from actions.team_actions import (
    ActionAskPromptReply, ActionSendTeamPrompt, ActionTeamRequest, ValidateTeamPromptForm,
)
from assistant import team_flow
from assistant.db import session_scope
from assistant.models import ReflectionPrompt, User
from tests.action_harness import make_tracker, run, texts


@pytest.fixture
def team(seeded, make_user):
    ids = {"mgr": make_user("mgr", role="manager")[0], "other.mgr": make_user("other.mgr", role="manager")[0]}
    for username in ("alex.rowan", "sam.patel", "sam.jones", "jo.kim"):
        ids[username] = make_user(username, manager="mgr")[0]
    ids["chris.out"] = make_user("chris.out", manager="other.mgr")[0]
    names = {"alex.rowan": "Alex Rowan", "sam.patel": "Sam Patel", "sam.jones": "Sam Jones", "jo.kim": "Jo Kim",
             "chris.out": "Chris Out"}
    with session_scope(seeded.database_url) as s:
        for username, name in names.items():
            s.get(User, ids[username]).display_name = name
    return ids


def prompts(settings):
    with session_scope(settings.database_url) as s:
        return [(p.practitioner_id, p.set_key, p.due_date, p.note) for p in s.scalars(select(ReflectionPrompt))]


def confirm_step(sender, text, slots, intent="inform"):
    """The reply at the confirmation step, through the form's validator; returns the new slots."""
    tracker = make_tracker(sender, text, slots={**slots, "prompt_reply": text}, intent=intent,
                           loop="team_prompt_form", requested="prompt_reply", just_set=["prompt_reply"])
    _, new, _ = run(ValidateTeamPromptForm(), tracker)
    return {**slots, **new}


def test_a_named_person_a_set_and_a_weekday_are_understood_and_sent_after_confirming(seeded, team):
    mgr = str(team["mgr"])
    _, slots, _ = run(ActionTeamRequest(), make_tracker(
        mgr, "please ask Alex Rowan to do a Gibbs reflection by Friday", intent="prompt_team"))
    assert slots["confirm_prompt"] is True
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    shown = texts(msgs)
    assert "Alex Rowan" in shown and "Gibbs" in shown and "Friday" in shown and "Shall I send it?" in shown
    assert [b["payload"] for b in msgs[0]["buttons"]] == ["/affirm", "/change", "/leave"]
    assert prompts(seeded) == []  # nothing is written before the manager confirms
    slots = confirm_step(mgr, "/affirm", slots, intent="affirm")
    assert slots["prompt_reply"] == "send"
    msgs, slots, _ = run(ActionSendTeamPrompt(), make_tracker(mgr, "x", slots=slots))
    [(who, set_key, due, note)] = prompts(seeded)
    assert (who, set_key, due.weekday()) == (team["alex.rowan"], "gibbs", 4)
    assert note is None or "ask" not in note.lower()  # never the raw command
    assert "Sent" in texts(msgs) and slots["prompt_draft"] is None


def test_an_ambiguous_name_is_asked_about_then_resolved(seeded, team):
    mgr = str(team["mgr"])
    _, slots, _ = run(ActionTeamRequest(), make_tracker(mgr, "prompt Sam and Jo about their new-case sessions, "
                                                             "due 3 December", intent="prompt_team"))
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    assert "Sam Patel" in texts(msgs) and "Sam Jones" in texts(msgs)
    slots = confirm_step(mgr, "/affirm", slots, intent="affirm")  # can't send with a question open
    assert slots["prompt_reply"] is None
    slots = confirm_step(mgr, "Sam Patel", slots)
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    assert "Shall I send it?" in texts(msgs) and "Sam Patel" in texts(msgs) and "Jo Kim" in texts(msgs)
    slots = confirm_step(mgr, "send it", slots, intent="affirm")
    run(ActionSendTeamPrompt(), make_tracker(mgr, "x", slots=slots))
    assert sorted(p[0] for p in prompts(seeded)) == sorted([team["sam.patel"], team["jo.kim"]])


def test_someone_outside_the_team_is_never_prompted(seeded, team):
    mgr = str(team["mgr"])
    _, slots, _ = run(ActionTeamRequest(), make_tracker(mgr, "ask Chris to reflect by Friday", intent="prompt_team"))
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    assert "Chris" in texts(msgs) and "Shall I send it?" not in texts(msgs)
    slots = confirm_step(mgr, "/affirm", slots, intent="affirm")
    run(ActionSendTeamPrompt(), make_tracker(mgr, "x", slots=slots))
    assert prompts(seeded) == []


def test_a_date_in_the_past_is_questioned(seeded, team):
    mgr = str(team["mgr"])
    _, slots, _ = run(ActionTeamRequest(), make_tracker(mgr, "ask Alex to reflect, due 2020-01-06",
                                                        intent="prompt_team"))
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    assert "past" in texts(msgs).lower()
    slots = confirm_step(mgr, "make it due next Friday", slots)
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    assert "Shall I send it?" in texts(msgs)


def test_change_then_cancel_sends_nothing(seeded, team):
    mgr = str(team["mgr"])
    _, slots, _ = run(ActionTeamRequest(), make_tracker(mgr, "remind my team to reflect on this week's sessions",
                                                        intent="prompt_team"))
    slots = confirm_step(mgr, "/change", slots, intent="change")
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    assert "What would you like to change?" in texts(msgs)
    slots = confirm_step(mgr, "only Jo", slots)
    msgs, _, _ = run(ActionAskPromptReply(), make_tracker(mgr, "x", slots=slots))
    assert "Jo Kim" in texts(msgs) and "Alex" not in texts(msgs)
    msgs, slots, events = run(ActionLeaveFlow(), make_tracker(mgr, "cancel", slots=slots, intent="leave",
                                                              loop="team_prompt_form", requested="prompt_reply"))
    assert team_flow.CANCELLED in texts(msgs) and slots["prompt_draft"] is None and prompts(seeded) == []


def test_an_faq_question_at_the_confirmation_is_answered_and_the_draft_kept(seeded, team):
    mgr = str(team["mgr"])
    _, slots, _ = run(ActionTeamRequest(), make_tracker(mgr, "ask Alex to reflect", intent="prompt_team"))
    msgs, new, _ = run(ActionFlowAside(), make_tracker(mgr, "what is desistance?", slots=slots, intent="faq",
                                                       loop="team_prompt_form", requested="prompt_reply",
                                                       ranking=[("desistance", 0.98)]))
    assert msgs[0]["custom"]["faq_key"] == "desistance" and "prompt_draft" not in new


def test_a_practitioner_is_told_politely(seeded, team):
    msgs, slots, _ = run(ActionTeamRequest(), make_tracker(str(team["alex.rowan"]), "ask Jo to reflect",
                                                           intent="prompt_team"))
    assert "Only line managers" in texts(msgs) and slots["confirm_prompt"] is False
