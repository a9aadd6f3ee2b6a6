"""decide_for: the function the actions call (parse + lexical ranker over the database's FAQs)."""
import pytest
from sqlalchemy import select

from assistant import faq_decision
from assistant.db import session_scope
from assistant.models import Faq, FaqExample
from tests.test_actions import parse


def test_the_lexical_index_is_built_from_the_database_and_rebuilt_when_content_changes(seeded):
    with session_scope(seeded.database_url) as s:
        first = faq_decision.lexical_index(session=s)
        assert first is faq_decision.lexical_index(session=s)  # cached
        assert first.rank("offender management feedback questionnaire")[0][0] == "omfq"
        assert first.rank("zanzibarian pelicans") == []
        near = faq_decision.nearest_ranker(session=s)
        assert near is faq_decision.nearest_ranker(session=s)
        assert near.rank("zanzibarian pelicans")[0][0] != "omfq"
    with session_scope(seeded.database_url) as s:
        faq = s.scalars(select(Faq).where(Faq.key == "omfq")).one()
        faq.examples.append(FaqExample(text="zanzibarian pelicans"))
    with session_scope(seeded.database_url) as s:
        second = faq_decision.lexical_index(session=s)
        assert second is not first and second.rank("zanzibarian pelicans")[0][0] == "omfq"
        assert faq_decision.nearest_ranker(session=s).rank("zanzibarian pelican")[0] == ("omfq", pytest.approx(0.86, abs=0.1))


def test_decide_for_uses_the_settings_thresholds_and_the_mode(seeded):
    strict = seeded.copy(update={"answer_threshold": 0.95, "combined_answer_threshold": 1.0, "lexical_weight": 1.0,
                                 "lexical_full_score": 1.0, "disagree_margin": 5.0, "lexical_share_threshold": 0.5,
                                 "lexical_min_score": 0.0, "suggest_threshold": 0.2,
                                 "nearest_min_similarity": 1.01})  # the nearest-example rule off
    agreeing = parse("what is the offender management feedback questionnaire", ranking=[("omfq", 0.6), ("seed_what_is", 0.3)])
    disagreeing = parse("what is the offender management feedback questionnaire",
                        ranking=[("seed_what_is", 0.6), ("omfq", 0.3)])
    with session_scope(seeded.database_url) as s:
        assert faq_decision.decide_for(agreeing, session=s, settings=strict).kind == "answer"
        assert faq_decision.decide_for(disagreeing, session=s, settings=strict).kind == "suggest"
        # with it on, the nearest example question (the FAQ's own question) settles the disagreement
        on = strict.copy(update={"nearest_min_similarity": 0.4, "nearest_margin": 0.05})
        d = faq_decision.decide_for(disagreeing, session=s, settings=on)
        assert (d.kind, d.key) == ("answer", "omfq")
        assert faq_decision.decide_for(agreeing, session=s, settings=strict, mode="fallback").kind == "suggest"
