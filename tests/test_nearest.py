"""The nearest-example ranker: the same vectors as scikit-learn's char_wb TF-IDF, and rankings."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.lexical import FaqDocument
from assistant.nearest import (OUT_OF_SCOPE, NearestExamples, build_nearest, char_ngrams, nearest_ranking,
                               normalise, out_of_scope_examples)

DOCS = [
    FaqDocument("missed_appointment_enforcement", "What happens if someone misses an appointment?",
                ("what do I do when my case keeps missing appts", "DNA twice what now")),
    FaqDocument("oep_pilots", "What are the pilots?", ("which projects are being piloted", "list the OEP pilots")),
    FaqDocument("seed_what_is", "What is SEED?", ("tell me about SEED", "what does seed stand for")),
]
NEGATIVES = ("what's the weather tomorrow", "book me annual leave")


def test_ngrams_are_scikit_learns_char_wb():
    sk = pytest.importorskip("sklearn.feature_extraction.text")
    analyse = sk.TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()
    for text in ("a", "ab cd", "appointment", "DNA twice what now", "  spaced   out  "):
        assert char_ngrams(text.lower()) == analyse(text)


texts = st.text(alphabet="abcdeoprst ?'-0", min_size=0, max_size=40)


@settings(max_examples=60, deadline=None)
@given(examples=st.lists(texts, min_size=2, max_size=12), query=texts)
def test_similarities_are_scikit_learns_cosine(examples, query):
    """Generated example sets and queries: the same similarity to every example."""
    sk = pytest.importorskip("sklearn.feature_extraction.text")
    normalised = [normalise(t) for t in examples]
    ranker = NearestExamples((t, str(i)) for i, t in enumerate(examples))
    kept = [n for n in normalised if char_ngrams(n)]
    if not kept or not char_ngrams(normalise(query)):
        return
    vectoriser = sk.TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectoriser.fit_transform(kept)
    expected = (matrix @ vectoriser.transform([normalise(query)]).T).toarray().ravel()
    ours = ranker.similarities(query)
    for i, value in enumerate(expected):
        assert ours.get(i, 0.0) == pytest.approx(value, abs=1e-9)


def test_the_nearest_phrasing_ranks_its_faq_first_with_typos():
    ranker = build_nearest(DOCS, NEGATIVES)
    ranking = ranker.rank("my guy keeps misssing his apointments")
    assert ranking[0][0] == "missed_appointment_enforcement"
    assert [s for _, s in ranking] == sorted((s for _, s in ranking), reverse=True)
    assert len({k for k, _ in ranking}) == len(ranking)  # one entry per key: its nearest example


def test_negatives_rank_as_out_of_scope():
    ranker = build_nearest(DOCS, NEGATIVES)
    assert ranker.rank("whats the weather like tomorrow")[0][0] == OUT_OF_SCOPE
    assert nearest_ranking(ranker, "zzzz qqqq") == []          # no shared n-gram
    assert nearest_ranking(None, "what is seed") == []


def test_training_data_out_of_scope_examples_are_the_default_negatives():
    negatives = out_of_scope_examples()
    assert len(negatives) > 50 and all(isinstance(t, str) and t for t in negatives)
    ranker = build_nearest(DOCS)
    assert ranker.labels.count(OUT_OF_SCOPE) == len(negatives)
