"""Turn Rasa's parse of a message into a decision: answer, suggest or decline.

Pure functions over the parse data (and, optionally, the lexical ranker's ranking of the
same text), so they are easy to test and tune. The thresholds come from
:class:`assistant.config.Settings` (:func:`thresholds_from`); nothing here has its own
numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

FAQ_INTENT = "faq"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"  # config.yml's FallbackClassifier: no intent is confident
MAX_SUGGESTIONS = 3

# What a caller lets the decision do:
#   "chat"         answer, suggest ("Did you mean") or decline      (action_answer_faq)
#   "fallback"     suggest or decline, never answer outright         (action_default_fallback)
#   "interruption" answer (at the stricter interruption threshold) or nothing (mid-reflection)
MODES = ("chat", "fallback", "interruption")

# The nearest-example ranking ``[{key, score}]``, or a function returning it: the ranking
# costs a few ms, so the action server passes a function, called only when needed.
NearestRanking = Union[Sequence[Dict[str, Any]], Callable[[], Sequence[Dict[str, Any]]]]


@dataclass
class Decision:
    """What to do with a message: ``answer`` a key, ``suggest`` keys, or ``decline``."""

    kind: str
    key: Optional[str] = None
    confidence: Optional[float] = None
    suggestions: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs of :func:`decide` (the real values live in ``Settings``).

    A key's **combined score** is the ResponseSelector's P(faq) x P(key) plus
    ``lexical_weight`` x the lexical ranker's score for the key relative to its top key,
    scaled down when the top BM25 score is under ``lexical_full`` (a weak word match
    counts for less). The two rankers are wrong on different questions, so together they
    put the right key first more often than either alone.

    - ``combined``: the combined score at or above which the top key is answered, when
      both rankers put it first, or it leads the next key by ``disagree_margin``;
    - ``answer``: the ResponseSelector's score that is enough on its own when there is no
      lexical ranking (the lexical index could not be built);
    - ``suggest``: ResponseSelector score at or above which a key may be offered as "Did
      you mean": when the lexical ranker has it among its top ``suggest_lexical_top`` keys,
      or when its score reaches ``suggest_alone`` (or there is no lexical ranking);
    - ``interruption``: the ResponseSelector score needed to answer a question asked
      mid-reflection, with the lexical ranker's top key the same, its share
      top / (top + second) at least ``lexical`` and its raw score at least ``lexical_min``;
    - ``nearest_min`` / ``nearest_margin``: in chat, a question the combined score does not
      answer is answered with the lexical ranker's top key when that ranker is clear (share
      and raw score as for ``interruption``) and the nearest example question
      (:mod:`assistant.nearest`) is of the same FAQ, with similarity at least
      ``nearest_min`` and at least ``nearest_margin`` ahead of the next FAQ or out-of-scope
      example: two rankers that do not move with training agree.
    """

    answer: float
    suggest: float
    combined: float
    lexical_weight: float
    lexical_full: float
    disagree_margin: float
    lexical: float
    lexical_min: float
    interruption: float
    suggest_alone: float = 0.0  # 0: the selector's score alone (the behaviour before the lexical check)
    suggest_lexical_top: int = 0
    nearest_min: float = 2.0  # above any cosine similarity: the nearest-example rule off
    nearest_margin: float = 0.0


def thresholds_from(settings: Any) -> Thresholds:
    """The :class:`Thresholds` configured in ``settings`` (an ``assistant.config.Settings``)."""
    return Thresholds(
        answer=settings.answer_threshold, suggest=settings.suggest_threshold,
        combined=settings.combined_answer_threshold, lexical_weight=settings.lexical_weight,
        lexical_full=settings.lexical_full_score, disagree_margin=settings.disagree_margin,
        lexical=settings.lexical_share_threshold, lexical_min=settings.lexical_min_score,
        interruption=settings.interruption_answer_threshold,
        suggest_alone=settings.suggest_alone_threshold, suggest_lexical_top=settings.suggest_lexical_top,
        nearest_min=settings.nearest_min_similarity, nearest_margin=settings.nearest_margin,
    )


def _faq_ranking(parse: Dict[str, Any]) -> List[Tuple[str, float]]:
    selector = (parse.get("response_selector") or {}).get(FAQ_INTENT) or {}
    ranking = []
    for item in selector.get("ranking") or []:
        name = item.get("intent_response_key") or ""
        if name.startswith(FAQ_INTENT + "/"):
            ranking.append((name.split("/", 1)[1], float(item.get("confidence") or 0.0)))
    return ranking


def _intent_confidence(parse: Dict[str, Any], name: str) -> float:
    for item in parse.get("intent_ranking") or []:
        if item.get("name") == name:
            return float(item.get("confidence") or 0.0)
    intent = parse.get("intent") or {}
    return float(intent.get("confidence") or 0.0) if intent.get("name") == name else 0.0


def chosen_key(parse: Dict[str, Any]) -> Optional[str]:
    """The FAQ key chosen explicitly (a "Did you mean" button sends ``/faq{"faq_key": ...}``)."""
    for entity in parse.get("entities") or []:
        if entity.get("entity") == "faq_key" and isinstance(entity.get("value"), str):
            return entity["value"]
    return None


def lexical_top(lexical: Optional[Sequence[Dict[str, Any]]]) -> Tuple[Optional[str], float, float]:
    """(top key, its share top / (top + second), its raw score) of a lexical ranking."""
    if not lexical:
        return None, 0.0, 0.0
    first = float(lexical[0]["score"])
    second = float(lexical[1]["score"]) if len(lexical) > 1 else 0.0
    share = first / (first + second) if first > 0 else 0.0
    return lexical[0]["key"], share, first


def combined_ranking(scored: Sequence[Tuple[str, float]], lexical: Optional[Sequence[Dict[str, Any]]],
                     t: Thresholds) -> List[Tuple[str, float]]:
    """Keys by combined score (see :class:`Thresholds`), best first. ``scored`` are the
    ResponseSelector's (key, P(faq) x P(key)); ``lexical`` the lexical ranking."""
    combined: Dict[str, float] = {}
    for key, score in scored:
        combined[key] = combined.get(key, 0.0) + score
    top = float(lexical[0]["score"]) if lexical else 0.0
    if top > 0:
        strength = t.lexical_weight * min(1.0, top / t.lexical_full)
        for item in lexical:
            combined[item["key"]] = combined.get(item["key"], 0.0) + strength * float(item["score"]) / top
    return sorted(combined.items(), key=lambda kv: -kv[1])


def nearest_agrees(key: Optional[str], nearest: Optional[NearestRanking], t: Thresholds) -> bool:
    """Whether the nearest example question is of ``key``, similar enough and clearly ahead
    of the next key (``nearest`` may be the ranking or a function returning it)."""
    if key is None or nearest is None:
        return False
    ranking = nearest() if callable(nearest) else nearest
    if not ranking or ranking[0]["key"] != key:
        return False
    first = float(ranking[0]["score"])
    second = float(ranking[1]["score"]) if len(ranking) > 1 else 0.0
    return first >= t.nearest_min and first - second >= t.nearest_margin


def suggested_keys(scored: Sequence[Tuple[str, float]], lexical: Optional[Sequence[Dict[str, Any]]],
                   t: Thresholds) -> List[str]:
    """The keys to offer as "Did you mean" (up to three, best first): the ResponseSelector's
    top keys scoring at least ``suggest`` that either reach ``suggest_alone`` or also have a
    word match in the lexical ranker's top ``suggest_lexical_top`` (see :class:`Thresholds`)."""
    matched = {item["key"] for item in (lexical or [])[:t.suggest_lexical_top]}  # it lists word matches only
    return [k for k, s in scored[:MAX_SUGGESTIONS]
            if s >= t.suggest and (lexical is None or s >= t.suggest_alone or k in matched)]


def decide(
    parse: Dict[str, Any], *, answer_threshold: Optional[float] = None,
    suggest_threshold: Optional[float] = None, thresholds: Optional[Thresholds] = None,
    lexical: Optional[Sequence[Dict[str, Any]]] = None, mode: str = "chat",
    nearest: Optional[NearestRanking] = None,
) -> Decision:
    """Decide how to respond to a parsed message.

    In chat, the key with the best combined score (:func:`combined_ranking`) is answered
    when that score reaches ``combined`` and either both rankers put it first or it leads
    the next key by ``disagree_margin``; without a lexical ranking, the ResponseSelector's
    top key is answered at ``answer``. Failing that, the lexical top key is answered when
    the lexical ranker is clear and the nearest example (``nearest``) agrees
    (:func:`nearest_agrees`). Otherwise keys whose ResponseSelector score is at
    least ``suggest`` are offered (up to three); otherwise the question is declined.
    ``mode`` (see :data:`MODES`) limits what may happen. ``thresholds`` defaults to the ones
    in ``Settings``; ``answer_threshold`` / ``suggest_threshold`` override them (kept for
    older callers).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    t = thresholds
    if t is None:
        from assistant.config import get_settings

        t = thresholds_from(get_settings())
    if answer_threshold is not None:
        t = replace(t, answer=answer_threshold)
    if suggest_threshold is not None:
        t = replace(t, suggest=suggest_threshold)
    key = chosen_key(parse)
    if key:
        return Decision("answer", key=key, confidence=1.0)
    intent = (parse.get("intent") or {}).get("name")
    if intent == OUT_OF_SCOPE:
        return Decision("decline", confidence=_intent_confidence(parse, OUT_OF_SCOPE))
    if intent not in (FAQ_INTENT, FALLBACK_INTENT, None):
        # greetings, reflection etc. have their own replies (the FAQ actions never see them)
        return Decision("decline", confidence=0.0)
    p_faq = _intent_confidence(parse, FAQ_INTENT)
    scored = [(k, p_faq * p) for k, p in _faq_ranking(parse)]
    if not scored:
        return Decision("decline", confidence=0.0)
    top_key, top_score = scored[0]
    lex_key, lex_share, lex_score = lexical_top(lexical)
    agrees = lex_key == top_key and lex_share >= t.lexical and lex_score >= t.lexical_min

    if mode == "interruption":  # stricter: a reflection answer must not be taken for a question
        if intent == FAQ_INTENT and top_score >= t.interruption and (
                agrees or lexical is None or top_score >= t.answer):
            return Decision("answer", key=top_key, confidence=top_score)
        return Decision("decline", key=top_key, confidence=top_score)

    if mode == "chat" and intent == FAQ_INTENT:
        if lexical is None:
            if top_score >= t.answer:
                return Decision("answer", key=top_key, confidence=top_score)
        else:
            ranked = combined_ranking(scored, lexical, t) + [("", 0.0)]
            (best, best_score), (_, next_score) = ranked[0], ranked[1]
            both_first = best == top_key == lex_key
            if best_score >= t.combined and (both_first or best_score - next_score >= t.disagree_margin):
                return Decision("answer", key=best, confidence=dict(scored).get(best, 0.0))
            lexical_clear = lex_share >= t.lexical and lex_score >= t.lexical_min
            if lexical_clear and nearest_agrees(lex_key, nearest, t):
                return Decision("answer", key=lex_key, confidence=dict(scored).get(lex_key, 0.0))
    suggestions = suggested_keys(scored, lexical, t)
    if suggestions:
        return Decision("suggest", key=top_key, confidence=top_score, suggestions=suggestions)
    return Decision("decline", key=top_key, confidence=top_score)
