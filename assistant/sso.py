"""Single sign-on: who may log in through the OpenID Connect provider (``*, session``; no
commits). The protocol itself is in assistant.sso_provider.

How a sign-in goes:

1. :func:`begin_login` makes a ``state``, a ``nonce``, a PKCE ``code_verifier`` and a browser
   token (kept in a short-lived cookie), stores them (hashes of the state and browser token) in
   ``sso_logins`` and returns the provider's authorisation URL.
2. The provider signs the person in and sends the browser back with a code and the state.
3. :func:`complete_login` takes that attempt out of ``sso_logins`` (one use: a replayed or
   forged callback finds nothing), checks it came back in time to the browser that started it,
   exchanges the code (client secret and PKCE verifier), checks the ID token
   (assistant.sso_provider) and finds the LOCAL account: the active user whose ``sso_id``
   equals the token's ``Settings.sso_match_claim`` (``email`` only when ``email_verified`` is
   true). Role and line manager are the local account's; nobody is created, and an unknown or
   deactivated account is refused. Successes and refusals go in the audit log.

Administrators link accounts with :func:`set_sso_id` (API and command line).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any, Dict, Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.errors import Conflict, Invalid, NotAllowed, NotFound
from assistant.faq_admin import audit
from assistant.models import SsoLogin, User, utcnow
from assistant.sso_provider import OidcClient, SsoError, SsoInvalid

MAX_PARAM_CHARS = 2048  # state, code: anything longer was not sent by us or the provider
MAX_SSO_ID_CHARS = 255


class SsoRefused(SsoError, NotAllowed):
    """The person signed in at the provider, but may not log in here."""


class PasswordLoginOff(SsoError, NotAllowed):
    """Local passwords are switched off."""


class SsoIdInvalid(SsoError, Invalid):
    """Not a usable identifier."""


class SsoIdTaken(SsoError, Conflict):
    """Another account already has this identifier."""


class SsoAccountNotFound(SsoError, NotFound):
    """No such account."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def require_password_login(enabled: bool, provider_name: Optional[str]) -> None:
    """Refuse a password login when local passwords are switched off (``Settings.password_login``)."""
    if not enabled:
        how = f"Please use \u201cSign in with {provider_name}\u201d." if provider_name else ""
        raise PasswordLoginOff(f"Logging in with a password is switched off for this service. {how}".strip(),
                               code="password_login_off")


def normalise_sso_id(value: Optional[str], claim: str) -> str:
    """The stored form of an identifier: trimmed; an email address also lower-cased."""
    value = (value or "").strip()
    if not value or len(value) > MAX_SSO_ID_CHARS or any(ord(c) < 32 for c in value):
        raise SsoIdInvalid(f"The single sign-on identifier must be 1-{MAX_SSO_ID_CHARS} characters "
                           "without control characters.", code="invalid_sso_id")
    if claim == "email":
        if "@" not in value:
            raise SsoIdInvalid("The single sign-on identifier must be an email address (the matched claim "
                               "is email).", code="invalid_sso_id")
        value = value.lower()
    return value


def set_sso_id(user_id: int, sso_id: Optional[str], *, claim: str, actor: Optional[User],
               session: Session) -> User:
    """Link the account ``user_id`` to the provider's identifier ``sso_id`` (None unlinks);
    audited as ``account.sso_id``. ``actor``: the administrator, or None for the command line."""
    user = session.get(User, user_id)
    if user is None:
        raise SsoAccountNotFound("No such account.", code="not_found")
    value = normalise_sso_id(sso_id, claim) if sso_id is not None else None
    if value is not None:
        other = session.scalars(select(User).where(User.sso_id == value, User.id != user.id)).first()
        if other is not None:
            raise SsoIdTaken(f"The account {other.username!r} already has this single sign-on identifier.",
                             code="sso_id_taken")
    before = user.sso_id
    user.sso_id = value
    session.flush()
    audit(actor, "account.sso_id", user.username,
          {"user_id": user.id, "before": before, "after": value, "by": "command line" if actor is None else None},
          session=session)
    return user


def begin_login(client: OidcClient, *, redirect_uri: str, session: Session,
                now: Optional[dt.datetime] = None) -> Tuple[str, str]:
    """Start a sign-in: (the provider's authorisation URL, the browser token for the cookie)."""
    now = now or utcnow()
    state, nonce, verifier, browser = (secrets.token_urlsafe(32) for _ in range(4))
    url = client.authorization_url(state=state, nonce=nonce, code_verifier=verifier, redirect_uri=redirect_uri)
    session.execute(delete(SsoLogin).where(SsoLogin.expires_at < now))  # attempts never finished
    session.add(SsoLogin(
        state_hash=_digest(state), browser_hash=_digest(browser), nonce=nonce, code_verifier=verifier,
        redirect_uri=redirect_uri, created_at=now,
        expires_at=now + dt.timedelta(minutes=client.config.login_minutes),
    ))
    return url, browser


def _take_attempt(state: Optional[str], *, session: Session):
    """The stored attempt for ``state`` (a row of plain values), deleted so it can't be used
    again (of two concurrent callbacks with one state, only the one whose delete counts gets it)."""
    if not isinstance(state, str) or not state or len(state) > MAX_PARAM_CHARS:
        return None
    t = SsoLogin.__table__
    attempt = session.execute(select(t).where(t.c.state_hash == _digest(state))).first()
    if attempt is None:
        return None
    taken = session.execute(delete(t).where(t.c.state_hash == attempt.state_hash)).rowcount
    return attempt if taken == 1 else None


def complete_login(client: OidcClient, *, params: Dict[str, Any], browser_token: Optional[str],
                   session: Session, now: Optional[dt.datetime] = None) -> User:
    """Finish a sign-in from the provider's callback ``params`` (``state``, ``code`` or
    ``error``, maybe ``iss``): the local account, or a typed error. The caller commits even
    when this raises (the attempt is used up; refusals are audited)."""
    now = now or utcnow()
    name = client.config.provider_name
    attempt = _take_attempt(params.get("state"), session=session)
    if attempt is None:
        raise SsoInvalid("This sign-in link has already been used, has expired or was not started here. "
                         "Please sign in again.", code="sso_state")
    if attempt.expires_at <= now:
        raise SsoInvalid("The sign-in took too long. Please sign in again.", code="sso_expired")
    if not browser_token or not hmac.compare_digest(_digest(browser_token[:MAX_PARAM_CHARS]), attempt.browser_hash):
        raise SsoInvalid("This sign-in was started in another browser or tab that has since closed. "
                         "Please sign in again.", code="sso_browser")
    if params.get("iss") is not None and params.get("iss") != client.config.issuer:  # RFC 9207
        raise SsoInvalid(f"This sign-in did not come from {name}. Please sign in again.", code="sso_issuer")
    if params.get("error"):
        error = str(params["error"])[:60]
        raise SsoRefused(f"{name} did not sign you in ({error}). Please try again.", code="sso_provider_error")
    code = params.get("code")
    if not isinstance(code, str) or not code or len(code) > MAX_PARAM_CHARS:
        raise SsoInvalid(f"{name} sent no sign-in code. Please sign in again.", code="sso_code_missing")
    tokens = client.exchange(code=code, code_verifier=attempt.code_verifier, redirect_uri=attempt.redirect_uri)
    claims = client.verify_id_token(
        tokens["id_token"], nonce=attempt.nonce, access_token=tokens.get("access_token"),
        not_before=attempt.created_at.replace(tzinfo=dt.timezone.utc).timestamp(),
    )
    return _local_account(claims, client, session=session)


def _local_account(claims: Dict[str, Any], client: OidcClient, *, session: Session) -> User:
    """The active local account matched by the configured claim, audited either way."""
    claim, name = client.config.match_claim, client.config.provider_name
    value = claims.get(claim)
    if claim == "email" and claims.get("email_verified") not in (True, "true"):
        _refuse(claim, value, "email_not_verified", session=session)
        raise SsoRefused(f"{name} has not confirmed your email address, so it can't be used to sign in here. "
                         "Ask an administrator.", code="sso_email_unverified")
    try:
        value = normalise_sso_id(value if isinstance(value, str) else None, claim)
    except SsoIdInvalid:
        _refuse(claim, None, "claim_missing", session=session)
        raise SsoRefused(f"{name} did not say who you are ({claim}). Ask an administrator.",
                         code="sso_claim_missing") from None
    user = session.scalars(select(User).where(User.sso_id == value)).first()
    if user is None:
        _refuse(claim, value, "unknown", session=session)
        raise SsoRefused(f"You signed in to {name} as {value}, but no account here is linked to it. "
                         "Ask an administrator to link your account.", code="sso_unknown_account")
    if not user.active:
        _refuse(claim, value, "deactivated", user=user, session=session)
        raise SsoRefused("Your account has been deactivated. Ask an administrator if you need access again.",
                         code="sso_account_deactivated")
    audit(user, "login.sso", user.username, {"claim": claim, "issuer": client.config.issuer}, session=session)
    return user


def _refuse(claim: str, value: Optional[str], reason: str, *, user: Optional[User] = None,
            session: Session) -> None:
    audit(None, "login.sso_refused", (user.username if user else (value or "?"))[:120],
          {"claim": claim, "reason": reason}, session=session)
