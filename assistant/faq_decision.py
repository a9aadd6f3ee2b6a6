"""The one function the actions call to decide what to do with a parsed FAQ question.

:func:`decide_for` combines the parse (DIET + ResponseSelector) with the lexical ranker
(:mod:`assistant.lexical`) built from the published FAQs in the database, and applies
the thresholds in ``Settings`` through the pure :func:`assistant.answering.decide`.

The lexical index and the nearest-example ranker (:mod:`assistant.nearest`, built in a
background thread: a quarter of a second of CPU for 43 FAQs) are cached per process and
per database; they are rebuilt when the FAQ content changes (a cheap fingerprint query
per message: counts, versions, latest update and example ids), so an FAQ or example
added on the programme team's page is matched at once.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.answering import Decision, decide, thresholds_from
from assistant.config import Settings, get_settings
from assistant.evaluation import documents_from_items
from assistant.lexical import FaqDocument, LexicalIndex, build_index, lexical_ranking
from assistant.models import Faq, FaqExample
from assistant.nearest import NearestExamples, build_nearest, nearest_ranking


@dataclass
class _Rankers:
    """The rankers for one version of the published FAQs."""

    fingerprint: Tuple[Any, ...]
    docs: List[FaqDocument]
    index: Optional[LexicalIndex]
    _nearest: Optional[NearestExamples] = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def nearest(self) -> Optional[NearestExamples]:
        """The nearest-example ranker, built the first time a decision needs it."""
        with self._lock:
            if self._nearest is None and self.docs:
                self._nearest = build_nearest(self.docs)
            return self._nearest


_lock = threading.Lock()
_cache: Dict[str, _Rankers] = {}


def _fingerprint(session: Session) -> Tuple[Any, ...]:
    faqs = session.execute(select(func.count(Faq.id), func.sum(Faq.version), func.max(Faq.updated_at))).one()
    published = session.scalar(select(func.count(Faq.id)).where(Faq.status == "published"))
    examples = session.execute(select(func.count(FaqExample.id), func.max(FaqExample.id),
                                      func.sum(FaqExample.id))).one()
    return tuple(faqs) + (published,) + tuple(examples)


def _load_documents(session: Session):
    rows = session.scalars(select(Faq).where(Faq.status == "published").order_by(Faq.id))
    return documents_from_items(
        {"key": f.key, "question": f.question, "answer": f.answer, "status": f.status,
         "examples": [e.text for e in f.examples]} for f in rows)


def _rankers(*, session: Session) -> _Rankers:
    bind = str(session.get_bind().url)
    fingerprint = _fingerprint(session)
    with _lock:
        cached = _cache.get(bind)
        if cached and cached.fingerprint == fingerprint:
            return cached
    docs = _load_documents(session)
    rankers = _Rankers(fingerprint, docs, build_index(docs) if docs else None)
    with _lock:
        _cache[bind] = rankers
    # built in the background (0.25 s of CPU for 43 FAQs), so that the first question needing it
    # waits for what is left rather than for all of it
    threading.Thread(target=rankers.nearest, name="nearest-ranker", daemon=True).start()
    return rankers


def lexical_index(*, session: Session) -> Optional[LexicalIndex]:
    """The lexical index for the published FAQs (cached; rebuilt when the content changes)."""
    return _rankers(session=session).index


def nearest_ranker(*, session: Session) -> Optional[NearestExamples]:
    """The nearest-example ranker for the published FAQs (built on first use, cached like
    the lexical index)."""
    return _rankers(session=session).nearest()


def decide_for(parse: Dict[str, Any], *, session: Session, mode: str = "chat",
               settings: Optional[Settings] = None) -> Decision:
    """Answer / suggest / decline for a parsed message (``tracker.latest_message``).

    ``mode``: ``"chat"`` (answer, suggest or decline), ``"fallback"`` (never answer
    outright) or ``"interruption"`` (a question asked mid-reflection: ``answer`` only when
    clearly a known FAQ, at ``Settings.interruption_answer_threshold``; otherwise
    ``decline``, meaning "not an FAQ question: carry on")."""
    settings = settings or get_settings()
    rankers = _rankers(session=session)
    text = parse.get("text") or ""
    ranking = lexical_ranking(rankers.index, text) if rankers.index else None
    return decide(parse, thresholds=thresholds_from(settings), lexical=ranking, mode=mode,
                  nearest=lambda: nearest_ranking(rankers.nearest(), text))
