"""The answer / suggest / decline decision over Rasa's parse data."""
from assistant.answering import decide
from tests.test_actions import parse

T = {"answer_threshold": 0.5, "suggest_threshold": 0.2}


def test_confident_faq_is_answered():
    d = decide(parse("x", ranking=[("omfq", 0.8), ("seed_what_is", 0.1)]), **T)
    assert (d.kind, d.key) == ("answer", "omfq")


def test_score_combines_intent_and_key_confidence():
    d = decide(parse("x", intent_conf=0.5, ranking=[("omfq", 0.8), ("seed_what_is", 0.45)]), **T)
    # 0.5 x 0.8 = 0.40 is below the answer threshold; 0.5 x 0.45 = 0.225 still suggests
    assert d.kind == "suggest" and d.suggestions == ["omfq", "seed_what_is"]
    assert abs(d.confidence - 0.4) < 1e-9


def test_suggestions_are_capped_at_three():
    ranking = [(k, 0.3) for k in ("a_key", "b_key", "c_key", "d_key")]
    d = decide(parse("x", ranking=ranking), **T)
    assert d.kind == "suggest" and d.suggestions == ["a_key", "b_key", "c_key"]


def test_out_of_scope_intent_is_declined_even_if_a_key_scores():
    assert decide(parse("x", intent="out_of_scope", ranking=[("omfq", 0.99)]), **T).kind == "decline"


def test_nlu_fallback_never_answers_but_may_suggest():
    p = parse("x", intent="nlu_fallback", ranking=[("omfq", 0.9)])
    p["intent_ranking"].append({"name": "faq", "confidence": 0.35})
    d = decide(p, **T)
    assert d.kind == "suggest" and d.suggestions == ["omfq"]


def test_explicit_key_wins():
    p = parse("x", intent="faq", ranking=[], entities=[{"entity": "faq_key", "value": "omfq"}])
    assert (decide(p, **T).kind, decide(p, **T).key) == ("answer", "omfq")


def test_no_ranking_is_declined():
    p = parse("x", ranking=[])
    assert decide(p, **T).kind == "decline"
