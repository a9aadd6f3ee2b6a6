"""Chat: relay messages to Rasa as the logged-in user, history, feedback."""
from __future__ import annotations

import logging
import uuid
from typing import Optional

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.dialogue import has_content
from assistant.faq import feedback_for_answers, record_feedback
from assistant.masking import mask
from assistant.models import Faq, User
from assistant.users import staff_names
from assistant.web import render
from assistant.web.deps import ApiError, current_user, get_db, get_settings_dep
from assistant.web.rasa_client import AssistantUnavailable
from assistant.web.schemas import ChatMessage, ChatRequest, ChatResponse, FeedbackOut, FeedbackRequest

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api")

UNAVAILABLE = ("The assistant is unavailable right now, so your message was not answered. "
               "Please try again in a few minutes.")


def _questions(db: Session) -> dict:
    return dict(db.execute(select(Faq.key, Faq.question)).all())


def without_commands(text: str) -> str:
    """``text`` trimmed, with every leading "/" gone, however many and whatever whitespace
    is between them ("/ /restart" -> "restart"): Rasa trims a message the same way
    (``str.strip``) and then reads one that starts with "/" as a command ("/intent{...}")."""
    text = text.strip()
    while text.startswith("/"):
        text = text.lstrip("/").strip()
    return text


def _clean_message(body: ChatRequest, settings: Settings) -> str:
    """The text to send to Rasa: a whitelisted button payload, or typed text that can't be a command."""
    if body.payload is not None:
        if not render.allowed_payload(body.payload):
            raise ApiError(422, "That button is not recognised.", "bad_payload")
        return body.payload
    text = without_commands(body.message or "")
    if not text:
        raise ApiError(422, "Please type a message.", "empty_message")
    if not has_content(text):  # only punctuation or emoji: nothing to answer, nothing to record
        raise ApiError(422, "Please type a message with some words in it.", "empty_message")
    if len(text) > settings.max_message_chars:
        raise ApiError(
            422, f"Your message is {len(text):,} characters long; please keep it under "
                 f"{settings.max_message_chars:,} characters.", "message_too_long")
    return text


@router.post("/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, request: Request, user: User = Depends(current_user),
               settings: Settings = Depends(get_settings_dep), db: Session = Depends(get_db)) -> ChatResponse:
    """Send one message to the assistant and return its replies."""
    message = _clean_message(body, settings)
    notices = []
    if body.payload is None:
        # identifiers never reach Rasa, its tracker store or logs; staff names stay, for team requests
        masked = mask(message, keep_names=staff_names(session=db))
        if masked.changed:
            message = masked.text
            notices.append(ChatMessage(sender="bot", type="notice", text=masked.notice(),
                                       html=render.markdown_html(masked.notice())))
    message_id = body.client_message_id or uuid.uuid4().hex
    user_id = str(user.id)
    # Nothing more is read from the database: give the connection back before waiting for
    # Rasa (a chat could otherwise hold one for 20 s, and a failure closing it later would
    # lose a reply that was already given).
    db.close()
    client = request.app.state.rasa
    try:
        items = await client.send(user_id, message, message_id)
    except AssistantUnavailable:
        logger.warning("Rasa unavailable")
        raise ApiError(503, UNAVAILABLE, "assistant_unavailable")
    messages = render.from_webhook(items)
    if not messages:
        healthy = await client.actions_healthy()
        logger.warning("empty reply from Rasa (action server healthy: %s)", healthy)
        raise ApiError(503, UNAVAILABLE, "assistant_unavailable")
    return ChatResponse(messages=notices + messages, sent=message)


@router.get("/history", response_model=ChatResponse)
async def history(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db),
                  limit: int = Query(200, ge=1, le=1000), before: Optional[int] = Query(None, ge=0, le=10**9),
                  ) -> ChatResponse:
    """The conversation so far (from Rasa's tracker store), with the user's feedback: the
    last ``limit`` messages (before position ``before``, for paging back), and how many
    earlier ones there are (``earlier``), so nothing is dropped without saying so."""
    try:
        events = await request.app.state.rasa.events(str(user.id))
    except AssistantUnavailable:
        raise ApiError(503, "Your conversation can't be loaded because the assistant is "
                            "unavailable right now. Please try again in a few minutes.",
                       "assistant_unavailable")
    everything = render.from_events(events, _questions(db))
    end = len(everything) if before is None else min(before, len(everything))
    messages = everything[max(0, end - limit):end]
    votes = feedback_for_answers(user.id, [m.answer_id for m in messages if m.answer_id], session=db)
    for m in messages:
        if m.answer_id in votes:
            m.feedback = votes[m.answer_id]
    return ChatResponse(messages=messages, earlier=max(0, end - limit))


@router.post("/feedback", response_model=FeedbackOut)
def feedback(body: FeedbackRequest, user: User = Depends(current_user),
             db: Session = Depends(get_db)) -> FeedbackOut:
    """Record "helpful" / "not helpful" for an answer the user was given."""
    row = record_feedback(user_id=user.id, answer_id=body.answer_id, helpful=body.helpful, session=db)
    db.commit()
    return FeedbackOut(answer_id=row.answer_id, faq_key=row.faq_key, helpful=row.helpful)
