"""The masking corpus is big enough and masking reaches its targets on it (issue 9 item 3)."""
from assistant import masking_eval


def test_the_corpus_has_enough_identifiers_of_every_type_and_ordinary_sentences():
    corpus = masking_eval.load_corpus()
    assert len(corpus["identifiers"]) >= masking_eval.MIN_IDENTIFIERS
    assert len(corpus["ordinary"]) >= masking_eval.MIN_ORDINARY
    kinds = {item["type"] for item in corpus["identifiers"]}
    assert kinds == set(masking_eval.masking.LABELS)


def test_recall_and_untouched_reach_their_targets_and_staff_names_are_kept():
    r = masking_eval.evaluate()
    assert r["recall"]["overall"] >= masking_eval.TARGETS["recall"], r["misses"]
    assert r["untouched"] >= masking_eval.TARGETS["untouched"], r["false_positives"]
    assert all(r["recall"][k] >= 0.9 for k in masking_eval.masking.LABELS), r["recall"]
    assert r["faq_untouched"] >= 0.99 and r["staff_kept"] == 1.0
