"""Request and response schemas of the JSON API (separate from database models)."""
from __future__ import annotations

from typing import List, Optional

from pydantic import BaseModel, Field, StrictBool, StrictStr


class LoginRequest(BaseModel):
    username: str = Field(..., max_length=200)
    password: str = Field(..., max_length=1000)


class UserOut(BaseModel):
    """What the API says about a user: never the password hash."""

    id: int
    username: str
    display_name: str
    role: str


class ChatRequest(BaseModel):
    message: StrictStr = Field("", max_length=100_000)
    payload: Optional[StrictStr] = Field(None, max_length=200)


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


class FeedbackRequest(BaseModel):
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


class ShareRequest(BaseModel):
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


class SnoozeRequest(BaseModel):
    hours: int = Field(24, ge=1, le=168)


class TeamPromptRequest(BaseModel):
    practitioner_ids: List[int] = Field(..., min_items=1, max_items=100)
    set_key: Optional[StrictStr] = Field(None, max_length=64)
    note: Optional[StrictStr] = Field(None, max_length=1000)
    due_date: Optional[str] = Field(None, max_length=10, regex=r"^\d{4}-\d{2}-\d{2}$")


class SessionRequest(BaseModel):
    practitioner_id: Optional[int] = None
    occurred_at: Optional[str] = Field(None, max_length=40)
    external_ref: Optional[StrictStr] = Field(None, max_length=100)


class SessionOut(BaseModel):
    session_id: int
    prompt_id: Optional[int]
    deliver_after: Optional[str]
    created: bool


class FaqIn(BaseModel):
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
    version: Optional[int] = None


class ExampleIn(BaseModel):
    text: StrictStr = Field(..., max_length=300)
    queue_ids: List[int] = []


class PreviewIn(BaseModel):
    markdown: StrictStr = Field(..., max_length=200_000)


class ImportIn(BaseModel):
    format: StrictStr = Field(..., regex=r"^(yaml|csv)$")
    content: StrictStr = Field(..., max_length=2_000_000)


class QueueAction(BaseModel):
    ids: List[int] = Field(..., min_items=1, max_items=500)
