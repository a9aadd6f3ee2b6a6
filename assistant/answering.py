"""Turn Rasa's parse of a message into a decision: answer, suggest or decline.

Pure functions over the parse data, so they are easy to test and tune.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

FAQ_INTENT = "faq"
MAX_SUGGESTIONS = 3


@dataclass
class Decision:
    """What to do with a message: ``answer`` a key, ``suggest`` keys, or ``decline``."""

    kind: str
    key: Optional[str] = None
    confidence: Optional[float] = None
    suggestions: List[str] = field(default_factory=list)


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


def decide(
    parse: Dict[str, Any], *, answer_threshold: float, suggest_threshold: float,
) -> Decision:
    """Decide how to respond to a parsed message.

    The score of a key is P(faq intent) x P(key | faq). At or above
    ``answer_threshold`` the top key is answered; otherwise keys scoring at least
    ``suggest_threshold`` are offered (up to three); otherwise the question is declined.
    """
    key = chosen_key(parse)
    if key:
        return Decision("answer", key=key, confidence=1.0)
    intent = (parse.get("intent") or {}).get("name")
    if intent == "out_of_scope":
        return Decision("decline", confidence=_intent_confidence(parse, "out_of_scope"))
    p_faq = _intent_confidence(parse, FAQ_INTENT)
    scored = [(k, p_faq * p) for k, p in _faq_ranking(parse)]
    if not scored:
        return Decision("decline", confidence=0.0)
    top_key, top_score = scored[0]
    if intent == FAQ_INTENT and top_score >= answer_threshold:
        return Decision("answer", key=top_key, confidence=top_score)
    suggestions = [k for k, s in scored[:MAX_SUGGESTIONS] if s >= suggest_threshold]
    if suggestions:
        return Decision("suggest", key=top_key, confidence=top_score, suggestions=suggestions)
    return Decision("decline", key=top_key, confidence=top_score)
