"""Data minimisation: find identifiers of people on probation and mask them before
anything is stored (tracker store, reflections, logs).

Masked: case reference numbers (X123456), PNC numbers (2004/0581208C and variants),
prison numbers (A1234BC, A 1234 BC), dates of birth (a full date near "born", "DOB",
"date of birth" or "birthday", or any full date before 2000), phone numbers (found by
``phonenumbers``, Google's libphonenumber), email addresses (also written out, "jo dot
smith at example dot com"), postcodes, and names: after a title (Mr, Mrs, Ms, Miss, Mx,
Dr, Prof), and a known first name with or without a surname (first names from Faker's
lists for the UK, Ireland, the US, India, Pakistan, Nigeria, Ghana, Kenya and Poland, less
those also used as ordinary words, judged by spaCy's lookup word frequencies).

Not masked: names of staff (``keep_names``: the web app passes every active user's name,
so a manager can write "ask Alex Rowan to reflect"); a surname or an unlisted first name
without a title; dates without a year, or from 2000 on without a birth cue; addresses
other than the postcode; anything else that might identify someone.

Measured on content/masking_corpus.yml by assistant/masking_eval.py (``make bench``)."""
from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, FrozenSet, Iterable, List, Tuple

import regex as re

from assistant.phones import find_phones

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
PRIORITY = ["EMAIL", "PNC", "PRISON_NO", "CASE_REF", "DOB", "PHONE", "POSTCODE", "NAME"]
NAME_LOCALES = ("en_GB", "en_IE", "en_US", "en_IN", "en_PK", "en_NG", "yo_NG", "ha_NG", "tw_GH", "en_KE", "pl_PL")
# words after "Ms"/"MS" that make a product, not a person ("Ms Teams")
PRODUCTS = {"teams", "word", "excel", "outlook", "forms", "office", "access", "edge", "project", "powerpoint",
            "onenote", "sharepoint", "planner", "bookings", "stream", "dynamics", "windows", "paint"}
# a capitalised word after a first name that makes a place or body, not a person ("Victoria Street")
PLACES = {
    "street", "road", "lane", "avenue", "square", "court", "house", "centre", "center", "station", "hospital",
    "park", "place", "way", "close", "drive", "crescent", "terrace", "building", "trust", "unit", "ward", "college",
    "school", "university", "line", "bridge", "hall", "gardens", "green", "hill", "row", "walk", "mews", "estate",
    "parade", "quay", "dock", "tower", "wharf", "yard", "prison", "programme", "service", "services", "team",
    "foundation", "nhs",
}
NOT_SURNAMES = PLACES | {
    "the", "and", "or", "is", "was", "has", "had", "said", "says", "i", "he", "she", "we", "they", "it",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
PARTICLES = {"de", "da", "di", "du", "van", "von", "der", "den", "le", "la", "del", "dos", "bin", "al", "ní", "nic",
             "mac", "ó", "ap"}
TITLE_WORDS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "mister"}
BIRTH_CUE = re.compile(r"(?i)(?<![\p{L}])(?:born|b\.|dob|d\.o\.b|date\s+of\s+birth|birth\s?day|birth\s?date)"
                       r"(?![\p{L}])")
_B, _E = r"(?<![\p{L}\p{N}])", r"(?![\p{L}\p{N}])"
_MONTH = (r"(?P<mn>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?P<d>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?P<y>(?:19|20)\d{2}|'?\d{2})"
# a word (O'Neil, Smith-Jones, A.B.), not part of a token with digits in it (X123456)
_WORD = re.compile(r"(?<![\p{L}\p{N}'’-])\p{L}[\p{L}\p{M}]*+(?:['’.-]\p{L}[\p{L}\p{M}]*+)*+\.?(?![\p{L}\p{M}\p{N}])")
_SEP = r"(?:\s+dot\s+|\s*[\[(]\s*dot\s*[\])]\s*|\.)"
_TLD = r"(?:com|org|net|uk|ie|io|info|biz|me|gov|ac|co|edu|eu)"


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


@lru_cache(maxsize=1)
def _rules() -> List[Tuple[str, "re.Pattern"]]:
    local = r"[\p{L}\p{N}_'’+-]+(?:" + _SEP + r"[\p{L}\p{N}_'’+-]+)*"
    domain = r"[\p{L}\p{N}-]+(?:" + _SEP + r"[\p{L}\p{N}-]+)*?" + _SEP + _TLD
    return [
        ("EMAIL", re.compile(_B + r"[\p{L}\p{N}._%+'’-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}" + _E)),
        ("EMAIL", re.compile(r"(?i)" + _B + local + r"(?P<at>\s*[\[(]\s*at\s*[\])]\s*|\s+at\s+)" + domain + _E)),
        ("PNC", re.compile(_B + r"(?:(?:19|20)\d{2}|\d{2})(?:[/ -]\d{5,7}|\d{7})(?:[A-Za-z]| [A-Z])" + _E)),
        ("PRISON_NO", re.compile(_B + r"(?:[A-Za-z]\d{4}[A-Za-z]{2}|[A-Z][ -]?\d{4}[ -]?[A-Z]{2}"
                                 r"|[a-z][ -]\d{4}[ -][a-z]{2})" + _E)),
        ("CASE_REF", re.compile(_B + r"[A-Za-z][ -]?\d{6}" + _E)),
        ("DOB", re.compile(r"(?i)" + _B + r"(?:(?:the\s+)?" + _DAY + r"(?:\s+of)?[\s-]+" + _MONTH + r",?[\s-]+" + _YEAR
                           + r"|" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR
                           + r"|(?P<d>\d{1,2})(?P<s>[/.-])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})"
                           + r"|(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2}))" + _E)),
        ("POSTCODE", re.compile(r"(?i)" + _B + r"[A-Z]{1,2}\d[A-Z\d]?[ \t]{0,2}\d[ABD-HJLNP-UW-Z]{2}" + _E)),
    ]


@lru_cache(maxsize=1)
def _words() -> Tuple[FrozenSet[str], FrozenSet[str], FrozenSet[str], FrozenSet[str]]:
    """(first names, first names that are also ordinary words, surnames, common lower-case words).

    Built once per process (~1 s) from Faker's name lists and spaCy's lookup word
    frequencies; only these sets are kept."""
    import importlib
    from pathlib import Path

    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    prob = json.loads(gzip.open(path).read())
    firsts, lasts = set(), set()
    for locale in NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names_male", "first_names_female", "first_names"):
            firsts.update(n.lower() for n in getattr(provider, attr, ()) if " " not in n)
        lasts.update(n.lower() for n in getattr(provider, "last_names", ()) if " " not in n)
    # also an ordinary word: its lower-case form is frequent (frank, dawn), or at least as frequent
    # as its capitalised one (will, faith)
    ordinary = {n for n in firsts if n in prob and (prob[n] > -14 or prob[n] >= prob.get(n.capitalize(), -30.0))}
    common = {w for w, p in prob.items() if p > -15 and w.islower() and w.isalpha() and p > prob.get(w.capitalize(), -30.0)}
    return frozenset(firsts), frozenset(ordinary | {"may", "june", "april", "august"}), frozenset(lasts), frozenset(common)


_INITIALS = re.compile(r"\p{Lu}(?:[.-]\p{Lu})*\.?")


def _is_cap(w: str) -> bool:
    return w[:1].isupper() and (not w.isupper() or bool(_INITIALS.fullmatch(w)))


def _plain(w: str) -> str:
    w = w.rstrip(".").lower()
    return w[:-2] if w.endswith(("'s", "’s")) else w


def _is_birth_date(m, text: str) -> bool:
    """A full date is a date of birth if the year is 10+ years ago and a birth cue is near,
    or if it is before 2000 (full dates of events that old are rare in practice notes)."""
    g = m.groupdict()
    month = g["mn"][:3].lower() if g.get("mn") else g.get("m")
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    month = months.index(month) + 1 if month in months else int(month)
    year = int(g["y"].lstrip("'"))
    if len(g["y"].lstrip("'")) == 2:
        year += 1900 if year > dt.date.today().year % 100 else 2000
    if not (1 <= month <= 12 and 1 <= int(g["d"]) <= 31):
        return False
    cue = BIRTH_CUE.search(text[max(0, m.start() - 40):m.start()]) or BIRTH_CUE.search(text[m.end():m.end() + 30])
    return year < 2000 or bool(cue) and year <= dt.date.today().year - 10


def _phones(text: str, dates: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """Phone numbers in ``text`` (:func:`assistant.phones.find_phones`), with ``dates`` (every
    span the DOB rule matched) blanked out for a second scan."""
    if sum(c.isdigit() for c in text) < 10:  # fast path: no room for a phone number
        return []
    return find_phones(text, dates)


def _joined(text: str, words: list, j: int, first: int) -> bool:
    """Word ``j`` continues the name that word ``j - 1`` is in: only spaces between them, and
    no full stop after a word that isn't an initial ("Mr Smith. What" is not one name)."""
    prev = words[j - 1][2]
    if text[words[j - 1][1]:words[j][0]].strip():
        return False
    return j - 1 < first or not prev.endswith(".") or bool(_INITIALS.fullmatch(prev))


def _title_names(text: str, words: list, firsts, common) -> List[Tuple[int, int]]:
    out = []
    for i, (s, e, w) in enumerate(words):
        if w.rstrip(".").lower() not in TITLE_WORDS or i + 1 == len(words):
            continue
        title = w.rstrip(".")
        j, end = i + 1, None
        while j < len(words) and j - i <= 4 and _joined(text, words, j, first=i + 1):
            nxt = words[j][2]
            if nxt.lower() in PARTICLES and j + 1 < len(words) and _is_cap(words[j + 1][2]):
                j += 1
                continue
            if end is None:  # the first word after the title decides whether it is a name
                low = _plain(nxt)
                if title.lower() == "ms" and low in PRODUCTS:
                    break
                namelike = low not in common or low in firsts
                ok = (_is_cap(nxt) or nxt.isupper() and title.isupper()) and (title.lower() != "miss" or namelike)
                ok = ok or title.islower() and nxt.islower() and namelike and title != "miss" and len(nxt) > 1
                if not ok:
                    break
            elif not _is_cap(nxt) or _plain(nxt) in NOT_SURNAMES:
                break
            end = words[j][1]
            j += 1
        if end is not None:
            out.append((s, end))
    return out


def _first_names(text: str, words: list, firsts, ordinary, lasts, common) -> List[Tuple[int, int]]:
    out = []
    for i, (s, e, w) in enumerate(words):
        low = _plain(w).split("-")[0]
        if low not in firsts or (i and words[i - 1][2].rstrip(".").lower() in TITLE_WORDS):
            continue
        lower_case = w.islower()
        if not (_is_cap(w) or lower_case) or w.endswith(".") and len(w) == 2:
            continue
        ambiguous = low in ordinary
        if i and words[i - 1][2].rstrip(".") == "St" or i + 1 < len(words) and _is_cap(words[i + 1][2]) \
                and _plain(words[i + 1][2]) in PLACES:
            continue  # St Mary's, Victoria Street, Albert House
        j, end = i + 1, None
        while j < len(words) and j - i <= 3 and _joined(text, words, j, first=i):
            nxt, plain = words[j][2], _plain(words[j][2])
            if lower_case:
                ok = nxt.islower() and plain not in common and plain not in NOT_SURNAMES and len(plain) > 1
            else:
                ok = _is_cap(nxt) and plain not in NOT_SURNAMES and (not ambiguous or plain not in common)
            if not ok:
                break
            end = words[j][1]
            j += 1
        if end is not None and not (lower_case and low in ordinary):
            out.append((s, end))
        elif end is None and not ambiguous and not lower_case:
            out.append((s, e))
    return [(s, e - 2 if text[s:e].endswith(("'s", "’s")) else e) for s, e in out]


def find_spans(text: str, keep_names: Iterable[str] = ()) -> List[Tuple[int, int, str]]:
    """(start, end, label) of each identifier in ``text``, in order, not overlapping."""
    if not text:
        return []
    candidates = []
    dates = []  # every date-like span, a birth date or not: hidden from the phone scan
    for label, rx in _rules():
        for m in rx.finditer(text):
            if label == "DOB":
                dates.append(m.span())
                if not _is_birth_date(m, text):
                    continue
            if label == "EMAIL" and m.groupdict().get("at") and m.group("at").strip() == "at" \
                    and "dot" not in m.group().lower() and not re.search(r"[._+\d]", text[m.start():m.start("at")]):
                continue  # "look at gov.uk" is not an email address
            if label == "PRISON_NO" and m.group().islower() and " " in m.group():
                digits = re.search(r"\d{4}", m.group()).group()
                if digits[:2] in ("19", "20") or m.group()[-2:] in {"or", "to", "in", "on", "at", "of", "is", "be"}:
                    continue
            candidates.append((m.start(), m.end(), label))
    candidates += [(s, e, "PHONE") for s, e in _phones(text, dates)]
    firsts, ordinary, lasts, common = _words()
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    keep = {_plain(w) for n in keep_names for w in _WORD.findall(n or "")}
    for s, e in _title_names(text, words, firsts, common) + _first_names(text, words, firsts, ordinary, lasts, common):
        named = _WORD.findall(text[s:e])
        if named[-1].endswith(".") and not _INITIALS.fullmatch(named[-1]):
            e -= 1  # the sentence's full stop, not the name's
        named = [_plain(w) for w in named if _plain(w) not in TITLE_WORDS]
        if not (named and all(w in keep for w in named)):
            candidates.append((s, e, "NAME"))
    chosen: List[Tuple[int, int, str]] = []
    for s, e, label in sorted(candidates, key=lambda c: (c[0] - c[1], PRIORITY.index(c[2]), c[0])):
        if all(e <= cs or s >= ce for cs, ce, _ in chosen):
            chosen.append((s, e, label))
    return sorted(chosen)


def mask(text: str, keep_names: Iterable[str] = ()) -> MaskResult:
    """Mask identifiers in ``text``; ordinary text is returned unchanged.

    ``keep_names``: names never masked (staff: the people a manager's requests name)."""
    if not text:
        return MaskResult(text or "")
    found: Counter = Counter()
    out = text
    for s, e, label in reversed(find_spans(text, keep_names)):
        out = out[:s] + LABELS[label][1] + out[e:]
        found[label] += 1
    return MaskResult(out, {k: found[k] for k in LABELS if found[k]})
