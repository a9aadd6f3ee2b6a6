"""Login, logout and who-am-I."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.models import User
from assistant.users import authenticate, end_session, start_session
from assistant.web.deps import COOKIE_NAME, ApiError, current_user, get_db, get_settings_dep
from assistant.web.schemas import LoginRequest, UserOut

router = APIRouter(prefix="/api")


def user_out(user: User) -> UserOut:
    """The public view of a user."""
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role)


@router.post("/login", response_model=UserOut)
def login(body: LoginRequest, response: Response, db: Session = Depends(get_db),
          settings: Settings = Depends(get_settings_dep)) -> UserOut:
    """Check username and password; set the session cookie."""
    user, reason = authenticate(
        body.username, body.password, max_failures=settings.login_max_failures,
        lockout_minutes=settings.login_lockout_minutes, session=db,
    )
    if user is None:
        db.commit()  # keep the failure count
        raise ApiError(401, reason, "login_failed")
    token = start_session(user, hours=settings.session_hours, session=db)
    db.commit()
    response.set_cookie(
        COOKIE_NAME, token, max_age=int(settings.session_hours * 3600), httponly=True,
        samesite="strict", secure=settings.cookie_secure, path="/",
    )
    return user_out(user)


@router.post("/logout")
def logout(request: Request, response: Response, db: Session = Depends(get_db)) -> dict:
    """End the session (also fine when already logged out)."""
    end_session(request.cookies.get(COOKIE_NAME), session=db)
    db.commit()
    response.delete_cookie(COOKIE_NAME, path="/")
    return {"ok": True}


@router.get("/me", response_model=UserOut)
def me(user: User = Depends(current_user)) -> UserOut:
    """The logged-in user."""
    return user_out(user)
