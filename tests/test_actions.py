"""Custom actions with CollectingDispatcher and real Tracker objects, against a real database."""
import asyncio

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sqlalchemy import func, select

from actions.actions import ActionAnswerFaq, ActionDecline, ActionDefaultFallback
from assistant.db import session_scope
from assistant.models import AnswerLog, Faq, UnansweredQuestion
from assistant.replies import DECLINE_TEXT, SUGGEST_TEXT, UNAVAILABLE_TEXT
from tests.conftest import ROOT


def parse(text, intent="faq", intent_conf=0.99, ranking=(), entities=(), message_id="m1"):
    """Rasa-shaped parse data for a message."""
    return {
        "text": text,
        "message_id": message_id,
        "intent": {"name": intent, "confidence": intent_conf},
        "intent_ranking": [{"name": intent, "confidence": intent_conf}],
        "entities": list(entities),
        "response_selector": {"faq": {
            "response": {"intent_response_key": f"faq/{ranking[0][0]}" if ranking else None},
            "ranking": [{"intent_response_key": f"faq/{k}", "confidence": c} for k, c in ranking],
        }},
    }


def tracker(latest, sender="1"):
    return Tracker(sender, {}, latest, [{"event": "user", "text": latest["text"], "parse_data": latest}],
                   False, None, {}, "action_listen")


def run(action, latest, sender="1"):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker(latest, sender), {}))
    return dispatcher.messages, events


def count(settings, model, *where):
    with session_scope(settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_answer_comes_from_the_database_with_its_key(seeded, make_user):
    uid, _, _ = make_user("pat")
    messages, events = run(ActionAnswerFaq(), parse("what is seed", ranking=[("seed_what_is", 0.95)]), str(uid))
    assert events == []
    [msg] = messages
    custom = msg["custom"]
    assert custom["faq_key"] == "seed_what_is"
    assert "Skills for Effective Engagement and Development" in custom["text"]
    assert custom["source"] and custom["answer_id"] == "m1"
    assert count(seeded, AnswerLog, AnswerLog.answer_id == "m1", AnswerLog.user_id == uid) == 1


def test_an_edited_answer_is_used_at_once(seeded):
    with session_scope(seeded.database_url) as s:
        s.scalars(select(Faq).where(Faq.key == "omfq")).one().answer = "Edited **OMFQ** answer."
    messages, _ = run(ActionAnswerFaq(), parse("omfq?", ranking=[("omfq", 0.9)]))
    assert messages[0]["custom"]["text"] == "Edited **OMFQ** answer."


def test_a_button_press_answers_the_chosen_key(seeded):
    latest = parse('/faq{"faq_key": "desistance"}', ranking=[("omfq", 0.2)],
                   entities=[{"entity": "faq_key", "value": "desistance"}])
    messages, _ = run(ActionAnswerFaq(), latest)
    assert messages[0]["custom"]["faq_key"] == "desistance"


def test_low_confidence_offers_up_to_three_suggestions_and_is_stored(seeded, make_user):
    uid, _, _ = make_user("sam")
    # four close, all above the suggest threshold and below the answer thresholds: only three are offered
    ranking = [("discretion_limits", 0.39), ("discretion_what_is", 0.36), ("discretion_support", 0.33),
               ("recording_judgement", 0.31)]
    messages, _ = run(ActionAnswerFaq(), parse("can I decide anything?", ranking=ranking), str(uid))
    [msg] = messages
    assert msg["text"] == SUGGEST_TEXT
    assert [b["payload"] for b in msg["buttons"]] == [
        '/faq{"faq_key": "discretion_limits"}', '/faq{"faq_key": "discretion_what_is"}',
        '/faq{"faq_key": "discretion_support"}']
    assert msg["buttons"][0]["title"] == "What are the limits of my discretion?"
    with session_scope(seeded.database_url) as s:
        row = s.scalars(select(UnansweredQuestion)).one()
        assert (row.text, row.reason, row.user_id, row.top_key) == (
            "can I decide anything?", "low_confidence", uid, "discretion_limits")


def test_out_of_scope_is_declined_politely_and_stored(seeded):
    latest = parse("what's the weather", intent="out_of_scope", ranking=[("omfq", 0.9)])
    messages, _ = run(ActionDecline(), latest)
    assert messages[0]["text"] == DECLINE_TEXT
    assert "Probation Rules" in DECLINE_TEXT
    assert count(seeded, UnansweredQuestion, UnansweredQuestion.reason == "declined") == 1


def test_nothing_close_enough_is_declined(seeded):
    messages, _ = run(ActionAnswerFaq(), parse("zzz", intent="nlu_fallback", ranking=[("omfq", 0.05)]))
    assert messages[0]["text"] == DECLINE_TEXT


def test_a_replayed_action_stores_nothing_twice(seeded):
    latest = parse("blah", intent="out_of_scope", message_id="same-id")
    run(ActionDecline(), latest)
    run(ActionDecline(), latest)
    assert count(seeded, UnansweredQuestion) == 1
    answer = parse("what is seed", ranking=[("seed_what_is", 0.95)], message_id="a1")
    run(ActionAnswerFaq(), answer)
    run(ActionAnswerFaq(), answer)
    assert count(seeded, AnswerLog) == 1


def test_unknown_sender_is_stored_without_a_user(seeded):
    run(ActionDecline(), parse("blah", intent="out_of_scope"), sender="not-a-user")
    with session_scope(seeded.database_url) as s:
        assert s.scalars(select(UnansweredQuestion.user_id)).one() is None


def test_dialogue_fallback_never_answers_outright(seeded):
    messages, _ = run(ActionDefaultFallback(), parse("seed?", ranking=[("seed_what_is", 0.99)]))
    assert messages[0]["text"] == SUGGEST_TEXT


def test_a_database_error_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", f"sqlite:///{tmp_path}/missing-tables.db")
    from assistant.config import get_settings
    get_settings.cache_clear()
    messages, events = run(ActionAnswerFaq(), parse("seed", ranking=[("seed_what_is", 0.99)]))
    get_settings.cache_clear()
    assert messages[0]["text"] == UNAVAILABLE_TEXT and events == []


def test_domain_actions_match_the_registered_actions():
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    custom = {a for a in domain["actions"] if not a.startswith("utter_")}
    assert custom == set(executor.actions)
