"""Data minimisation: find identifiers of people on probation with spaCy Matcher rules
and mask them before anything is stored (tracker store, reflections, logs)."""
from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Tuple

LABELS = {
    "CASE_REF": ("case reference", "[case reference]"),
    "PNC": ("PNC number", "[PNC number]"),
    "PRISON_NO": ("prison number", "[prison number]"),
    "DOB": ("date of birth", "[date of birth]"),
    "PHONE": ("phone number", "[phone number]"),
    "EMAIL": ("email address", "[email address]"),
    "POSTCODE": ("postcode", "[postcode]"),
    "NAME": ("name", "[name]"),
}
TITLES = ["mr", "mrs", "ms", "miss", "mx", "dr", "mister", "mr.", "mrs.", "ms.", "mx.", "dr."]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
          "january", "february", "march", "april", "june", "july", "august", "september", "october",
          "november", "december"]
NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass
class MaskResult:
    """Masked text and what was found (label -> count)."""

    text: str
    found: Dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.found)

    def notice(self) -> str:
        """A kind explanation for the practitioner of what was hidden and why."""
        parts = []
        for label, count in self.found.items():
            name = LABELS[label][0]
            parts.append(f"{count} {name}{'es' if count > 1 and name.endswith('s') else 's' if count > 1 else ''}")
        listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        return (f"To protect the privacy of the people you work with, I hid {listed} before saving "
                "anything. You don't need to include details that identify someone here.")


def _patterns() -> List[Tuple[str, list]]:
    tok = lambda rx: {"TEXT": {"REGEX": rx}}  # noqa: E731
    day = {"TEXT": {"REGEX": r"^\d{1,2}(st|nd|rd|th)?$"}}
    month = {"LOWER": {"IN": MONTHS}}
    year = {"TEXT": {"REGEX": r"^(19|20)\d{2}$"}}
    return [
        ("CASE_REF", [tok(r"^[A-Za-z]\d{6}$")]),
        ("PNC", [tok(r"^(\d{2}|\d{4})/\d{1,7}[A-Za-z]$")]),
        ("PRISON_NO", [tok(r"^[A-Za-z]\d{4}[A-Za-z]{2}$")]),
        ("DOB", [tok(NUMERIC_DATE.pattern)]),
        ("DOB", [tok(r"^(19|20)\d{2}$"), {"TEXT": "-"}, tok(r"^\d{1,2}$"), {"TEXT": "-"}, tok(r"^\d{1,2}$")]),
        ("DOB", [tok(r"^\d{1,2}$"), {"TEXT": {"IN": ["-", "."]}}, tok(r"^\d{1,2}$"),
                 {"TEXT": {"IN": ["-", "."]}}, tok(r"^(\d{2}|\d{4})$")]),
        ("DOB", [day, month, {"TEXT": ",", "OP": "?"}, year]),
        ("DOB", [month, day, {"TEXT": ",", "OP": "?"}, year]),
        ("PHONE", [tok(r"^(\+44|0)\d{9,10}$")]),
        ("PHONE", [tok(r"^(\+44|0)\d{2,4}$"), tok(r"^\d{3,4}$"), tok(r"^\d{3,4}$")]),
        ("PHONE", [tok(r"^(\+44|0)\d{3,4}$"), tok(r"^\d{5,6}$")]),
        ("PHONE", [{"TEXT": "+44"}, tok(r"^\(?0?\)?\d{2,4}$"), tok(r"^\d{3,4}$"), tok(r"^\d{3,4}$"),
                   ]),
        ("PHONE", [{"TEXT": "+44"}, tok(r"^\d{4}$"), tok(r"^\d{6}$")]),
        ("EMAIL", [{"LIKE_EMAIL": True}]),
        ("POSTCODE", [tok(r"^(?i:[A-Z]{1,2}\d[A-Z\d]?)$"), tok(r"^(?i:\d[A-Z]{2})$")]),
        ("NAME", [{"LOWER": {"IN": TITLES}}, {"TEXT": ".", "OP": "?"},
                  {"TEXT": {"REGEX": r"^[A-Za-z][A-Za-z'\u2019-]+$"}, "IS_STOP": False},
                  {"IS_TITLE": True, "IS_ALPHA": True, "OP": "?"}]),
    ]


def _import_spacy():
    """Import spaCy without letting thinc pull in TensorFlow.

    thinc imports TensorFlow whenever it is installed (Rasa's is), ~500 MB and seconds of
    start-up in the web app and the action server, which only need a tokenizer and a
    Matcher. While spaCy is first imported, ``import tensorflow`` fails (thinc expects
    that and carries on without it); afterwards TensorFlow imports as usual."""
    if "thinc" in sys.modules or "tensorflow" in sys.modules:
        import spacy

        return spacy
    sys.modules["tensorflow"] = None  # type: ignore[assignment]  # ImportError on import
    try:
        import spacy
    finally:
        if "tensorflow" in sys.modules and sys.modules["tensorflow"] is None:
            del sys.modules["tensorflow"]
    return spacy


@lru_cache(maxsize=1)
def _matcher():
    spacy = _import_spacy()
    from spacy.matcher import Matcher

    from spacy.util import compile_infix_regex

    nlp = spacy.blank("en")
    # also split on brackets, angle brackets, quotes and "=" inside a token, so an
    # identifier wrapped in markup or code (alert('X123456')) is still one token
    extra = [r"[()<>\[\]{}\"=;]", r"(?<=[(\s])'", r"'(?=[)\s,.;])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(list(nlp.Defaults.infixes) + extra).finditer
    matcher = Matcher(nlp.vocab)
    for label, pattern in _patterns():
        matcher.add(label, [pattern])
    return nlp, matcher


def _plausible_birth_date(text: str, label: str, doc_text: str) -> bool:
    """Numeric dates count as dates of birth only if the year is 10+ years ago."""
    if label != "DOB":
        return True
    years = re.findall(r"(?<!\d)(\d{4}|\d{2})(?!\d)", text)
    if not years:
        return True
    year = int(years[-1] if len(years[-1]) == 4 or not ISO_DATE.match(text) else years[0])
    if ISO_DATE.match(text):
        year = int(text[:4])
    elif len(years[-1]) == 2:
        year = 1900 + year if year > dt.date.today().year % 100 else 2000 + year
    return year <= dt.date.today().year - 10


def mask(text: str) -> MaskResult:
    """Mask identifiers in ``text``; ordinary text is returned unchanged."""
    if not text:
        return MaskResult(text or "")
    nlp, matcher = _matcher()  # imports spaCy (see _import_spacy) before anything below does
    from spacy.util import filter_spans

    doc = nlp(text)
    spans = []
    for match_id, start, end in matcher(doc):
        label = nlp.vocab.strings[match_id]
        span = doc[start:end]
        if label == "NAME" and end - start >= 3 and not doc[end - 1].is_title:
            span = doc[start:end - 1]
        if _plausible_birth_date(span.text, label, text):
            spans.append(doc.char_span(span.start_char, span.end_char, label=label))
    spans = filter_spans([s for s in spans if s is not None])
    found: Counter = Counter()
    out = text
    for span in sorted(spans, key=lambda s: s.start_char, reverse=True):
        out = out[:span.start_char] + LABELS[span.label_][1] + out[span.end_char:]
        found[span.label_] += 1
    order = list(LABELS)
    return MaskResult(out, dict(sorted(found.items(), key=lambda kv: order.index(kv[0]))))
