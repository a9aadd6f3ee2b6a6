"""Masking measured both ways, on ``content/masking_corpus.yml``.

* recall per identifier type: the share of identifiers whose every letter and digit was
  masked (under any label: a case reference hidden as a prison number is still hidden);
* precision per type: the share of spans masked with that label that are an identifier of
  that type (spans in ordinary sentences, or of the wrong type, count against it);
* ordinary sentences untouched, FAQ example questions untouched, and staff names kept
  (manager requests masked with the team's names in ``keep_names``).

Needs no trained model or running stack: ``python -m assistant bench-masking``, and part
of ``make bench``."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import yaml

from assistant import masking
from assistant.config import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "content" / "masking_corpus.yml"
FAQS = PROJECT_ROOT / "content" / "faqs.yml"
TARGETS = {"recall": 0.98, "untouched": 0.99}
MIN_IDENTIFIERS = MIN_ORDINARY = 300

Finder = Callable[..., Sequence[Tuple[int, int, str]]]


@lru_cache(maxsize=4)
def load_corpus(path: Path = CORPUS) -> dict:
    """The corpus: ``identifiers`` (type, value, text), ``ordinary``, ``staff_requests``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for item in data["identifiers"]:
        if item["type"] not in masking.LABELS or item["text"].count(item["value"]) != 1:
            raise ValueError(f"bad corpus entry: {item}")
    return data


def faq_examples(path: Path = FAQS) -> List[str]:
    """Every FAQ question and example question: ordinary text the assistant must understand."""
    items = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [q for item in items for q in [item["question"], *(item.get("examples") or [])]]


def _covered(start: int, end: int, text: str, spans: Iterable[Tuple[int, int, str]]) -> bool:
    hidden = set()
    for s, e, _ in spans:
        hidden.update(range(s, e))
    return all(i in hidden for i in range(start, end) if text[i].isalnum())


def _masked(text: str, spans: Sequence[Tuple[int, int, str]]) -> str:
    for s, e, label in sorted(spans, reverse=True):
        text = text[:s] + masking.LABELS[label][1] + text[e:]
    return text


def evaluate(corpus: Optional[dict] = None, find: Optional[Finder] = None,
             faq_path: Optional[Path] = FAQS) -> dict:
    """Recall and precision per type (and overall), untouched shares, and the misses."""
    corpus = corpus or load_corpus()
    find = find or masking.find_spans
    gold, hit, predicted, correct = Counter(), Counter(), Counter(), Counter()
    misses, false_positives = [], []
    for item in corpus["identifiers"]:
        text, kind = item["text"], item["type"]
        start = text.index(item["value"])
        end = start + len(item["value"])
        spans = find(text)
        gold[kind] += 1
        if _covered(start, end, text, spans):
            hit[kind] += 1
        else:
            misses.append((kind, text, _masked(text, spans)))
        for s, e, label in spans:
            predicted[label] += 1
            if label == kind and s < end and e > start:
                correct[label] += 1
            else:
                false_positives.append((label, text, text[s:e]))
    untouched = 0
    for text in corpus["ordinary"]:
        spans = find(text)
        untouched += not spans
        for s, e, label in spans:
            predicted[label] += 1
            false_positives.append((label, text, text[s:e]))
    staff = corpus.get("staff_requests") or {"keep_names": [], "texts": []}
    staff_kept = sum(not find(t, keep_names=staff["keep_names"]) for t in staff["texts"])
    faqs = faq_examples(faq_path) if faq_path else []
    faq_untouched = sum(not find(t) for t in faqs)

    def ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    kinds = list(masking.LABELS)
    return {
        "identifiers": sum(gold.values()), "ordinary": len(corpus["ordinary"]),
        "count": {k: gold[k] for k in kinds},
        "recall": {**{k: ratio(hit[k], gold[k]) for k in kinds}, "overall": ratio(sum(hit.values()), sum(gold.values()))},
        "precision": {**{k: ratio(correct[k], predicted[k]) for k in kinds},
                      "overall": ratio(sum(correct.values()), sum(predicted.values()))},
        "untouched": ratio(untouched, len(corpus["ordinary"])),
        "faq_untouched": ratio(faq_untouched, len(faqs)), "faq_examples": len(faqs),
        "staff_kept": ratio(staff_kept, len(staff["texts"])), "staff_requests": len(staff["texts"]),
        "misses": misses, "false_positives": false_positives,
    }


def rows(r: dict) -> List[Tuple[str, str, str]]:
    """(measure, value, target) rows for the bench table."""
    out = [(f"Masking recall, overall (n={r['identifiers']})", f"{r['recall']['overall']:.3f}",
            f">= {TARGETS['recall']}")]
    for kind, (name, _) in masking.LABELS.items():
        out.append((f"Masking recall / precision: {name} (n={r['count'][kind]})",
                    f"{r['recall'][kind]:.3f} / {r['precision'][kind]:.3f}", ""))
    out += [
        ("Masking precision, overall", f"{r['precision']['overall']:.3f}", ""),
        (f"Ordinary sentences untouched (n={r['ordinary']})", f"{r['untouched']:.3f}", f">= {TARGETS['untouched']}"),
        (f"FAQ example questions untouched (n={r['faq_examples']})", f"{r['faq_untouched']:.3f}", ""),
        (f"Staff names kept in manager requests (n={r['staff_requests']})", f"{r['staff_kept']:.3f}", "1.000"),
    ]
    return out


def print_report(r: dict, details: bool = True) -> None:
    """Print the masking figures (and, with ``details``, every miss and false positive)."""
    lines = rows(r)
    width = max(len(x[0]) for x in lines)
    print(f"\n{'measure'.ljust(width)}  {'value':>14}  target")
    print("-" * (width + 30))
    for name, value, target in lines:
        print(f"{name.ljust(width)}  {value:>14}  {target}")
    if details:
        for kind, text, out in r["misses"]:
            print(f"  missed {kind}: {text!r} -> {out!r}")
        for label, text, span in r["false_positives"]:
            print(f"  masked as {label}: {span!r} in {text!r}")


def meets_targets(r: dict) -> bool:
    """True if recall and untouched reach their targets."""
    return r["recall"]["overall"] >= TARGETS["recall"] and r["untouched"] >= TARGETS["untouched"]
