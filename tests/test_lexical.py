"""The lexical ranker: BM25 over FAQ questions, examples and answers."""
from assistant.lexical import FaqDocument, LexicalIndex, stem, tokens

DOCS = [
    FaqDocument("missed_appointment_enforcement", "What happens when someone misses an appointment?",
                ("he didn't turn up for his appointment", "when do I take someone back to court"),
                "Decide whether the absence is acceptable; give a warning; a further failure means breach."),
    FaqDocument("seed_what_is", "What is SEED?", ("tell me about seed",),
                "Skills for Effective Engagement and Development."),
    FaqDocument("national_standards_2011", "What are National Standards 2011?", ("what is NS2011",),
                "A framework for offender engagement."),
    FaqDocument("responsible_officer", "Who should be the responsible officer?", ("who can be the RO",),
                "The responsible officer makes arrangements for the order's requirements."),
]


def test_stemming_and_stop_words():
    assert stem("appointments") == stem("appointment")
    assert tokens("What is the SEED?") == tokens("seed")  # stop words and punctuation dropped


def test_abbreviations_are_expanded():
    index = LexicalIndex(DOCS)
    assert index.rank("what do the NS say")[0][0] == "national_standards_2011"
    assert tokens("my PO") == [stem("probation"), stem("officer")]


def test_the_right_faq_ranks_first_even_with_typos():
    index = LexicalIndex(DOCS)
    assert index.rank("my lad keeps missing appointmnets")[0][0] == "missed_appointment_enforcement"
    assert index.rank("whats seeed about")[0][0] == "seed_what_is"


def test_unknown_words_give_no_ranking():
    index = LexicalIndex(DOCS)
    assert index.rank("is it going to rain") == []
    assert index.rank("") == []


def test_scores_are_best_first_and_limited():
    index = LexicalIndex(DOCS)
    ranking = index.rank("appointment court officer engagement", limit=2)
    assert len(ranking) == 2 and ranking[0][1] >= ranking[1][1] > 0
