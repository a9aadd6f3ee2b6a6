"""SQLAlchemy models (1.4, 2.0 style). Schema changes go through Alembic.

Rasa's SQL tracker store keeps its own table ``events`` in the same database;
no model here may use that name.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

ROLES = ("practitioner", "manager", "programme")


def utcnow() -> dt.datetime:
    """Naive UTC now (stored without time zone on every backend)."""
    return dt.datetime.utcnow().replace(microsecond=0)


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(20), nullable=False)
    manager_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    manager = relationship("User", remote_side=[id])


class WebSession(Base):
    """A login session; only the SHA-256 of the cookie token is stored."""

    __tablename__ = "web_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)

    user = relationship("User")


class Faq(Base):
    __tablename__ = "faqs"

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False, unique=True)
    category = Column(String(64), nullable=False)
    question = Column(Text, nullable=False)
    answer = Column(Text, nullable=False)
    source = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="published")
    last_reviewed = Column(Date, nullable=True)
    review_by = Column(Date, nullable=True)
    version = Column(Integer, nullable=False, default=1)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    examples = relationship(
        "FaqExample", back_populates="faq", cascade="all, delete-orphan", order_by="FaqExample.id"
    )


class FaqExample(Base):
    __tablename__ = "faq_examples"
    __table_args__ = (UniqueConstraint("faq_id", "text", name="uq_faq_example_text"),)

    id = Column(Integer, primary_key=True)
    faq_id = Column(Integer, ForeignKey("faqs.id", ondelete="CASCADE"), nullable=False, index=True)
    text = Column(String(500), nullable=False)

    faq = relationship("Faq", back_populates="examples")


class UnansweredQuestion(Base):
    """A question the assistant declined or answered with low confidence."""

    __tablename__ = "unanswered_questions"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    text = Column(Text, nullable=False)
    reason = Column(String(20), nullable=False)  # declined | low_confidence
    top_key = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)
    message_id = Column(String(64), nullable=True, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    status = Column(String(16), nullable=False, default="open")


class AnswerFeedback(Base):
    """Helpful / not helpful on one answer; one row per user and answer."""

    __tablename__ = "answer_feedback"
    __table_args__ = (UniqueConstraint("user_id", "answer_id", name="uq_feedback_user_answer"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    faq_key = Column(String(64), nullable=False, index=True)
    answer_id = Column(String(64), nullable=False)
    helpful = Column(Boolean, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class AnswerLog(Base):
    """One FAQ answer given (key, user, time): the basis for usage figures and feedback checks."""

    __tablename__ = "answer_log"

    id = Column(Integer, primary_key=True)
    answer_id = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    faq_key = Column(String(64), nullable=False, index=True)
    confidence = Column(Float, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
