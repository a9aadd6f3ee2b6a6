"""Single sign-on routes: the login view's options, the two browser steps of an OpenID
Connect sign-in (``/sso/login``, ``/sso/callback``) and linking an account (admin). The rules
are assistant.sso's; the protocol is assistant.sso_provider's.

The two ``/sso/`` routes are page loads, not API calls: they answer with redirects, and their
errors (the one handler in app.py, same statuses) as a short HTML page (:func:`error_page`).
"""
from __future__ import annotations

import threading
from typing import Optional

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from assistant import sso
from assistant.config import Settings
from assistant.errors import DomainError
from assistant.models import User
from assistant.sso_provider import OidcClient, SsoConfig, SsoError, SsoNotConfigured
from assistant.users import start_session
from assistant.web import pages
from assistant.web.deps import get_db, get_settings_dep, require_role
from assistant.web.routes_admin import account_out
from assistant.web.routes_auth import set_session_cookie
from assistant.web.schemas import ResourceId
from assistant.web.schemas_admin import AccountOut

router = APIRouter()
SSO_COOKIE = "pa_sso"  # the browser token of a sign-in in progress
SSO_COOKIE_PATH = "/sso/"
_client_lock = threading.Lock()


class SsoOption(BaseModel):
    name: str
    url: str


class LoginOptions(BaseModel):
    """What the login view offers."""

    password_login: bool
    sso: Optional[SsoOption] = None


class SsoIdIn(BaseModel):
    """The provider's identifier for the account (the matched claim's value); null unlinks."""

    sso_id: Optional[str] = Field(..., max_length=255)


def oidc_client(request: Request, settings: Settings) -> OidcClient:
    """The app's provider client (made on first use; it caches the provider's metadata and
    keys), or :class:`SsoNotConfigured`."""
    config = SsoConfig.from_settings(settings)
    if config is None:
        raise SsoNotConfigured("Single sign-on is not set up for this service.", code="sso_not_configured")
    with _client_lock:
        client = getattr(request.app.state, "oidc_client", None)
        if client is None or client.config != config:
            client = request.app.state.oidc_client = OidcClient(config)
    return client


def redirect_uri(request: Request, settings: Settings) -> str:
    """The callback URL registered with the provider: ``sso_redirect_url``, else this app's own."""
    return settings.sso_redirect_url or str(request.url_for("sso_callback"))


@router.get("/api/login-options", response_model=LoginOptions)
def login_options(settings: Settings = Depends(get_settings_dep)) -> LoginOptions:
    """Whether the login view offers a password form, single sign-on, or both."""
    option = SsoOption(name=settings.sso_provider_name, url="/sso/login") if settings.sso_enabled else None
    return LoginOptions(password_login=settings.password_login, sso=option)


@router.get("/sso/login", include_in_schema=False)
def sso_login(request: Request, db: Session = Depends(get_db),
              settings: Settings = Depends(get_settings_dep)) -> RedirectResponse:
    """Send the browser to the provider (authorisation code request with PKCE)."""
    client = oidc_client(request, settings)
    url, browser_token = sso.begin_login(client, redirect_uri=redirect_uri(request, settings), session=db)
    db.commit()
    response = RedirectResponse(url, status_code=303)
    # SameSite=Lax: the provider's redirect back is a cross-site navigation
    response.set_cookie(SSO_COOKIE, browser_token, max_age=settings.sso_login_minutes * 60, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path=SSO_COOKIE_PATH)
    return response


@router.get("/sso/callback", include_in_schema=False)
def sso_callback(request: Request, db: Session = Depends(get_db),
                 settings: Settings = Depends(get_settings_dep)) -> RedirectResponse:
    """The provider's answer: log the matched local account in (the same session as a
    password login) and go to the chat; otherwise a page saying why not."""
    client = oidc_client(request, settings)
    params = {key: request.query_params.get(key) for key in ("state", "code", "error", "iss")}
    try:
        user = sso.complete_login(client, params=params, browser_token=request.cookies.get(SSO_COOKIE), session=db)
    except SsoError:
        db.commit()  # the attempt stays used up; the refusal stays in the audit log
        raise
    token = start_session(user, hours=settings.session_hours, session=db)
    db.commit()
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, token, settings)
    response.delete_cookie(SSO_COOKIE, path=SSO_COOKIE_PATH, httponly=True, samesite="lax",
                           secure=settings.cookie_secure)
    return response


@router.post("/api/admin/users/{user_id}/sso-id", response_model=AccountOut)
def set_sso_id(user_id: ResourceId, body: SsoIdIn, user: User = Depends(require_role("admin")),
               db: Session = Depends(get_db), settings: Settings = Depends(get_settings_dep)) -> AccountOut:
    """Link an account to the provider's identifier for that person (null unlinks); audited."""
    account = sso.set_sso_id(user_id, body.sso_id, claim=settings.sso_match_claim, actor=user, session=db)
    db.commit()
    return account_out(account)


def error_page(status: int, exc: DomainError) -> HTMLResponse:
    """A sign-in that failed, as a page in the service's layout: what happened and a way back."""
    return pages.message_page("You could not be signed in", str(exc), status=status, code=exc.code,
                              message_id="sso-error")
