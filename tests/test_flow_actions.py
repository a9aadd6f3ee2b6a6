"""The unhappy paths of every flow, action by action (real Trackers, a real database)."""
import pytest
from sqlalchemy import func, select

from actions.flow_actions import ActionFlowAside, ActionLeaveFlow, ActionNothingPending
from actions.reflection_actions import ActionAskReflectionSet, ActionStartReflection, ASK_QUESTION_ACTIONS
from assistant import reflection_flow as flow
from assistant.db import session_scope
from assistant.models import Reflection, ReflectionAnswer, UnansweredQuestion
from tests.action_harness import make_tracker, run, texts


@pytest.fixture
def pat(seeded, make_user):
    make_user("mgr", role="manager")
    uid, _, _ = make_user("pat", manager="mgr")
    return str(uid)


def start(sender, set_key="quick_check"):
    _, slots, _ = run(ActionStartReflection(), make_tracker(
        sender, "r", entities=[{"entity": "reflection_set", "value": set_key}], message_id=f"start-{set_key}"))
    return {"reflection_set": set_key, "reflection_id": slots["reflection_id"]}


def saved_answers(settings):
    with session_scope(settings.database_url) as s:
        return s.scalars(select(ReflectionAnswer.answer).order_by(ReflectionAnswer.id)).all()


def loop_ended(events):
    return {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events if e["event"] == "active_loop"]


@pytest.mark.parametrize("words", ["stop", "never mind", "forget it, I'll do this later", "not now", "/leave"])
def test_leaving_a_reflection_pauses_it_in_one_turn(seeded, pat, words):
    state = start(pat)
    msgs, slots, events = run(ActionLeaveFlow(), make_tracker(pat, words, slots=state, intent="leave",
                                                              requested="q1"))
    assert "paused" in texts(msgs) and loop_ended(events) and slots["reflection_id"] is None
    assert saved_answers(seeded) == []  # "forget it" is never saved as an answer
    msgs, slots, _ = run(ActionStartReflection(), make_tracker(pat, "continue my reflection", message_id="again"))
    assert "already have a reflection in progress" in texts(msgs) and slots["reflection_set"] == "quick_check"


def test_a_long_answer_read_as_leave_is_saved_and_the_form_goes_on(seeded, pat):
    state = start(pat)
    text = "I'll do this later with him: we agreed to look at his housing and his benefits claim next week"
    _, slots, events = run(ActionLeaveFlow(), make_tracker(pat, text, slots=state, intent="leave", requested="q1"))
    assert slots["q1"] == flow.SAVED and not loop_ended(events)
    assert {"event": "followup", "name": "reflection_form"} in [
        {"event": e["event"], "name": e.get("name")} for e in events]
    assert saved_answers(seeded) == [text]


def test_leaving_the_share_question_keeps_it_private(seeded, pat):
    state = start(pat)
    with session_scope(seeded.database_url) as s:
        s.get(Reflection, int(state["reflection_id"])).status = "completed"
    msgs, slots, events = run(ActionLeaveFlow(), make_tracker(
        pat, "not now", intent="leave", loop="share_form", requested="share_choice",
        slots={"share_pending": state["reflection_id"]}))
    assert "Kept private" in texts(msgs) and loop_ended(events) and slots["share_pending"] is None


def test_leave_with_nothing_running_says_so(seeded, pat):
    msgs, slots, events = run(ActionLeaveFlow(), make_tracker(pat, "cancel", intent="leave"))
    assert "nothing in progress" in texts(msgs) and slots == {}


def test_a_faq_question_mid_reflection_is_answered_and_nothing_saved(seeded, pat):
    state = start(pat)
    msgs, slots, _ = run(ActionFlowAside(), make_tracker(
        pat, "what is pro-social modelling?", slots=state, intent="faq", requested="q1",
        ranking=[("prosocial_modelling", 0.97)]))
    assert msgs[0]["custom"]["faq_key"] == "prosocial_modelling" and slots == {}
    assert saved_answers(seeded) == []


def test_an_answer_the_nlu_reads_as_a_question_is_kept(seeded, pat):
    state = start(pat)
    text = "he talked about his drinking and the missed appointments"
    _, slots, _ = run(ActionFlowAside(), make_tracker(pat, text, slots=state, intent="faq", requested="q1",
                                                      ranking=[("missed_appointment_enforcement", 0.9)]))
    assert slots["q1"] == flow.SAVED and saved_answers(seeded) == [text]
    with session_scope(seeded.database_url) as s:  # reflection text never reaches the review queue
        assert s.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0


@pytest.mark.parametrize("intent, text, reply", [
    ("greet", "hi", "Hello!"), ("thanks", "thanks", "You're welcome."), ("help", "help", "stop"),
    ("start_reflection", "can I reflect?", "already in the middle"),
    ("affirm", "/affirm", "earlier step"),
])
def test_asides_get_a_short_reply_and_save_nothing(seeded, pat, intent, text, reply):
    state = start(pat)
    msgs, slots, _ = run(ActionFlowAside(), make_tracker(pat, text, slots=state, intent=intent, requested="q2"))
    assert len(msgs) == 1 and reply in msgs[0]["text"] and slots == {}
    assert saved_answers(seeded) == []


@pytest.mark.parametrize("text, intent, key", [("gibbs please", "faq", "gibbs"), ("the first one", "greet",
                                                                                    "what_so_what_now_what")])
def test_a_set_typed_at_the_set_step_is_chosen_whatever_the_nlu_says(seeded, pat, text, intent, key):
    _, slots, _ = run(ActionFlowAside(), make_tracker(pat, text, intent=intent, requested="reflection_set"))
    assert slots["reflection_set"] == key and slots["reflection_id"]


def test_a_reflection_typed_at_the_set_step_starts_the_default_set_with_it(seeded, pat):
    text = "the session went well, he opened up about his drinking for the first time"
    msgs, slots, _ = run(ActionFlowAside(), make_tracker(pat, text, intent="out_of_scope",
                                                         requested="reflection_set"))
    assert slots["reflection_set"] == "what_so_what_now_what" and slots["q1"] == flow.SAVED
    assert "kept what you wrote" in texts(msgs) and saved_answers(seeded) == [text]


def test_after_two_unusable_replies_the_way_out_is_offered(seeded, pat):
    asks = [run(ActionAskReflectionSet(), make_tracker(pat, "x", slots={"step_retries": n}))[0] for n in (0, 1, 2)]
    assert len({a[0]["text"] for a in asks}) == 3  # never the same words again
    assert all(len(a) == 1 for a in asks)          # one prompt per reply
    assert {"title": "Stop for now", "payload": "/leave"} in asks[2][0]["buttons"]
    assert {"title": "Stop for now", "payload": "/leave"} not in asks[0][0]["buttons"]
    state = start(pat)
    msgs, _, _ = run(ASK_QUESTION_ACTIONS[0](), make_tracker(pat, "x", slots={**state, "step_retries": 2}))
    assert msgs[0]["buttons"] == [flow.STOP_BUTTON]


@pytest.mark.parametrize("text", ["?!", "🙂👍", '/inform{"reflection_set": "gibbs"}'])
def test_punctuation_emoji_and_stale_buttons_are_not_saved(seeded, pat, text):
    from actions.reflection_actions import ValidateReflectionForm
    state = start(pat)
    msgs, slots, _ = run(ValidateReflectionForm(), make_tracker(
        pat, text, slots={**state, "q1": text}, intent="inform", requested="q1", just_set=["q1"]))
    assert slots["q1"] is None and slots["step_retries"] == 1 and saved_answers(seeded) == []


def test_yes_with_nothing_waiting(seeded, pat):
    msgs, _, _ = run(ActionNothingPending(), make_tracker(pat, "yes", intent="affirm"))
    assert "no question waiting" in texts(msgs)


def test_a_question_at_the_set_step_that_names_a_set_word_is_answered_not_taken_as_a_choice(seeded, pat):
    msgs, slots, _ = run(ActionFlowAside(), make_tracker(
        pat, "what is the offender engagement programme?", intent="faq", requested="reflection_set",
        ranking=[("oep_what_is", 0.98)]))
    assert msgs[0]["custom"]["faq_key"] == "oep_what_is" and "reflection_set" not in slots


@pytest.mark.parametrize("form, slot", [("share_form", "share_choice"), ("reflection_form", "q1"),
                                        ("reflection_form", "reflection_set"), ("team_prompt_form", "prompt_reply")])
def test_a_slot_reset_to_none_is_not_counted_as_an_unusable_reply(seeded, pat, form, slot):
    from actions.reflection_actions import ValidateReflectionForm, ValidateShareForm
    from actions.team_actions import ValidateTeamPromptForm
    action = {"share_form": ValidateShareForm, "reflection_form": ValidateReflectionForm,
              "team_prompt_form": ValidateTeamPromptForm}[form]()
    state = {"share_pending": 1.0, "prompt_draft": "{}", **start(pat)} if slot == "q1" else \
        {"share_pending": 1.0, "prompt_draft": "{}"}
    msgs, slots, _ = run(action, make_tracker(pat, "x", slots={**state, slot: None}, loop=form, just_set=[slot]))
    assert msgs == [] and not slots.get("step_retries")


def test_asking_again_to_reflect_at_the_set_step_is_not_saved_as_an_answer(seeded, pat):
    msgs, slots, _ = run(ActionFlowAside(), make_tracker(pat, "I'd like to do a reflection please",
                                                         intent="start_reflection", requested="reflection_set"))
    assert "already in the middle" in texts(msgs) and "reflection_set" not in slots
    assert saved_answers(seeded) == []
