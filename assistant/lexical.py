"""A lexical ranker for FAQ questions: BM25 over each FAQ's question, example questions
and answer, with practitioners' abbreviations expanded, a light stemmer and typo-tolerant
matching of unknown words.

It complements the ResponseSelector: words that matter ("OASys", "breach", "SEED") count
whatever the neural model learnt, and the ranking does not move when the model is
retrained (it only changes when the FAQ content changes). Pure Python, no TensorFlow:
the action server builds it from the FAQ content in the database (see
:mod:`assistant.faq_decision`); tests build it from plain data.
"""
from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

# Abbreviations practitioners use, expanded before matching (lower case).
ABBREVIATIONS: Dict[str, str] = {
    "po": "probation officer",
    "pos": "probation officers",
    "spo": "senior probation officer",
    "spos": "senior probation officers",
    "pso": "probation services officer",
    "om": "offender manager",
    "oms": "offender managers",
    "co": "community order",
    "sso": "suspended sentence order",
    "upw": "unpaid work",
    "rar": "rehabilitation activity requirement",
    "oasys": "oasys offender assessment system",
    "mappa": "mappa multi agency public protection arrangements",
    "ns": "national standards",
    "ns2011": "national standards 2011",
    "oep": "offender engagement programme",
    "noms": "national offender management service",
    "mi": "motivational interviewing",
    "rnr": "risk need responsivity",
    "spa": "spa sentence planning",
    "rsm": "rsm reflective supervision model",
    "omfq": "omfq offender management feedback questionnaire",
    "seed": "seed skills effective engagement development",
    "qa": "quality assurance",
    "cpd": "continuing professional development",
    "ftc": "failure to comply",
    "dtas": "did not attend",
    "dna": "did not attend",
    "fta": "failed to attend",
    "lic": "licence",
    "sup": "supervision",
    "appt": "appointment",
    "appts": "appointments",
    "mgr": "manager",
    "u": "you",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "wot": "what",
    "wat": "what",
}

STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't could couldn't did didn't do does doesn't doing don't down during
each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here hers
herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just let's me
more most my myself no nor not of off on once only or other ought our ours ourselves out over own
same she should shouldn't so some such than that that's the their theirs them themselves then there
there's these they they'd they'll they're they've this those through to too under until up very was
wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while who
who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours yourself
yourselves please tell know want need get got go going really actually just like bit thing things
anyone anything someone something also still ok okay hi hello hey thanks cheers quick question
explain mean means meant does say said
""".split())

_TOKEN = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A light suffix stripper (enough to match "appointments"/"appointment", "reflecting"/"reflect")."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix, keep in (("ational", "ate"), ("ations", "ate"), ("ation", "ate"), ("nesses", ""),
                         ("ness", ""), ("ments", "ment"), ("ities", "ity"), ("ingly", ""), ("edly", ""),
                         ("ies", "y"), ("ing", ""), ("ed", ""), ("ers", "er"), ("es", "e"), ("s", ""),
                         ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= (3 if suffix == "s" else 4):
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + keep
    return word


def words(text: str) -> List[str]:
    """Lower-cased words with abbreviations expanded (stop words kept)."""
    out: List[str] = []
    for token in _TOKEN.findall((text or "").lower().replace("'", "")):
        out.extend(ABBREVIATIONS.get(token, token).split())
    return out


def tokens(text: str) -> List[str]:
    """Stemmed content words of ``text``."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


@dataclass(frozen=True)
class FaqDocument:
    """What the ranker knows about one FAQ."""

    key: str
    question: str
    examples: Tuple[str, ...] = ()
    answer: str = ""


class _Bm25:
    """Okapi BM25 over a list of term lists."""

    def __init__(self, docs: List[List[str]], k1: float, b: float) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.len = [len(d) for d in docs]
        n = len(docs)
        self.avg = (sum(self.len) / n) if n and sum(self.len) else 1.0
        df: Counter = Counter()
        for tf in self.tf:
            df.update(tf.keys())
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def scores(self, terms: List[str]) -> List[float]:
        out = []
        for tf, length in zip(self.tf, self.len):
            norm = self.k1 * (1 - self.b + self.b * length / self.avg)
            out.append(sum(self.idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if tf[t]))
        return out


class LexicalIndex:
    """BM25 over one document per FAQ: its question (``question_weight`` times) and example
    questions, plus ``answer_weight`` x BM25 over its answer (a separate field: answers are
    long and would otherwise swamp the questions)."""

    def __init__(self, docs: Iterable[FaqDocument], *, k1: float = 1.2, b: float = 0.75,
                 question_weight: int = 1, answer_weight: float = 0.2) -> None:
        docs = list(docs)
        self.keys: List[str] = [d.key for d in docs]
        questions = []
        for doc in docs:
            terms = tokens(doc.question) * question_weight
            for example in doc.examples:
                terms += tokens(example)
            questions.append(terms)
        self._questions = _Bm25(questions, k1, b)
        self._answers = _Bm25([tokens(d.answer) for d in docs], k1, b)
        self.answer_weight = answer_weight
        self.vocabulary = sorted(set(self._questions.idf) | set(self._answers.idf))
        self._vocab = set(self.vocabulary)
        self._typos: Dict[str, Optional[str]] = {}

    def _known(self, term: str) -> Optional[str]:
        """``term`` if indexed, else the closest indexed word (typos), else None."""
        if term in self._vocab:
            return term
        if len(term) < 4 or term.isdigit():
            return None
        if term not in self._typos:  # remembered: difflib is the slow part
            close = difflib.get_close_matches(term, self.vocabulary, n=1, cutoff=0.8)
            if len(self._typos) > 10000:
                self._typos.clear()
            self._typos[term] = close[0] if close else None
        return self._typos[term]

    def query_terms(self, text: str) -> List[str]:
        """The indexed terms a question is matched on (typos corrected)."""
        out = []
        for term in tokens(text):
            known = self._known(term)
            if known and known not in out:
                out.append(known)
        return out

    def rank(self, text: str, limit: int = 5) -> List[Tuple[str, float]]:
        """(key, score) best first; empty when no word of ``text`` is indexed."""
        terms = self.query_terms(text)
        if not terms:
            return []
        q = self._questions.scores(terms)
        a = self._answers.scores(terms) if self.answer_weight else [0.0] * len(q)
        scores = [(k, s + self.answer_weight * t) for k, s, t in zip(self.keys, q, a) if s + t > 0]
        scores.sort(key=lambda kv: -kv[1])
        return scores[:limit]


def lexical_ranking(index: Optional[LexicalIndex], text: str, limit: int = 5) -> List[Dict[str, float]]:
    """The ranking in the shape :func:`assistant.answering.decide` takes (``[{key, score}]``)."""
    if index is None:
        return []
    return [{"key": k, "score": s} for k, s in index.rank(text, limit)]


def build_index(docs: Sequence[FaqDocument]) -> LexicalIndex:
    """The index for ``docs`` (the settings used everywhere)."""
    return LexicalIndex(docs)
