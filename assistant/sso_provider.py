"""Talking to the single sign-on provider (OpenID Connect), with Authlib: discovery, the
authorisation URL (code flow, PKCE S256), the code exchange, and the ID token's checks.

Nothing here touches the database or decides who may log in (assistant.sso does). Every
failure is a typed error: the provider not answering is :class:`SsoUnavailable`; a token or
answer that fails a check is :class:`SsoInvalid` with the check's name, never its content.

The ID token is checked as OpenID Connect Core 3.1.3.7 asks: its signature against the
provider's published keys (JWKS; an unknown key id fetches them again once, for key
rotation), only with an asymmetric algorithm the provider announces (never ``none`` or an
HMAC), then ``iss`` (exactly the configured issuer), ``aud`` (our client id; ``azp`` when
there are several), ``exp`` and ``iat`` (with ``clock_skew`` of leeway; issued no earlier than
the sign-in started), ``nonce`` (the one sent) and ``at_hash`` when present.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from assistant.errors import DomainError, Invalid, NotFound, Unavailable

logger = logging.getLogger(__name__)

# Signature algorithms we accept for ID tokens: asymmetric only (an HMAC would be keyed with
# the client secret, which we hold too; "none" is no signature at all).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                         "ES256", "ES384", "ES512", "EdDSA")
METADATA_TTL_SECONDS = 3600
JWKS_REFRESH_MIN_SECONDS = 60  # an unknown key id fetches the keys again at most this often


class SsoError(DomainError):
    """A single sign-on step that can't go on (message safe to show); alone, invalid input."""


class SsoNotConfigured(SsoError, NotFound):
    """Single sign-on is not set up here."""


class SsoInvalid(SsoError, Invalid):
    """The sign-in's answer fails a check (state, code, ID token)."""


class SsoUnavailable(SsoError, Unavailable):
    """The provider did not answer, or answered with something unusable."""


@dataclass(frozen=True)
class SsoConfig:
    """What single sign-on needs from Settings (see the ``sso_*`` settings)."""

    issuer: str
    client_id: str
    client_secret: str
    provider_name: str
    match_claim: str
    scopes: str
    redirect_url: Optional[str]
    login_minutes: int
    clock_skew: int
    timeout: float

    @classmethod
    def from_settings(cls, settings) -> Optional["SsoConfig"]:
        """The configuration, or None when single sign-on is off."""
        if not settings.sso_enabled:
            return None
        return cls(
            issuer=settings.sso_issuer, client_id=settings.sso_client_id,
            client_secret=settings.sso_client_secret.get_secret_value(),
            provider_name=settings.sso_provider_name, match_claim=settings.sso_match_claim,
            scopes=settings.sso_scopes, redirect_url=settings.sso_redirect_url,
            login_minutes=settings.sso_login_minutes, clock_skew=settings.sso_clock_skew_seconds,
            timeout=settings.sso_timeout_seconds,
        )

    def __repr__(self) -> str:  # never the secret, e.g. in a traceback's locals
        return f"SsoConfig(issuer={self.issuer!r}, client_id={self.client_id!r})"


class OidcClient:
    """One provider: its metadata and keys (cached, thread-safe) and the protocol steps."""

    def __init__(self, config: SsoConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: Optional[Dict[str, Any]] = None
        self._metadata_at = 0.0
        self._keys: Optional[KeySet] = None
        self._keys_at = 0.0

    def _oauth(self, redirect_uri: Optional[str] = None) -> OAuth2Client:
        metadata = self.metadata()
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        return OAuth2Client(
            client_id=self.config.client_id, client_secret=self.config.client_secret,
            token_endpoint_auth_method=method, scope=self.config.scopes, redirect_uri=redirect_uri,
            code_challenge_method="S256", timeout=self.config.timeout,
        )

    def _get_json(self, url: str, what: str) -> Dict[str, Any]:
        try:
            with OAuth2Client(timeout=self.config.timeout) as http:
                response = http.request("GET", url, withhold_token=True, headers={"Accept": "application/json"})
                response.raise_for_status()
                data = response.json()
        except Exception as exc:  # the HTTP library's errors, or a body that isn't JSON
            logger.warning("single sign-on: could not read the provider's %s: %s", what, type(exc).__name__)
            raise SsoUnavailable(f"{self.config.provider_name} is not answering. Please try again in a few minutes.",
                                 code="sso_unavailable") from exc
        if not isinstance(data, dict):
            raise SsoUnavailable(f"{self.config.provider_name} sent an unusable {what}.", code="sso_unavailable")
        return data

    def metadata(self) -> Dict[str, Any]:
        """The provider's discovery document (``<issuer>/.well-known/openid-configuration``),
        checked with Authlib's metadata rules and against the configured issuer."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL_SECONDS:
                return self._metadata
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        data = OpenIDProviderMetadata(self._get_json(url, "configuration"))
        try:
            data.validate_issuer()
            data.validate_authorization_endpoint()
            data.validate_token_endpoint()
            data.validate_jwks_uri()
            if data.get("issuer") != self.config.issuer:
                raise ValueError(f"its issuer is {data.get('issuer')!r}, not the configured one")
            if not data.get("jwks_uri"):
                raise ValueError("it has no jwks_uri")
            if "S256" not in data.get("code_challenge_methods_supported", ["S256"]):
                raise ValueError("it does not support PKCE with S256")
        except ValueError as exc:
            logger.warning("single sign-on: the provider's configuration is unusable: %s", exc)
            raise SsoUnavailable(f"{self.config.provider_name} is not set up correctly for this service.",
                                 code="sso_misconfigured") from exc
        with self._lock:
            self._metadata, self._metadata_at = dict(data), time.monotonic()
        return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys (its JWKS), fetched again when ``refresh`` (at most
        once a minute)."""
        with self._lock:
            fresh = time.monotonic() - self._keys_at < JWKS_REFRESH_MIN_SECONDS
            if self._keys is not None and (not refresh or fresh):
                return self._keys
        try:
            keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"], "keys"))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise SsoUnavailable(f"{self.config.provider_name} published unusable keys.",
                                 code="sso_unavailable") from exc
        with self._lock:
            self._keys, self._keys_at = keys, time.monotonic()
        return keys

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str, redirect_uri: str) -> str:
        """Where to send the browser: the provider's authorisation endpoint with our client
        id, scopes, ``state``, ``nonce`` and the PKCE S256 challenge of ``code_verifier``."""
        with self._oauth(redirect_uri) as oauth:
            url, _ = oauth.create_authorization_url(self.metadata()["authorization_endpoint"], state=state,
                                                    code_verifier=code_verifier, nonce=nonce)
        return url

    def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> Dict[str, Any]:
        """Swap the authorisation ``code`` for tokens (client secret and PKCE verifier sent)."""
        with self._oauth(redirect_uri) as oauth:
            try:
                token = oauth.fetch_token(self.metadata()["token_endpoint"], grant_type="authorization_code",
                                          code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
            except OAuthError as exc:  # the provider refused the code: used, expired, or not ours
                logger.info("single sign-on: the provider refused the code: %s", exc.error)
                raise SsoInvalid(f"{self.config.provider_name} did not accept this sign-in ({exc.error}). "
                                 "Please sign in again.", code="sso_code_refused") from exc
            except Exception as exc:  # the HTTP library's errors
                logger.warning("single sign-on: token request failed: %s", type(exc).__name__)
                raise SsoUnavailable(f"{self.config.provider_name} is not answering. Please try again in a "
                                     "few minutes.", code="sso_unavailable") from exc
        if not isinstance(token.get("id_token"), str):
            raise SsoInvalid(f"{self.config.provider_name} sent no ID token.", code="sso_token_invalid")
        return dict(token)

    def verify_id_token(self, id_token: str, *, nonce: str, access_token: Optional[str],
                        not_before: float, now: Optional[float] = None) -> Dict[str, Any]:
        """The ID token's claims once every check in the module docstring passes; else
        :class:`SsoInvalid` naming the check. ``not_before``: when the sign-in started (epoch)."""
        algorithms = [a for a in self.metadata().get("id_token_signing_alg_values_supported", ["RS256"])
                      if a in ASYMMETRIC_ALGORITHMS]
        if not algorithms:  # an empty list would let the JOSE library choose
            raise SsoUnavailable(f"{self.config.provider_name} signs ID tokens in no way this service accepts.",
                                 code="sso_misconfigured")
        try:
            try:
                token = jwt.decode(id_token, self.keys(), algorithms=algorithms)
            except InvalidKeyIdError:
                token = jwt.decode(id_token, self.keys(refresh=True), algorithms=algorithms)
        except (JoseError, ValueError, TypeError) as exc:
            raise self._invalid("signature", exc) from exc
        options = {"iss": {"essential": True, "value": self.config.issuer},
                   "aud": {"essential": True, "value": self.config.client_id},
                   "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True}}
        params = {"nonce": nonce, "client_id": self.config.client_id, "access_token": access_token}
        claims = CodeIDToken(token.claims, token.header, options, params)
        now = int(now if now is not None else time.time())
        try:
            claims.validate(now=now, leeway=self.config.clock_skew)
        except ExpiredTokenError as exc:
            raise self._invalid("exp", exc) from exc
        except ClaimError as exc:
            raise self._invalid(getattr(exc, "claim", "claims"), exc) from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise self._invalid("claims", exc) from exc
        if not isinstance(claims["iat"], (int, float)) or claims["iat"] < not_before - self.config.clock_skew:
            raise self._invalid("iat", None)
        return dict(claims)

    def _invalid(self, check: str, exc: Optional[Exception]) -> SsoInvalid:
        logger.warning("single sign-on: ID token refused (%s: %s)", check, type(exc).__name__ if exc else "too old")
        what = {"signature": "its signature", "iss": "its issuer", "aud": "its audience (not this service)",
                "exp": "it has expired", "iat": "its issue time", "nonce": "its nonce (not this sign-in)",
                "azp": "its authorised party", "at_hash": "its access token hash"}.get(check, "its claims")
        return SsoInvalid(f"The sign-in from {self.config.provider_name} could not be trusted ({what}). "
                          "Please sign in again.", code="sso_token_invalid", check=check)
