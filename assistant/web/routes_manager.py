"""The manager's view: their team, completion counts, shared reflections, prompts.

Managers never see unshared reflections: only counts of prompts and completions.
"""
from __future__ import annotations

from typing import List

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from assistant import prompts as prompt_data
from assistant import reflections as data
from assistant.models import User
from assistant.users import team_of
from assistant.web.deps import current_user, get_db, require_role
from assistant.web.routes_reflections import prompt_out, reflection_out
from assistant.web.schemas import PromptOut, TeamPromptRequest

router = APIRouter(prefix="/api")
manager_only = require_role("manager")


@router.get("/team")
def team(user: User = Depends(manager_only), db: Session = Depends(get_db)) -> dict:
    """Team members, weekly counts, outstanding prompts and reflections shared with the manager."""
    members = team_of(user.id, session=db)
    return {
        "members": [{"id": m.id, "display_name": m.display_name, "username": m.username} for m in members],
        "weekly": data.weekly_counts(user.id, weeks=8, session=db),
        "outstanding": [prompt_out(p, session=db).dict()
                        for p in prompt_data.outstanding_for_manager(user.id, session=db)],
        "shared": [reflection_out(r, db.get(User, r.author_id)).dict()
                   for r in data.shared_with_manager(user.id, session=db)],
    }


@router.post("/team/prompts", response_model=List[PromptOut], status_code=201)
def send_prompts(body: TeamPromptRequest, user: User = Depends(manager_only),
                 db: Session = Depends(get_db)) -> List[PromptOut]:
    """Ask one or more team members to reflect (question set, optional note, due date)."""
    rows = prompt_data.create_prompts(manager=user, practitioner_ids=body.practitioner_ids,
                                      set_key=body.set_key, note=body.note, due_date=body.due, session=db)
    db.commit()
    return [prompt_out(p, session=db) for p in rows]


@router.get("/reflection-sets")
def reflection_sets(user: User = Depends(current_user), db: Session = Depends(get_db)) -> list:
    """The question sets (names and questions; no reflections)."""
    # sets are content, not personal data: every role may see them
    return [{"key": s.key, "name": s.name, "source": s.source, "default": s.is_default,
             "questions": [q.ask for q in s.questions]} for s in data.list_sets(session=db)]
