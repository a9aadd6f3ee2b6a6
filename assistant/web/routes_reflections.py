"""Reflections and prompts for practitioners, and recording supervision sessions.

Privacy rules (enforced here and in assistant.reflections.readable_by):
the author sees their own; their line manager sees one only if it was shared;
nobody else (including the programme team) sees any.
"""
from __future__ import annotations

import hmac

import datetime as dt
from typing import List, Optional

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy.orm import Session

from assistant import prompts as prompt_data
from assistant import reflection_exports
from assistant import reflections as data
from assistant.config import Settings
from assistant.models import Reflection, ReflectionPrompt, User
from assistant.web.deps import ApiError, current_user, get_db, get_settings_dep, require_role
from assistant.web.schemas import (
    AnswerOut, PromptOut, ReflectionOut, ResourceId, SessionOut, SessionRequest, ShareRequest, SnoozeRequest,
)

router = APIRouter(prefix="/api")
practitioner = require_role("practitioner")
reader = require_role("practitioner", "manager")


def reflection_out(r: Reflection, author: Optional[User] = None) -> ReflectionOut:
    """Public view of a reflection (for someone allowed to read it)."""
    return ReflectionOut(
        id=r.id, author_id=r.author_id, author_name=author.display_name if author else None,
        set_key=r.set_key, set_name=r.set_name, status=r.status, shared=r.shared,
        started_at=r.started_at.isoformat(), completed_at=r.completed_at.isoformat() if r.completed_at else None,
        answers=[AnswerOut(question=a.question, answer=a.answer, skipped=a.skipped) for a in r.answers],
    )


def prompt_out(p: ReflectionPrompt, *, session: Session) -> PromptOut:
    """Public view of a prompt."""
    set_row = data.get_set(p.set_key, session=session)
    sender = session.get(User, p.manager_id) if p.manager_id else None
    member = session.get(User, p.practitioner_id)
    return PromptOut(
        id=p.id, set_key=p.set_key, set_name=set_row.name if set_row else None, note=p.note,
        due_date=p.due_date.isoformat() if p.due_date else None, status=p.status,
        from_name=sender.display_name if sender else None, practitioner_id=p.practitioner_id,
        practitioner_name=member.display_name if member else None, created_at=p.created_at.isoformat(),
    )


@router.get("/reflections", response_model=List[ReflectionOut])
def my_reflections(user: User = Depends(practitioner), db: Session = Depends(get_db)) -> List[ReflectionOut]:
    """The practitioner's own reflections, newest first."""
    return [reflection_out(r) for r in data.list_own(user.id, session=db)]


@router.get("/reflections/export")
def export(format: str = "md", user: User = Depends(practitioner), db: Session = Depends(get_db)) -> Response:
    """Export one's own reflections as Markdown or CSV (CPD evidence)."""
    rows = data.list_own(user.id, session=db)
    stamp = dt.date.today().isoformat()
    if format == "csv":
        return Response(reflection_exports.export_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="reflections-{stamp}.csv"'})
    if format == "md":
        return Response(reflection_exports.export_markdown(rows), media_type="text/markdown; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="reflections-{stamp}.md"'})
    raise ApiError(422, "Choose format=md or format=csv.", "bad_format")


@router.get("/reflections/{reflection_id}", response_model=ReflectionOut)
def read_reflection(reflection_id: ResourceId, user: User = Depends(reader), db: Session = Depends(get_db)) -> ReflectionOut:
    """One reflection: its author, or their line manager if it was shared with them."""
    row = db.get(Reflection, reflection_id)
    if row is None or not data.readable_by(row, user, session=db):
        raise ApiError(404, "That reflection was not found.", "not_found")
    return reflection_out(row, db.get(User, row.author_id))


@router.post("/reflections/{reflection_id}/share", response_model=ReflectionOut)
def share(reflection_id: ResourceId, body: ShareRequest, user: User = Depends(practitioner),
          db: Session = Depends(get_db)) -> ReflectionOut:
    """Share one's own reflection with one's line manager, or stop sharing it."""
    row = data.get_own(reflection_id, user.id, session=db)
    data.set_shared(row, body.shared, session=db)
    db.commit()
    return reflection_out(row)


@router.delete("/reflections/{reflection_id}")
def delete(reflection_id: ResourceId, user: User = Depends(practitioner), db: Session = Depends(get_db)) -> dict:
    """Delete one's own reflection (and its text in the conversation store)."""
    data.delete_own(reflection_id, user.id, session=db)
    db.commit()
    return {"deleted": reflection_id}


@router.get("/prompts", response_model=List[PromptOut])
def my_prompts(user: User = Depends(practitioner), db: Session = Depends(get_db)) -> List[PromptOut]:
    """Reflection prompts waiting for the practitioner (marks them delivered)."""
    rows = prompt_data.pending_prompts(user.id, session=db)
    out = [prompt_out(p, session=db) for p in rows]
    db.commit()
    return out


@router.post("/prompts/{prompt_id}/snooze", response_model=PromptOut)
def snooze(prompt_id: ResourceId, body: SnoozeRequest, user: User = Depends(practitioner),
           db: Session = Depends(get_db)) -> PromptOut:
    """Hide a prompt for a while (1 hour to 7 days)."""
    row = prompt_data.snooze(prompt_data.own_prompt(prompt_id, user.id, session=db), body.hours, session=db)
    db.commit()
    return prompt_out(row, session=db)


@router.post("/prompts/{prompt_id}/dismiss", response_model=PromptOut)
def dismiss(prompt_id: ResourceId, user: User = Depends(practitioner), db: Session = Depends(get_db)) -> PromptOut:
    """Dismiss a prompt."""
    row = prompt_data.dismiss(prompt_data.own_prompt(prompt_id, user.id, session=db), session=db)
    db.commit()
    return prompt_out(row, session=db)


def _caller(request: Request, db: Session, settings: Settings, token: Optional[str]) -> Optional[User]:
    """The logged-in user, or None for a case-management system with the service token."""
    if token is not None:
        if not settings.service_token or not hmac.compare_digest(
                token.encode("utf-8", "replace"), settings.service_token.encode("utf-8")):
            raise ApiError(401, "Invalid service token.", "bad_service_token")
        return None
    return current_user(request, db)  # the same checks as every page (expiry, must-change-password)


@router.post("/sessions", response_model=SessionOut, status_code=201)
def record_session(body: SessionRequest, request: Request, response: Response, db: Session = Depends(get_db),
                   settings: Settings = Depends(get_settings_dep),
                   x_service_token: Optional[str] = Header(None)) -> SessionOut:
    """Record that a supervision session took place; a reflection prompt follows after a
    delay, within working hours. Callers: the practitioner (for themselves), their manager,
    or a case-management system (X-Service-Token). Replays with the same external_ref are safe."""
    caller = _caller(request, db, settings, x_service_token)
    practitioner_id = body.practitioner_id if body.practitioner_id is not None else (caller.id if caller else None)
    if practitioner_id is None:
        raise ApiError(422, "practitioner_id is required.", "invalid_request")
    row, prompt, created = prompt_data.record_session(
        practitioner_id=practitioner_id, occurred_at=body.occurred_utc, external_ref=body.external_ref,
        created_by=caller.id if caller else None, delay_minutes=settings.session_prompt_delay_minutes,
        start_hour=settings.working_hours_start, end_hour=settings.working_hours_end, session=db, caller=caller)
    db.commit()
    if not created:
        response.status_code = 200
    return SessionOut(session_id=row.id, prompt_id=prompt.id if prompt else None,
                      deliver_after=prompt.deliver_after.isoformat() if prompt else None, created=created)
