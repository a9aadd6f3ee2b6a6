"""Login, logout and who-am-I."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.models import User
from assistant.sso import require_password_login
from assistant.login import LOGIN_FAILED, LoginLimits, authenticate
from assistant.users import end_session, start_session
from assistant.web.deps import COOKIE_NAME, ApiError, current_user, get_db, get_settings_dep
from assistant.web.schemas import LoginRequest, UserOut

router = APIRouter(prefix="/api")


def user_out(user: User) -> UserOut:
    """The public view of a user."""
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role)


def client_address(request: Request, settings: Settings) -> str:
    """Where the request came from: the socket's peer (uvicorn serves clients directly), or,
    only if ``login_trust_forwarded_for`` is set, the last address in X-Forwarded-For (the
    one our proxy appended; earlier ones are whatever the client sent)."""
    if settings.login_trust_forwarded_for:
        forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=UserOut)
def login(body: LoginRequest, request: Request, response: Response, db: Session = Depends(get_db),
          settings: Settings = Depends(get_settings_dep)) -> UserOut:
    """Check username and password; set the session cookie. Refused (403
    ``password_login_off``) when local passwords are switched off."""
    require_password_login(settings.password_login, settings.sso_provider_name if settings.sso_enabled else None)
    outcome = authenticate(
        body.username, body.password, address=client_address(request, settings),
        limits=LoginLimits.from_settings(settings), session=db,
    )
    if outcome.user is None:
        db.commit()  # keep the count
        # one answer for every failure, throttled or not, so it can't tell usernames apart
        raise ApiError(401, LOGIN_FAILED, "login_failed")
    token = start_session(outcome.user, hours=settings.session_hours, session=db)
    db.commit()
    set_session_cookie(response, token, settings)
    return user_out(outcome.user)


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """Give the browser its session (password login and single sign-on alike)."""
    response.set_cookie(
        COOKIE_NAME, token, max_age=int(settings.session_hours * 3600), httponly=True,
        samesite="strict", secure=settings.cookie_secure, path="/",
    )


@router.post("/logout")
def logout(request: Request, response: Response, db: Session = Depends(get_db),
           settings: Settings = Depends(get_settings_dep)) -> dict:
    """End the session (also fine when already logged out)."""
    end_session(request.cookies.get(COOKIE_NAME), session=db)
    db.commit()
    # the same attributes as when it was set, so no browser keeps or sends a looser copy
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=settings.cookie_secure)
    return {"ok": True}


@router.get("/me", response_model=UserOut)
def me(user: User = Depends(current_user)) -> UserOut:
    """The logged-in user."""
    return user_out(user)
