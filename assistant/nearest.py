"""Nearest example question: a third FAQ ranker, by character n-grams.

Each example question (an FAQ's question and its example questions, plus the training
data's out-of-scope examples as negatives) becomes a TF-IDF vector of the character
3-5-grams of its words, as scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
ngram_range=(3, 5), sublinear_tf=True)`` makes them (a test checks they are the same);
a question is ranked by the cosine similarity of its nearest example for each key.

Why a third ranker: the ResponseSelector and the BM25 ranker (:mod:`assistant.lexical`)
each miss questions the other gets; the nearest phrasing a practitioner already used is
a different view again (typos, word order, short questions), and like BM25 it does not
move when the model is retrained. :func:`assistant.answering.decide` answers when the
lexical ranker and the nearest example agree clearly (see ``Thresholds``).
"""
from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from assistant.answering import OUT_OF_SCOPE
from assistant.config import PROJECT_ROOT
from assistant.lexical import FaqDocument, words

OUT_OF_SCOPE_FILE = PROJECT_ROOT / "nlu_data" / "out_of_scope.yml"
MIN_N, MAX_N = 3, 5


def char_ngrams(text: str) -> List[str]:
    """The character 3-5-grams of each word, padded with a space each side (``char_wb``)."""
    out: List[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(MIN_N, MAX_N + 1):
            offset = 0
            out.append(padded[offset:offset + n])
            while offset + n < len(padded):
                offset += 1
                out.append(padded[offset:offset + n])
            if offset == 0:  # a word shorter than n: counted once
                break
    return out


def normalise(text: str) -> str:
    """Lower case, abbreviations expanded (as the lexical ranker reads text)."""
    return " ".join(words(text))


class NearestExamples:
    """Labelled example questions, searchable by cosine similarity of char n-gram TF-IDF."""

    def __init__(self, examples: Iterable[Tuple[str, str]]) -> None:
        counts: List[Counter] = []
        self.labels: List[str] = []
        for text, label in examples:
            grams = Counter(char_ngrams(normalise(text)))
            if grams:
                counts.append(grams)
                self.labels.append(label)
        df: Counter = Counter()
        for grams in counts:
            df.update(grams.keys())
        n = len(counts)
        self.idf: Dict[str, float] = {g: math.log((1 + n) / (1 + d)) + 1 for g, d in df.items()}
        # inverted index: n-gram -> [(example, weight)]; weights l2-normalised per example
        self._postings: Dict[str, List[Tuple[int, float]]] = {}
        for i, grams in enumerate(counts):
            vector = self._weights(grams)
            for gram, weight in vector.items():
                self._postings.setdefault(gram, []).append((i, weight))

    def _weights(self, grams: Counter) -> Dict[str, float]:
        vector = {g: (1 + math.log(c)) * self.idf[g] for g, c in grams.items() if g in self.idf}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {g: w / norm for g, w in vector.items()}

    def similarities(self, text: str) -> Dict[int, float]:
        """Cosine similarity of ``text`` to each example sharing an n-gram with it."""
        out: Dict[int, float] = {}
        for gram, weight in self._weights(Counter(char_ngrams(normalise(text)))).items():
            for i, w in self._postings[gram]:
                out[i] = out.get(i, 0.0) + weight * w
        return out

    def rank(self, text: str, limit: int = 5) -> List[Tuple[str, float]]:
        """(label, similarity of its nearest example), best first; out-of-scope included."""
        best: Dict[str, float] = {}
        for i, s in self.similarities(text).items():
            label = self.labels[i]
            if s > best.get(label, 0.0):
                best[label] = s
        return sorted(best.items(), key=lambda kv: -kv[1])[:limit]


@lru_cache(maxsize=4)
def out_of_scope_examples(path: Path = OUT_OF_SCOPE_FILE) -> Tuple[str, ...]:
    """The out-of-scope examples of the NLU training data (negatives for the ranker)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for block in data.get("nlu") or []:
        if block.get("intent") != OUT_OF_SCOPE:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(line[2:].strip())
    return tuple(out)


def build_nearest(docs: Sequence[FaqDocument],
                  negatives: Optional[Iterable[str]] = None) -> NearestExamples:
    """The ranker over ``docs``' questions and examples, with ``negatives`` (default: the
    training data's out-of-scope examples) labelled ``out_of_scope``."""
    labelled = []
    for doc in docs:
        labelled.append((doc.question, doc.key))
        labelled.extend((example, doc.key) for example in doc.examples)
    negatives = out_of_scope_examples() if negatives is None else negatives
    labelled.extend((text, OUT_OF_SCOPE) for text in negatives)
    return NearestExamples(labelled)


def nearest_ranking(ranker: Optional[NearestExamples], text: str, limit: int = 5) -> List[Dict[str, float]]:
    """The ranking in the shape :func:`assistant.answering.decide` takes (``[{key, score}]``)."""
    if ranker is None:
        return []
    return [{"key": k, "score": s} for k, s in ranker.rank(text, limit)]
