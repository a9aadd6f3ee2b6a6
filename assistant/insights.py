"""For the programme team: the review queue (declined / low-confidence questions and
"not helpful" answers, grouped when similar) and usage figures."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from typing import Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.models import AnswerFeedback, AnswerLog, Faq, UnansweredQuestion, utcnow

STOP = {"the", "a", "an", "is", "are", "what", "whats", "how", "do", "does", "i", "my", "me", "to", "of", "in",
        "for", "and", "or", "on", "can", "you", "it", "this", "that", "there", "be", "with", "about", "s"}
SIMILAR = 0.5


def _words(text: str) -> set:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP}


def _similar(a: set, b: set) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= SIMILAR


def review_queue(*, session: Session, limit: int = 500) -> List[Dict]:
    """Open questions the assistant could not answer well, grouped when similar (newest first)."""
    rows = list(session.scalars(select(UnansweredQuestion).where(UnansweredQuestion.status == "open")
                                .order_by(UnansweredQuestion.created_at.desc()).limit(limit)))
    groups: List[Dict] = []
    for row in rows:
        words = _words(row.text)
        for group in groups:
            if _similar(words, group["_words"]):
                group["items"].append(row)
                break
        else:
            groups.append({"_words": words, "items": [row]})
    not_helpful = session.execute(
        select(AnswerFeedback.faq_key, func.count()).where(AnswerFeedback.helpful.is_(False))
        .group_by(AnswerFeedback.faq_key).order_by(func.count().desc())).all()
    out = []
    for g in groups:
        items = g["items"]
        keys = Counter(i.top_key for i in items if i.top_key)
        out.append({
            "text": items[0].text, "count": len(items), "ids": [i.id for i in items],
            "reasons": sorted({i.reason for i in items}), "suggested_key": keys.most_common(1)[0][0] if keys else None,
            "examples": [i.text for i in items[:5]], "latest": items[0].created_at.isoformat(),
        })
    return out + [{"not_helpful_key": key, "count": n} for key, n in not_helpful]


def resolve(ids: List[int], status: str, *, session: Session) -> int:
    """Mark queue items ``added`` or ``dismissed``; returns how many changed."""
    rows = list(session.scalars(select(UnansweredQuestion).where(UnansweredQuestion.id.in_(ids))))
    for row in rows:
        row.status = status
    return len(rows)


def _week(stamp: dt.datetime) -> str:
    year, week, _ = stamp.isocalendar()
    return f"{year}-W{week:02d}"


def usage(*, session: Session, weeks: int = 8, now: Optional[dt.datetime] = None) -> Dict:
    """Questions per week, decline rate per week, top FAQs and helpfulness per FAQ."""
    since = (now or utcnow()) - dt.timedelta(weeks=weeks)
    answered = session.scalars(select(AnswerLog.created_at).where(AnswerLog.created_at >= since)).all()
    unanswered = session.execute(select(UnansweredQuestion.created_at, UnansweredQuestion.reason)
                                 .where(UnansweredQuestion.created_at >= since)).all()
    per_week: Dict[str, Dict[str, int]] = defaultdict(lambda: {"answered": 0, "declined": 0, "low_confidence": 0})
    for stamp in answered:
        per_week[_week(stamp)]["answered"] += 1
    for stamp, reason in unanswered:
        per_week[_week(stamp)][reason if reason in ("declined", "low_confidence") else "declined"] += 1
    weekly = []
    for week in sorted(per_week):
        w = per_week[week]
        total = w["answered"] + w["declined"] + w["low_confidence"]
        weekly.append({"week": week, "questions": total, **w,
                       "decline_rate": round(w["declined"] / total, 3) if total else 0.0})
    top = session.execute(select(AnswerLog.faq_key, func.count()).where(AnswerLog.created_at >= since)
                          .group_by(AnswerLog.faq_key).order_by(func.count().desc()).limit(10)).all()
    votes = session.execute(select(AnswerFeedback.faq_key, AnswerFeedback.helpful, func.count())
                            .group_by(AnswerFeedback.faq_key, AnswerFeedback.helpful)).all()
    helpful: Dict[str, Dict[str, int]] = defaultdict(lambda: {"helpful": 0, "not_helpful": 0})
    for key, is_helpful, n in votes:
        helpful[key]["helpful" if is_helpful else "not_helpful"] += n
    questions = dict(session.execute(select(Faq.key, Faq.question)).all())
    return {
        "weekly": weekly,
        "top_faqs": [{"key": k, "question": questions.get(k, k), "answers": n} for k, n in top],
        "helpfulness": [{"key": k, "question": questions.get(k, k), **v,
                         "rate": round(v["helpful"] / (v["helpful"] + v["not_helpful"]), 3)}
                        for k, v in sorted(helpful.items())],
    }
