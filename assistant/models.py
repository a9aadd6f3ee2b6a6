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
from sqlalchemy.sql.expression import false

Base = declarative_base()

# admin: administers accounts only (assistant.accounts); sees no reflections and no FAQ pages
ROLES = ("practitioner", "manager", "programme", "admin")


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
    created_at = Column(DateTime, nullable=False, default=utcnow)
    # set by an administrator's temporary password: until changed, the user's sessions may
    # only change it (assistant.web.deps)
    must_change_password = Column(Boolean, nullable=False, default=False, server_default=false())
    # the one live "set your password" link (SHA-256 of its token), when it expires and when
    # it was used: a new link replaces the old one; a used one is kept to say "already used"
    password_reset_hash = Column(String(64), nullable=True, unique=True, index=True)
    password_reset_expires_at = Column(DateTime, nullable=True)
    password_reset_used_at = Column(DateTime, nullable=True)
    # single sign-on (assistant.sso): the identity provider's value of the matched claim for
    # this person (Settings.sso_match_claim: a verified email, lower-cased, or sub / oid)
    sso_id = Column(String(255), nullable=True, unique=True, index=True)

    manager = relationship("User", remote_side=[id])


class WebSession(Base):
    """A login session; only the SHA-256 of the cookie token is stored."""

    __tablename__ = "web_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)

    user = relationship("User", lazy="joined")  # every authenticated request needs both


class SsoLogin(Base):
    """A single sign-on attempt between sending the browser to the provider and its return
    (assistant.sso): one use, deleted when the browser comes back or when it expires. Only
    hashes of the state and of the browser's cookie are stored."""

    __tablename__ = "sso_logins"

    state_hash = Column(String(64), primary_key=True)
    browser_hash = Column(String(64), nullable=False)
    nonce = Column(String(128), nullable=False)
    code_verifier = Column(String(128), nullable=False)
    redirect_uri = Column(String(500), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False, index=True)


class LoginThrottle(Base):
    """Counted login attempts for a username from one client address, or from every address
    the user has not logged in from lately (``address`` = ``'*'``); see assistant.login.

    Keyed by the username as typed, whether or not it exists, so throttling does not tell.
    """

    __tablename__ = "login_throttles"

    username = Column(String(200), primary_key=True)  # lower-cased, as typed (the login form allows 200)
    address = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)  # checked attempts since the last success
    refused = Column(Integer, nullable=False, default=0)  # attempts refused unchecked while waiting
    last_failure_at = Column(DateTime, nullable=False, index=True)  # the last checked attempt
    next_allowed_at = Column(DateTime, nullable=False)
    last_success_at = Column(DateTime, nullable=True)  # pair rows only: a known address


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


class ReflectionSet(Base):
    """A question set (Gibbs, What? So what? Now what?, ...), loaded from content/reflection_sets.yml."""

    __tablename__ = "reflection_sets"

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    source = Column(Text, nullable=False)
    is_default = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)

    questions = relationship(
        "ReflectionQuestion", back_populates="set", cascade="all, delete-orphan",
        order_by="ReflectionQuestion.position",
    )


class ReflectionQuestion(Base):
    __tablename__ = "reflection_questions"
    __table_args__ = (UniqueConstraint("set_id", "qid", name="uq_reflection_question"),)

    id = Column(Integer, primary_key=True)
    set_id = Column(Integer, ForeignKey("reflection_sets.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    qid = Column(String(64), nullable=False)
    ask = Column(Text, nullable=False)

    set = relationship("ReflectionSet", back_populates="questions")


class SupervisionSession(Base):
    """A supervision session that took place (recorded by a case-management system or the practitioner)."""

    __tablename__ = "supervision_sessions"
    __table_args__ = (UniqueConstraint("practitioner_id", "external_ref", name="uq_session_external_ref"),)

    id = Column(Integer, primary_key=True)
    practitioner_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    occurred_at = Column(DateTime, nullable=False)
    external_ref = Column(String(100), nullable=True)
    created_by = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ReflectionPrompt(Base):
    """A request to reflect, from a manager or after a recorded session."""

    __tablename__ = "reflection_prompts"

    id = Column(Integer, primary_key=True)
    practitioner_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    manager_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    session_id = Column(Integer, ForeignKey("supervision_sessions.id", ondelete="SET NULL"), nullable=True)
    set_key = Column(String(64), nullable=False)
    note = Column(Text, nullable=True)
    due_date = Column(Date, nullable=True)
    deliver_after = Column(DateTime, nullable=False, default=utcnow)
    status = Column(String(16), nullable=False, default="pending")  # pending|started|completed|dismissed
    snoozed_until = Column(DateTime, nullable=True)
    delivered_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    completed_at = Column(DateTime, nullable=True)


class Reflection(Base):
    """One reflection; private to its author unless shared with a person (their line manager
    when they shared it: ``shared_with_id``; a later change of manager does not pass it on)."""

    __tablename__ = "reflections"
    __table_args__ = (UniqueConstraint("author_id", "run_id", name="uq_reflection_run"),)

    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    run_id = Column(String(64), nullable=False)  # conversation + form run: makes saving idempotent
    set_key = Column(String(64), nullable=False)
    set_name = Column(String(200), nullable=False)
    status = Column(String(16), nullable=False, default="in_progress")  # in_progress|completed
    shared = Column(Boolean, nullable=False, default=False)
    shared_at = Column(DateTime, nullable=True)
    shared_with_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    session_id = Column(Integer, ForeignKey("supervision_sessions.id", ondelete="SET NULL"), nullable=True)
    prompt_id = Column(Integer, ForeignKey("reflection_prompts.id", ondelete="SET NULL"), nullable=True)
    started_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    completed_at = Column(DateTime, nullable=True)

    answers = relationship(
        "ReflectionAnswer", back_populates="reflection", cascade="all, delete-orphan",
        order_by="ReflectionAnswer.position",
    )


class ReflectionAnswer(Base):
    __tablename__ = "reflection_answers"
    __table_args__ = (UniqueConstraint("reflection_id", "qid", name="uq_reflection_answer"),)

    id = Column(Integer, primary_key=True)
    reflection_id = Column(Integer, ForeignKey("reflections.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    qid = Column(String(64), nullable=False)
    question = Column(Text, nullable=False)
    answer = Column(Text, nullable=True)  # None when skipped
    skipped = Column(Boolean, nullable=False, default=False)
    masked_count = Column(Integer, nullable=False, default=0)
    # the chat message that gave this answer: saving it again is a retry (same id); another
    # message for the same question means the form was behind, and is never an overwrite
    message_id = Column(String(64), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    reflection = relationship("Reflection", back_populates="answers")


class FaqRevision(Base):
    """One change to an FAQ: who, when, before and after (JSON snapshots)."""

    __tablename__ = "faq_revisions"

    id = Column(Integer, primary_key=True)
    faq_key = Column(String(64), nullable=False, index=True)
    version = Column(Integer, nullable=False)
    action = Column(String(20), nullable=False)  # create|edit|revert|import|example
    changed_by = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    changed_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    before = Column(Text, nullable=True)
    after = Column(Text, nullable=True)


class AuditEntry(Base):
    """Every change made through the programme team's pages."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    action = Column(String(40), nullable=False)
    target = Column(String(120), nullable=True)
    detail = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class TrainingJob(Base):
    """A retraining run after FAQs or examples were published; one runs at a time."""

    __tablename__ = "training_jobs"

    id = Column(Integer, primary_key=True)
    status = Column(String(16), nullable=False, default="queued")  # queued|training|evaluating|deployed|rejected|failed
    requested_by = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    started_at = Column(DateTime, nullable=True)
    finished_at = Column(DateTime, nullable=True)
    progress = Column(String(200), nullable=True)
    model_path = Column(Text, nullable=True)
    metrics = Column(Text, nullable=True)
    reason = Column(Text, nullable=True)
