"""FastAPI dependencies: settings, one database session per request, the current user."""
from __future__ import annotations

from typing import Iterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.db import get_sessionmaker
from assistant.models import User
from assistant.users import user_for_token

COOKIE_NAME = "pa_session"
# All a session may do while its user must change a temporary password (assistant.accounts).
PASSWORD_CHANGE_PATHS = frozenset({"/api/me", "/api/me/password", "/api/logout"})


class ApiError(HTTPException):
    """An error with a message for the user: rendered as ``{"error": ..., "code": ...}``."""

    def __init__(self, status_code: int, message: str, code: str = "error") -> None:
        super().__init__(status_code=status_code, detail=message)
        self.code = code


def get_settings_dep(request: Request) -> Settings:
    """The app's settings (set by ``create_app``)."""
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; the route commits, errors roll back."""
    session = get_sessionmaker(request.app.state.settings.database_url)()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def current_user(request: Request, db: Session = Depends(get_db)) -> User:
    """The logged-in user, or 401 (no session, or an expired one); 403 while they must change
    a temporary password, except to change it, see who they are or log out."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise ApiError(401, "Please log in.", "not_logged_in")
    user = user_for_token(token, session=db)
    if user is None:
        raise ApiError(401, "Your session has expired. Please log in again.", "session_expired")
    if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise ApiError(403, "Please change your temporary password before you continue.",
                       "must_change_password")
    return user


def require_role(*roles: str):
    """Dependency factory: the current user, if their role is one of ``roles``; else 403."""

    def dependency(user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            raise ApiError(403, "You don't have access to this page.", "forbidden")
        return user

    return dependency
