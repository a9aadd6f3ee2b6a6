"""Property-based tests of masking (hypothesis): generated identifiers inside ordinary text are
always masked, masking is idempotent, ordinary text is left alone, arbitrary text never breaks it."""
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.masking import LABELS, mask
from assistant.masking_eval import load_corpus

ORDINARY = [t for t in load_corpus()["ordinary"] if t != "Mr"]  # "Mr. Note: ..." reads as a name
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

digits = lambda n: st.text("0123456789", min_size=n, max_size=n)  # noqa: E731
upper = st.sampled_from("ABCDEFGHJKLMNPRSTUVWXYZ")
surname = st.from_regex(r"\A[A-Z][a-z]{3,9}(-[A-Z][a-z]{3,8})?\Z").filter(lambda s: s.lower() not in {"teams", "word"})

IDENTIFIERS = {
    "CASE_REF": st.builds(lambda c, d, sep: c + sep + d, upper, digits(6), st.sampled_from(["", " "])),
    "PNC": st.builds(lambda y, d, c, sep: f"{y}{sep}{d}{c}", st.sampled_from(["04", "98", "2004", "1999", "2012"]),
                     digits(7), upper, st.sampled_from(["/", "-", ""])),
    "PRISON_NO": st.builds(lambda c, d, e, sp: f"{c}{sp}{d}{sp}{e}", upper, digits(4),
                           st.text("ABCDEFGHJKLMNPRSTUVWXYZ", min_size=2, max_size=2), st.sampled_from(["", " "])),
    "DOB": st.builds(lambda d, fmt: d.strftime(fmt), st.dates(min_value=__import__("datetime").date(1950, 1, 1),
                                                              max_value=__import__("datetime").date(1999, 12, 31)),
                     st.sampled_from(["%d/%m/%Y", "%d.%m.%y", "%d %B %Y", "%d %b %y", "%B %d, %Y", "%Y-%m-%d"])),
    "PHONE": st.builds(lambda p, d, sep: f"{p}{sep}{d}", st.sampled_from(["07700 900", "0161 496 0", "020 7946 0",
                                                                          "+44 7700 900"]),
                       digits(3), st.sampled_from(["", ""])),
    "EMAIL": st.builds(lambda a, b, tld: f"{a}.{b}@example.{tld}", st.from_regex(r"\A[a-z]{1,8}\Z"),
                       st.from_regex(r"\A[a-z0-9]{1,8}\Z"), st.sampled_from(["com", "org", "net"])),
    "POSTCODE": st.builds(lambda a, n, m, b: f"{a}{n} {m}{b}", st.sampled_from(["M", "SW", "LS", "B", "EC"]),
                          st.integers(1, 20), st.integers(0, 9),
                          st.text("ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2)),
    "NAME": st.builds(lambda t, s: f"{t} {s}", st.sampled_from(["Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof"]), surname),
}


@FAST
@given(st.sampled_from(sorted(IDENTIFIERS)).flatmap(lambda k: st.tuples(st.just(k), IDENTIFIERS[k])),
       st.sampled_from(ORDINARY), st.sampled_from(ORDINARY))
def test_a_generated_identifier_inside_ordinary_text_is_masked(kind_and_value, before, after):
    kind, value = kind_and_value
    text = f"{before}. Note: {value}. {after}"
    result = mask(text)
    assert value not in result.text, (kind, text, result.text)
    assert result.found.get(kind) == 1 and LABELS[kind][1] in result.text, (kind, text, result)
    assert result.text.replace(f" {LABELS[kind][1]}.", f" {value}.") == text  # nothing else was touched


@FAST
@given(st.sampled_from(ORDINARY))
def test_ordinary_sentences_are_unchanged(text):
    assert mask(text).text == text and not mask(text).changed


@FAST
@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=300))
def test_arbitrary_text_never_raises_nor_grows_unboundedly_and_masking_is_idempotent(text):
    out = mask(text).text
    assert len(out) <= 4 * len(text)
    assert mask(out).text == out


@FAST
@given(st.lists(st.sampled_from(load_corpus()["identifiers"]), min_size=1, max_size=4),
       st.sampled_from([". ", " ", ", ", "; ", "\n"]))
def test_masked_text_never_contains_the_original_identifiers(items, separator):
    """Corpus sentences run together as people type them: with or without punctuation."""
    text = separator.join(item["text"] for item in items)
    out = mask(text).text
    assert not any(item["value"] in out for item in items)
    assert mask(out).text == out


def test_a_long_message_is_masked_quickly():
    text = " ".join(ORDINARY + [i["text"] for i in load_corpus()["identifiers"]])[:4000]
    mask(text)  # builds the rules and name lists once
    start = time.perf_counter()
    for _ in range(10):
        mask(text)
    per_message_ms = (time.perf_counter() - start) * 100
    assert per_message_ms < 50, per_message_ms  # a 4,000-character chat message; ~10 ms on a laptop core
