"""The spaCy pipeline: official packages only, lemmas from lookup tables, programme terms."""
import json

import pytest
import spacy

from assistant.nlp import PROGRAMME_TERM, build_to_disk


@pytest.fixture(scope="module")
def nlp(tmp_path_factory):
    out = build_to_disk(tmp_path_factory.mktemp("spacy") / "spacy-en")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["pipeline"] == ["lemmatizer", "entity_ruler"]
    return spacy.load(out, disable=["parser"])  # as Rasa's SpacyNLP loads it


def test_lemmas_come_from_the_lookup_tables(nlp):
    assert [t.lemma_ for t in nlp("offenders were running appointments")] == [
        "offender", "be", "run", "appointment"]


@pytest.mark.parametrize("text, term", [
    ("what is NS2011", "National Standards"),
    ("tell me about national standards 2011", "National Standards"),
    ("is the omfq-r useful", "OMFQ"),
    ("what is the reflective supervision model", "RSM"),
    ("SEED training", "SEED"),
    ("what does the OEP do", "OEP"),
    ("sentence planning approaches", "SPA"),
])
def test_programme_terms_are_recognised(nlp, text, term):
    ents = [(e.label_, e.ent_id_) for e in nlp(text.lower()).ents]
    assert (PROGRAMME_TERM, term) in ents


def test_ordinary_text_has_no_programme_terms(nlp):
    assert list(nlp("how often should i see the people i supervise").ents) == []
