"""The programme team's pages: FAQs (edit, history, revert, add, import/export),
the review queue, usage, and retraining. Programme role only; every change is audited."""
from __future__ import annotations

import json
from typing import Optional

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import faq_admin as admin
from assistant import faq_io, insights, training
from assistant.content import export_faqs, seed_faqs
from assistant.models import TrainingJob, User
from assistant.web import render
from assistant.web.deps import ApiError, get_db, require_role
from assistant.web.schemas import ExampleIn, FaqIn, ImportIn, PreviewIn, QueueAction, ResourceId

router = APIRouter(prefix="/api")
programme = require_role("programme")


def faq_out(faq, with_history: bool = False, db: Optional[Session] = None) -> dict:
    """An FAQ for the programme pages (answer as Markdown and previewed HTML)."""
    out = admin.snapshot(faq)
    out.update(answer_html=render.markdown_html(faq.answer), overdue=admin.is_overdue(faq),
               updated_at=faq.updated_at.isoformat())
    if with_history and db is not None:
        out["history"] = [{"id": r.id, "version": r.version, "action": r.action, "changed_by": r.changed_by,
                           "changed_at": r.changed_at.isoformat(),
                           "before": json.loads(r.before) if r.before else None,
                           "after": json.loads(r.after) if r.after else None}
                          for r in admin.history(faq.key, session=db)]
    return out


def _changes(body: FaqIn) -> dict:
    """The fields the request sets; the rules (length, sources, dates) are the domain's
    (assistant.content.FaqContent, applied by assistant.faq_admin)."""
    return {k: v for k, v in body.dict(exclude_unset=True).items() if k != "version"}


def _queue_training(user: User, db: Session, reason: str) -> int:
    job = training.enqueue(user.id, session=db)
    admin.audit(user, "training.queued", f"job {job.id}", {"reason": reason}, session=db)
    return job.id


@router.get("/faqs")
def list_faqs(q: str = "", category: str = "", user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """FAQs with search and category filter; overdue reviews flagged."""
    faqs = admin.list_faqs(query=q[:200], category=category[:64], session=db)
    categories = sorted({f.category for f in admin.list_faqs(session=db)})
    return {"faqs": [faq_out(f) for f in faqs], "categories": categories}


@router.get("/faqs/export")
def export(format: str = "yaml", user: User = Depends(programme), db: Session = Depends(get_db)) -> Response:
    """All FAQ content as the repo's YAML content file or as CSV."""
    items = export_faqs(session=db)
    admin.audit(user, "faq.export", format, session=db)
    db.commit()
    if format == "csv":
        return Response(faq_io.to_csv(items), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="faqs.csv"'})
    if format == "yaml":
        return Response(faq_io.to_yaml(items), media_type="application/x-yaml; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="faqs.yml"'})
    raise ApiError(422, "Choose format=yaml or format=csv.", "bad_format")


@router.post("/faqs/import")
def import_faqs(body: ImportIn, user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Import FAQs (YAML or CSV): all rows are checked first; any error changes nothing."""
    items = faq_io.parse_csv(body.content) if body.format == "csv" else faq_io.parse_yaml(body.content)
    # one revision per FAQ created or changed, by this user; identical ones are left alone
    counts = seed_faqs(items, session=db, overwrite=True, revision_action="import", user=user)
    job_id = _queue_training(user, db, "import")
    db.commit()
    return {"imported": len(items), **counts, "training_job": job_id}


@router.post("/faqs/preview")
def preview(body: PreviewIn, user: User = Depends(programme)) -> dict:
    """Markdown preview exactly as the chat will show it (raw HTML disabled)."""
    return {"html": render.markdown_html(body.markdown)}


@router.get("/faqs/{key}")
def get_faq(key: str, user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """One FAQ with its history."""
    return faq_out(admin.get_faq(key, session=db), with_history=True, db=db)


@router.put("/faqs/{key}")
def update_faq(key: str, body: FaqIn, user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Save changes. Answer edits are live at once; example or status changes also retrain."""
    if body.version is None:
        raise ApiError(422, "Send the version you started editing from.", "invalid_request")
    changes = _changes(body)
    before = admin.snapshot(admin.get_faq(key, session=db))
    faq = admin.update_faq(key, changes, expected_version=body.version, user=user, session=db)
    job_id = _queue_training(user, db, f"edit {key}") if admin.needs_training(before, admin.snapshot(faq)) else None
    db.commit()
    return {"faq": faq_out(faq), "training_job": job_id}


@router.post("/faqs", status_code=201)
def create_faq(body: FaqIn, user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Add an FAQ; publishing it retrains the assistant in the background."""
    faq = admin.create_faq(_changes(body), user=user, session=db)
    job_id = _queue_training(user, db, f"new {faq.key}") if faq.status == "published" else None
    db.commit()
    return {"faq": faq_out(faq), "training_job": job_id}


@router.post("/faqs/{key}/revert/{revision_id}")
def revert(key: str, revision_id: ResourceId, user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Undo one change (a new revision restores what it replaced)."""
    before = admin.snapshot(admin.get_faq(key, session=db))
    faq = admin.revert(key, revision_id, user=user, session=db)
    job_id = _queue_training(user, db, f"revert {key}") if admin.needs_training(before, admin.snapshot(faq)) else None
    db.commit()
    return {"faq": faq_out(faq), "training_job": job_id}


@router.post("/faqs/{key}/examples", status_code=201)
def add_example(key: str, body: ExampleIn, user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Add an example question (e.g. from the review queue) and retrain."""
    faq = admin.add_example(key, body.text, user=user, session=db)
    if body.queue_ids:
        insights.resolve(body.queue_ids, "added", session=db)
    job_id = _queue_training(user, db, f"example for {key}")
    db.commit()
    return {"faq": faq_out(faq), "training_job": job_id}


@router.get("/review-queue")
def review_queue(user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Declined / low-confidence questions (grouped) and answers marked not helpful."""
    return {"items": insights.review_queue(session=db)}


@router.post("/review-queue/dismiss")
def dismiss(body: QueueAction, user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Dismiss queue items."""
    n = insights.resolve(body.ids, "dismissed", session=db)
    admin.audit(user, "queue.dismiss", ",".join(map(str, body.ids))[:120], session=db)
    db.commit()
    return {"dismissed": n}


@router.get("/usage")
def usage(user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Questions per week, top FAQs, helpfulness per FAQ, decline rate."""
    return insights.usage(session=db)


@router.get("/training")
def training_status(user: User = Depends(programme), db: Session = Depends(get_db)) -> dict:
    """Recent training jobs with status, progress, figures and reasons."""
    jobs = db.scalars(select(TrainingJob).order_by(TrainingJob.id.desc()).limit(10))
    return {"jobs": [{"id": j.id, "status": j.status, "progress": j.progress, "reason": j.reason,
                      "created_at": j.created_at.isoformat(),
                      "finished_at": j.finished_at.isoformat() if j.finished_at else None,
                      "metrics": json.loads(j.metrics) if j.metrics else None} for j in jobs]}
