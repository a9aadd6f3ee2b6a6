"""Request and response schemas of the JSON API (separate from database models).

Request bodies derive from :class:`RequestModel`, which refuses text no database or reply
can hold; ids are bounded to the database's integer range; dates are parsed here, so bad
input is a 422 and never reaches the domain code as an exception it can't expect."""
from __future__ import annotations

import datetime as dt
from typing import Any, List, Optional

from fastapi import Path
from pydantic import BaseModel, Field, StrictBool, StrictStr, conint, validator
from typing_extensions import Annotated

# Ids are PostgreSQL ``integer`` columns: anything larger is never an id, and would be a
# database error (not "not found") if it reached a query.
MAX_ID = 2**31 - 1
Id = conint(ge=1, le=MAX_ID)
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="a record's id")]


def storable_text(value: Any) -> Any:
    """``value``, unless it is text with a NUL character (PostgreSQL refuses it) or a lone
    surrogate (not encodable as UTF-8, so neither storable nor sendable): then ValueError."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid text (it has a lone surrogate character)") from None
    return value


def utc_instant(text: str) -> dt.datetime:
    """An ISO date-time (``Z`` or an offset allowed; none means UTC) as naive UTC, as the
    database keeps times. ValueError if it is not one, or is outside the years 1-9999 in UTC."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if when.tzinfo is not None:
            when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:59-14:00 is in the year 10000
        raise ValueError("must be an ISO date-time, e.g. 2026-11-24T10:30:00") from None
    return when


class RequestModel(BaseModel):
    """Base of every request body: no text field (list items too) may hold NUL or a lone surrogate."""

    @validator("*", each_item=True, allow_reuse=True)
    def _storable(cls, value):  # noqa: N805 - pydantic validator
        return storable_text(value)


class LoginRequest(RequestModel):
    username: str = Field(..., max_length=200)
    password: str = Field(..., max_length=1000)


class UserOut(BaseModel):
    """What the API says about a user: never the password hash."""

    id: int
    username: str
    display_name: str
    role: str


class ChatRequest(RequestModel):
    message: StrictStr = Field("", max_length=100_000)
    payload: Optional[StrictStr] = Field(None, max_length=200)
    # The browser's id for this message, the same when it sends it again after a failure:
    # a message already answered is answered again from the stored turn, never twice.
    client_message_id: Optional[StrictStr] = Field(None, regex=r"^[A-Za-z0-9_-]{8,64}$")


class Button(BaseModel):
    title: str
    payload: str


class ChatMessage(BaseModel):
    sender: str  # "user" or "bot"
    type: str = "text"  # text | faq_answer
    text: Optional[str] = None
    html: Optional[str] = None
    buttons: List[Button] = []
    faq_key: Optional[str] = None
    question: Optional[str] = None
    source: Optional[str] = None
    answer_id: Optional[str] = None
    feedback: Optional[bool] = None


class ChatResponse(BaseModel):
    messages: List[ChatMessage]
    sent: Optional[str] = None  # the text as relayed (after masking)
    earlier: int = 0  # history: how many earlier messages are not in this page


class FeedbackRequest(RequestModel):
    answer_id: str = Field(..., min_length=1, max_length=64)
    helpful: StrictBool


class FeedbackOut(BaseModel):
    answer_id: str
    faq_key: str
    helpful: StrictBool


class AnswerOut(BaseModel):
    question: str
    answer: Optional[str]
    skipped: bool


class ReflectionOut(BaseModel):
    id: int
    author_id: int
    author_name: Optional[str] = None
    set_key: str
    set_name: str
    status: str
    shared: bool
    started_at: str
    completed_at: Optional[str]
    answers: List[AnswerOut] = []


class ShareRequest(RequestModel):
    shared: StrictBool


class PromptOut(BaseModel):
    id: int
    set_key: str
    set_name: Optional[str] = None
    note: Optional[str]
    due_date: Optional[str]
    status: str
    from_name: Optional[str] = None
    practitioner_id: Optional[int] = None
    practitioner_name: Optional[str] = None
    created_at: str


class SnoozeRequest(RequestModel):
    hours: int = Field(24, ge=1, le=168)


class TeamPromptRequest(RequestModel):
    practitioner_ids: List[Id] = Field(..., min_items=1, max_items=100)
    set_key: Optional[StrictStr] = Field(None, max_length=64)
    note: Optional[StrictStr] = Field(None, max_length=1000)
    due_date: Optional[str] = Field(None, max_length=10, regex=r"^\d{4}-\d{2}-\d{2}$")

    @validator("due_date")
    def _a_real_date(cls, value):  # noqa: N805 - pydantic validator
        """The pattern lets 2026-02-30 through: the calendar must agree too."""
        if value is None:  # an explicit null: no due date
            return value
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date that exists, e.g. 2026-11-24") from None
        return value

    @property
    def due(self) -> Optional[dt.date]:
        """The due date, if any."""
        return dt.date.fromisoformat(self.due_date) if self.due_date else None


class SessionRequest(RequestModel):
    practitioner_id: Optional[Id] = None
    occurred_at: Optional[str] = Field(None, max_length=40)
    external_ref: Optional[StrictStr] = Field(None, max_length=100)

    @validator("occurred_at")
    def _an_instant(cls, value):  # noqa: N805 - pydantic validator
        if value is not None:  # an explicit null: now
            utc_instant(value)
        return value

    @property
    def occurred_utc(self) -> Optional[dt.datetime]:
        """When the session took place, as naive UTC (None: not given)."""
        return utc_instant(self.occurred_at) if self.occurred_at else None


class SessionOut(BaseModel):
    session_id: int
    prompt_id: Optional[int]
    deliver_after: Optional[str]
    created: bool


class FaqIn(RequestModel):
    """A new FAQ, or the fields to change in one (with the version the editor started from)."""

    key: Optional[StrictStr] = Field(None, max_length=64)
    category: Optional[StrictStr] = Field(None, max_length=64)
    question: Optional[StrictStr] = Field(None, max_length=300)
    answer: Optional[StrictStr] = Field(None, max_length=200_000)
    source: Optional[StrictStr] = Field(None, max_length=1000)
    status: Optional[StrictStr] = Field(None, max_length=16)
    last_reviewed: Optional[str] = Field(None, max_length=10)
    review_by: Optional[str] = Field(None, max_length=10)
    examples: Optional[List[StrictStr]] = Field(None, max_items=500)
    version: Optional[Id] = None


class ExampleIn(RequestModel):
    text: StrictStr = Field(..., max_length=300)
    queue_ids: List[Id] = Field([], max_items=500)


class PreviewIn(RequestModel):
    markdown: StrictStr = Field(..., max_length=200_000)


class ImportIn(RequestModel):
    format: StrictStr = Field(..., regex=r"^(yaml|csv)$")
    content: StrictStr = Field(..., max_length=2_000_000)


class QueueAction(RequestModel):
    ids: List[Id] = Field(..., min_items=1, max_items=500)
