"""The FAQ content: complete against the catalogue, valid, not copied from the dev set,
in sync with the generated NLU data, and loaded into / exported from the database."""
import re

import pytest
import yaml
from sqlalchemy import select

from assistant.cli_setup import NLU_FILE
from assistant.content import (
    ContentError, export_faqs, load_faq_file, normalise, parse_faqs, render_nlu, seed_faqs,
)
from assistant.db import session_scope
from assistant.models import Faq
from tests.conftest import ROOT, SHARED

CONTENT = ROOT / "content" / "faqs.yml"


@pytest.fixture(scope="module")
def items():
    return load_faq_file(CONTENT)


def test_every_catalogue_topic_has_an_answer_source_and_15_examples(items):
    # the topics to add next are answered too (issue 10); they move into the catalogue later
    catalogue = [entry for name in ("faq_catalogue.yml", "faq_catalogue_next.yml")
                 for entry in yaml.safe_load((SHARED / "content" / name).read_text())]
    by_key = {i.key: i for i in items}
    assert {c["key"] for c in catalogue} == set(by_key)
    for entry in catalogue:
        item = by_key[entry["key"]]
        assert item.category == entry["category"]
        assert len(item.examples) >= 15, item.key
        assert item.source.strip()
        sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z*(\"'])", item.answer) if s.strip()]
        assert 2 <= len(sentences) <= 6 or item.key in {"oep_aims", "oep_projects", "risk_need_responsivity"}, \
            (item.key, len(sentences))


def test_no_example_is_copied_from_the_dev_set(items):
    dev = yaml.safe_load((SHARED / "eval" / "faq_dev.yml").read_text())["questions"]
    dev_texts = {normalise(q["text"]) for q in dev}
    examples = {normalise(e) for i in items for e in i.examples}
    nlu_texts = set()
    for path in (ROOT / "nlu_data").glob("*.yml"):
        nlu_texts |= {normalise(line[6:]) for line in path.read_text().splitlines() if line.startswith("    - ")}
    assert not (examples | nlu_texts) & dev_texts


def test_generated_nlu_data_is_in_sync_with_the_content(items):
    assert NLU_FILE.read_text(encoding="utf-8") == render_nlu(items)


def test_unverified_facts_are_left_out(items):
    by_key = {i.key: i.answer for i in items}
    # the catalogue says this timescale is not confirmed: the answer must not state one
    assert "can't confirm" in by_key["fewer_timescale_targets"]
    assert "paragraph 6" not in by_key["missed_appointment_enforcement"]
    assert "para 6" not in by_key["missed_appointment_enforcement"]
    # issue 10: suspended sentence orders are Schedule 12 (para 4), and an information may be laid instead
    assert "Schedule 12, para" in by_key["missed_appointment_enforcement"]
    assert "lay an information" in by_key["missed_appointment_enforcement"]
    # facts the programme's documents and the cited studies don't support are left out
    assert "Jolliffe" not in by_key["omfq"] and "Ainslie" not in by_key["rsm_what_is"]
    assert "482" not in by_key["seed_evidence"]


@pytest.mark.parametrize("raw, message", [
    ("not a list", "must be a list"),
    ([{"key": "Bad Key", "category": "x1", "question": "q??", "answer": "a" * 20, "source": "src",
       "examples": ["hello"]}], "key"),
    ([{"key": "ok_key", "category": "cat", "question": "What?", "answer": "", "source": "src",
       "examples": ["hi there"]}], "answer"),
])
def test_invalid_content_is_reported(raw, message):
    with pytest.raises(ContentError, match=message):
        parse_faqs(raw)


def test_duplicate_keys_and_examples_are_reported():
    faq = {"key": "dup_key", "category": "cat", "question": "What is it?", "answer": "An answer. Two.",
           "source": "src", "examples": ["what is it"]}
    with pytest.raises(ContentError, match="duplicate key"):
        parse_faqs([faq, dict(faq)])
    other = dict(faq, key="other_key")
    with pytest.raises(ContentError, match="is in both"):
        parse_faqs([faq, other])


def test_seed_is_idempotent_and_keeps_edits_unless_overwrite(settings, items):
    with session_scope(settings.database_url) as s:
        assert seed_faqs(items, session=s)["created"] == len(items)
    with session_scope(settings.database_url) as s:
        faq = s.scalars(select(Faq).where(Faq.key == "seed_what_is")).one()
        faq.answer = "Edited in the web app."
    with session_scope(settings.database_url) as s:
        counts = seed_faqs(items, session=s)
        assert counts == {"created": 0, "updated": 0, "unchanged": len(items)}
        assert s.scalars(select(Faq.answer).where(Faq.key == "seed_what_is")).one() == "Edited in the web app."
    with session_scope(settings.database_url) as s:
        # overwrite replaces only what differs from the file: the one FAQ edited above
        assert seed_faqs(items, session=s, overwrite=True) == {"created": 0, "updated": 1,
                                                                "unchanged": len(items) - 1}
        assert "Skills for Effective Engagement" in s.scalars(
            select(Faq.answer).where(Faq.key == "seed_what_is")).one()


def test_export_round_trips(settings, items):
    with session_scope(settings.database_url) as s:
        seed_faqs(items, session=s)
        exported = export_faqs(session=s)
    assert parse_faqs(exported) == items
