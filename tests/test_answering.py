"""The answer / suggest / decline decision over Rasa's parse data."""
from dataclasses import replace

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


# --- the lexical ranker's agreement, modes and thresholds from Settings -------------------------------

from assistant.answering import Thresholds, thresholds_from  # noqa: E402

LEX = Thresholds(answer=0.8, suggest=0.2, combined=1.0, lexical_weight=1.0, lexical_full=5.0, disagree_margin=0.5,
                 lexical=0.55, lexical_min=1.0, interruption=0.6)


def lex(*pairs):
    return [{"key": k, "score": s} for k, s in pairs]


def test_both_rankers_first_answers_once_the_combined_score_is_high_enough():
    p = parse("x", ranking=[("omfq", 0.5), ("seed_what_is", 0.3)])
    # P(faq) 0.99: 0.495 + 1.0 x (6/6) for omfq; a weak top BM25 score counts less (3 of 5: 0.6)
    d = decide(p, thresholds=LEX, lexical=lex(("omfq", 6.0), ("seed_what_is", 2.0)))
    assert (d.kind, d.key) == ("answer", "omfq") and abs(d.confidence - 0.495) < 1e-6  # the selector's score
    assert decide(p, thresholds=LEX, lexical=lex(("omfq", 3.0))).kind == "answer"     # 0.495 + 0.6
    assert decide(p, thresholds=LEX, lexical=lex(("omfq", 2.0))).kind == "suggest"    # 0.495 + 0.4 < 1.0


def test_when_the_rankers_disagree_only_a_clear_lead_answers():
    p = parse("x", ranking=[("omfq", 0.5), ("seed_what_is", 0.3)])
    # seed_what_is: 0.3 + 1.0 = 1.3; omfq: 0.5 + 0.5 = 1.0: lead 0.3 < 0.5
    assert decide(p, thresholds=LEX, lexical=lex(("seed_what_is", 6.0), ("omfq", 3.0))).kind == "suggest"
    # the lexical ranker's key wins with a clear lead: 1.3 against 0.5 + 0.1 = 0.6
    d = decide(p, thresholds=LEX, lexical=lex(("seed_what_is", 6.0), ("omfq", 0.6)))
    assert (d.kind, d.key) == ("answer", "seed_what_is")
    assert decide(p, thresholds=LEX, lexical=[]).kind == "suggest"


def test_combined_ranking_adds_the_relative_lexical_score():
    from assistant.answering import combined_ranking

    ranked = combined_ranking([("omfq", 0.5), ("seed_what_is", 0.2)], lex(("seed_what_is", 10.0), ("spa", 5.0)), LEX)
    assert ranked == [("seed_what_is", 1.2), ("omfq", 0.5), ("spa", 0.5)]
    assert combined_ranking([("omfq", 0.5)], [], LEX) == [("omfq", 0.5)]


def test_a_very_confident_selector_still_needs_the_lexical_ranker_not_to_disagree():
    p = parse("x", ranking=[("omfq", 0.9)])
    assert decide(p, thresholds=LEX, lexical=lex(("seed_what_is", 6.0))).kind == "suggest"  # 1.0 vs 0.9
    assert decide(p, thresholds=LEX, lexical=None).kind == "answer"  # no lexical index: the selector alone


def test_fallback_mode_never_answers_outright():
    p = parse("x", ranking=[("omfq", 0.99)])
    d = decide(p, thresholds=LEX, lexical=lex(("omfq", 9.0)), mode="fallback")
    assert d.kind == "suggest" and d.suggestions == ["omfq"]


def test_interruption_mode_answers_only_clear_faq_questions_and_never_suggests():
    agree = lex(("omfq", 9.0), ("seed_what_is", 1.0))
    assert decide(parse("x", ranking=[("omfq", 0.7)]), thresholds=LEX, lexical=agree, mode="interruption").kind == "answer"
    assert decide(parse("x", ranking=[("omfq", 0.5)]), thresholds=LEX, lexical=agree, mode="interruption").kind == "decline"
    assert decide(parse("x", intent="inform", ranking=[("omfq", 0.99)]), thresholds=LEX, lexical=agree,
                  mode="interruption").kind == "decline"


def test_other_intents_are_not_faq_questions():
    assert decide(parse("hello", intent="greet", ranking=[("omfq", 0.9)]), **T).kind == "decline"


def test_thresholds_come_from_settings():
    from assistant.config import Settings

    s = Settings(env="test", answer_threshold=0.7, suggest_threshold=0.3, combined_answer_threshold=1.1,
                 lexical_weight=1.5, lexical_full_score=8.0, disagree_margin=0.4,
                 lexical_share_threshold=0.6, lexical_min_score=2.0, interruption_answer_threshold=0.65,
                 suggest_alone_threshold=0.55, suggest_lexical_top=2, nearest_min_similarity=0.45,
                 nearest_margin=0.07)
    assert thresholds_from(s) == Thresholds(answer=0.7, suggest=0.3, combined=1.1, lexical_weight=1.5,
                                            lexical_full=8.0, disagree_margin=0.4, lexical=0.6, lexical_min=2.0,
                                            interruption=0.65, suggest_alone=0.55, suggest_lexical_top=2,
                                            nearest_min=0.45, nearest_margin=0.07)


# --- "Did you mean": a scattered selector score needs a word match ---------------------------------

SUGGEST = replace(LEX, suggest=0.3, suggest_alone=0.5, suggest_lexical_top=3)


def test_a_weak_selector_key_is_offered_only_with_a_word_match_among_the_lexical_top_keys():
    p = parse("who wrote romeo and juliet", ranking=[("recording_judgement", 0.36), ("omfq", 0.31)])
    assert decide(p, thresholds=SUGGEST, lexical=lex(("implementation_plans", 3.4))).kind == "decline"
    assert decide(p, thresholds=SUGGEST, lexical=[]).kind == "decline"  # no word of it in any FAQ
    d = decide(p, thresholds=SUGGEST, lexical=lex(("spa", 3.0), ("seed_what_is", 2.0), ("omfq", 1.0)))
    assert d.kind == "suggest" and d.suggestions == ["omfq"]  # third lexical key: matched
    four = lex(("spa", 3.0), ("seed_what_is", 2.0), ("rsm_what_is", 1.5), ("omfq", 1.0))
    assert decide(p, thresholds=SUGGEST, lexical=four).kind == "decline"  # fourth: not among the top 3


def test_a_fairly_sure_selector_key_is_offered_without_a_word_match():
    p = parse("x", ranking=[("omfq", 0.6), ("spa", 0.35)])
    d = decide(p, thresholds=SUGGEST, lexical=lex(("seed_what_is", 0.5)))
    assert d.kind == "suggest" and d.suggestions == ["omfq"]
    assert decide(p, thresholds=SUGGEST, lexical=None).suggestions == ["omfq", "spa"]  # no index: as before


# --- the nearest example question: a third ranker that does not move with training ---------------

NEAR = replace(LEX, nearest_min=0.4, nearest_margin=0.05)


def test_a_clear_lexical_key_with_the_nearest_example_agreeing_is_answered():
    # the selector prefers another key (0.51 vs 0.34): the combined rule does not answer
    p = parse("What are the four pilots?", ranking=[("rsm_what_is", 0.51), ("oep_pilots", 0.34)])
    clear = lex(("oep_pilots", 8.2), ("rsm_what_is", 6.0))  # share 0.58
    assert decide(p, thresholds=NEAR, lexical=clear).kind == "suggest"
    d = decide(p, thresholds=NEAR, lexical=clear, nearest=lex(("oep_pilots", 0.73), ("rsm_what_is", 0.47)))
    assert (d.kind, d.key) == ("answer", "oep_pilots")
    # a function is called for the ranking only when the rule is reached
    assert decide(p, thresholds=NEAR, lexical=clear,
                  nearest=lambda: lex(("oep_pilots", 0.73))).kind == "answer"


def test_the_nearest_example_rule_needs_every_condition():
    p = parse("x", ranking=[("rsm_what_is", 0.51), ("oep_pilots", 0.34)])
    clear = lex(("oep_pilots", 8.2), ("rsm_what_is", 6.0))  # share 0.58
    near = lex(("oep_pilots", 0.73), ("rsm_what_is", 0.47))
    cases = [
        (clear, lex(("rsm_what_is", 0.73), ("oep_pilots", 0.6))),      # nearest: another key
        (clear, lex(("out_of_scope", 0.8), ("oep_pilots", 0.73))),     # nearest: an out-of-scope example
        (clear, lex(("oep_pilots", 0.39))),                             # not similar enough
        (clear, lex(("oep_pilots", 0.50), ("rsm_what_is", 0.47))),     # not clearly ahead
        (lex(("oep_pilots", 0.9)), near),                               # lexical score under lexical_min
        (lex(("oep_pilots", 8.2), ("rsm_what_is", 8.0)), near),         # lexical share under 0.55
        (clear, []), (clear, None),
    ]
    for lexical, nearest in cases:
        assert decide(p, thresholds=NEAR, lexical=lexical, nearest=nearest).kind != "answer", (lexical, nearest)


def test_the_nearest_example_never_answers_outside_chat_or_for_other_intents():
    clear = lex(("oep_pilots", 8.2), ("rsm_what_is", 6.0))  # share 0.58
    near = lex(("oep_pilots", 0.73))
    p = parse("x", ranking=[("rsm_what_is", 0.51), ("oep_pilots", 0.34)])
    for mode in ("fallback", "interruption"):
        assert decide(p, thresholds=NEAR, lexical=clear, nearest=near, mode=mode).kind != "answer"
    for intent in ("nlu_fallback", "out_of_scope", "greet"):
        q = parse("x", intent=intent, ranking=[("rsm_what_is", 0.51), ("oep_pilots", 0.34)])
        assert decide(q, thresholds=NEAR, lexical=clear, nearest=near).kind != "answer"
    called = []
    # a question the combined rule answers never computes the nearest ranking
    sure = parse("x", ranking=[("oep_pilots", 0.9)])
    assert decide(sure, thresholds=NEAR, lexical=clear, nearest=lambda: called.append(1) or near).kind == "answer"
    assert called == []
