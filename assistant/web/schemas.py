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


class FeedbackRequest(BaseModel):
    answer_id: str = Field(..., min_length=1, max_length=64)
    helpful: StrictBool


class FeedbackOut(BaseModel):
    answer_id: str
    faq_key: str
    helpful: StrictBool
