"""Phone numbers in free text, for masking (:mod:`assistant.masking`): Google's
libphonenumber (``phonenumbers``) with the corrections its matcher needs in practitioners'
notes, where numbers sit next to dates, case references and other digits."""
from __future__ import annotations

import re
from typing import Iterable, List, Tuple

_CLAUSE_BREAK = re.compile(r"[.,;:!?]\s+")


def find_phones(text: str, blank: Iterable[Tuple[int, int]] = ()) -> List[Tuple[int, int]]:
    """(start, end) of each phone number (10-15 digits, not part of a longer word or number).

    libphonenumber reads a number and the digits next to it as one candidate, then drops it
    as a date or as too long ("Tel: 07700900864 03/03/90 is his date of birth"). So the text
    is scanned twice: as written, and with the ``blank`` spans (the dates) replaced by spaces,
    offsets kept; a phone number found either way counts."""
    blanked = text
    for s, e in blank:
        blanked = blanked[:s] + " " * (e - s) + blanked[e:]
    spans = set(_phone_spans(text, text))
    if blanked != text:
        spans.update(_phone_spans(blanked, text))
    return sorted(spans)


def _phone_spans(scan: str, text: str) -> List[Tuple[int, int]]:
    """Phone numbers in ``scan`` (``text``, or it with dates blanked), clause by clause: no
    phone number has punctuation followed by a space inside it, and libphonenumber would
    otherwise read across a full stop ("Tel: 07700900864. 03/03/90")."""
    import phonenumbers  # only when a text has enough digits

    out = []
    starts = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(scan)]
    for start, stop in zip(starts, starts[1:] + [len(scan)]):
        clause = scan[start:stop]
        if sum(c.isdigit() for c in clause) < 10:
            continue
        # POSSIBLE, not VALID: libphonenumber knows Ofcom's drama ranges are unassigned
        for m in phonenumbers.PhoneNumberMatcher(clause, "GB", leniency=phonenumbers.Leniency.POSSIBLE):
            s, e = start + m.start, start + _number_end(m)
            digits = sum(c.isdigit() for c in text[s:e])
            near = text[s - 1:s] + text[e:e + 1]
            if 10 <= digits <= 15 and not any(c.isalnum() for c in near):
                out.append((s, e))
    return out


def _number_end(match) -> int:
    """Where the number itself ends. libphonenumber reads "x", "ext" or "#" and digits after
    a number as its extension, also across a sentence ("Tel: 07700900864. X900001's risk
    assessment": a case reference); the number is masked on its own, and what follows is
    left to the other rules."""
    extension, raw = match.number.extension, match.raw_string
    if not extension or not raw.endswith(extension):
        return match.end
    head = re.sub(r"\D+$", "", raw[:len(raw) - len(extension)])
    return match.start + len(head) if head else match.end
