"""Pure decisions about off-script messages in a flow (assistant/dialogue.py)."""
import pytest
from hypothesis import given, settings, strategies as st

from assistant import dialogue
from assistant.dialogue import SetOption, choose_set, classify_aside, means_leave

SETS = [SetOption("what_so_what_now_what", "What? So what? Now what?", True),
        SetOption("gibbs", "Gibbs' reflective cycle"),
        SetOption("seed_engagement", "Engagement skills check-in (SEED)"),
        SetOption("quick_check", "Two-minute check")]


@pytest.mark.parametrize("text, key", [
    ("gibbs", "gibbs"), ("gibbs please", "gibbs"), ("Gibbs!", "gibbs"), ("use the gibbs questions", "gibbs"),
    ("what so what", "what_so_what_now_what"), ("What? So what? Now what?", "what_so_what_now_what"),
    ("2", "gibbs"), ("number 3", "seed_engagement"), ("the first one", "what_so_what_now_what"),
    ("second", "gibbs"), ("the last one", "quick_check"), ("4th", "quick_check"),
    ("the usual", "what_so_what_now_what"), ("default", "what_so_what_now_what"),
    ("you choose", "what_so_what_now_what"), ("two minute", "quick_check"), ("quick one", "quick_check"),
    ("SEED", "seed_engagement"), ("engagement skills", "seed_engagement"), ("quick_check", "quick_check"),
])
def test_a_set_is_chosen_by_typing(text, key):
    assert choose_set(text, SETS) == key


@pytest.mark.parametrize("text", ["", "check", "9", "hello", "stop", "what", "the one about feelings maybe",
                                  "3 or 4", "🙂"])
def test_unclear_choices_choose_nothing(text):
    assert choose_set(text, SETS) is None


@pytest.mark.parametrize("text, leave", [
    ("stop", True), ("forget it, I'll do this later", True), ("/leave", True),
    ("I'll do this later with him, we agreed to look at his housing and benefits next week instead", False),
])
def test_leave_only_when_short(text, leave):
    assert means_leave("leave", text) is leave
    assert means_leave("faq", text) is False


@pytest.mark.parametrize("intent, text, at_question, kind", [
    ("faq", "what is pro-social modelling?", True, "question"),
    ("faq", "he talked about his drinking and missed appointments", True, "answer"),
    ("faq", "missed appointments", False, "question"),
    ("greet", "hi", True, "chitchat"),
    ("greet", "hi, the session went well and he was on time for once", True, "answer"),
    ("thanks", "thanks", False, "chitchat"),
    ("help", "help", True, "chitchat"),
    ("start_reflection", "can I reflect on this morning?", True, "already_reflecting"),
    ("start_reflection", "we had a good session and reflected on his progress together over the months", True,
     "answer"),
    ("out_of_scope", "what's the weather like?", True, "question"),
    ("out_of_scope", "I felt tired and hungry", True, "answer"),
    ("inform", "/inform{\"reflection_set\": \"gibbs\"}", True, "stale_button"),
    ("affirm", "/affirm", True, "stale_button"),
    ("faq", "/faq{\"faq_key\": \"desistance\"}", True, "question"),
    ("prompt_team", "ask my team to reflect", False, "team_request"),
    ("prompt_team", "ask my team to reflect", True, "team_request"),
    ("prompt_team", "we talked about his team at work and how to reflect on it", True, "answer"),
])
def test_asides_are_classified(intent, text, at_question, kind):
    assert classify_aside(intent, text, answering_question=at_question).kind == kind


def test_content_and_payloads():
    assert not dialogue.has_content("?!... 🙂👍") and dialogue.has_content("ok")
    assert dialogue.is_payload('/inform{"reflection_set": "gibbs"}') and not dialogue.is_payload("a/b")
    assert dialogue.looks_like_reflection("he was late again but we agreed a plan")
    assert not dialogue.looks_like_reflection("how do I record a judgement?")
    assert not dialogue.looks_like_reflection("I'd like to do a reflection please")
    assert dialogue.looks_like_reflection("we reflected together on how far he has come since the summer, "
                                          "and he was proud of it")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["faq", "greet", "leave", "inform", "start_reflection", None]),
       st.booleans())
def test_no_text_breaks_the_decisions(text, intent, at_question):
    assert choose_set(text, SETS) in {None} | {s.key for s in SETS}
    kind = classify_aside(intent, text, answering_question=at_question).kind
    assert kind in {"question", "chitchat", "already_reflecting", "team_request", "stale_button", "answer"}
    if at_question and not dialogue.has_content(text) and not dialogue.is_payload(text):
        assert kind in {"answer", "chitchat", "question", "already_reflecting"}
    means_leave(intent, text)


@pytest.mark.parametrize("text", ["went well", "all good", "fine", "ok", "good session"])
def test_a_short_answer_the_nlu_reads_as_chitchat_is_kept_at_a_question(text):
    for intent in ("greet", "goodbye", "thanks"):
        assert classify_aside(intent, text, answering_question=True).kind == "answer"


@pytest.mark.parametrize("text, question", [("what so what", False), ("what is the OEP", True),
                                            ("what is the offender engagement programme?", True), ("gibbs?", True),
                                            ("the usual", False)])
def test_clear_questions(text, question):
    assert dialogue.is_clear_question(text) is question
