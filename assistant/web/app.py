"""The web app factory: ``create_app()`` (uvicorn: ``assistant.web.app:create_app --factory``)."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Optional

from sqlalchemy import exc as sa_exc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.config import Settings, get_settings
from assistant.masking import mask
from assistant.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound, Unavailable, kind_of
from assistant.web import (
    pages, routes_admin, routes_auth, routes_chat, routes_manager, routes_programme, routes_reflections, routes_sso,
)
from assistant.web.deps import ApiError
from assistant.training import TrainingWorker
from assistant.web.rasa_client import RasaClient

logger = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent
MAX_BODY_BYTES = 200_000
# The one place a domain error's kind becomes an HTTP status (assistant/errors.py).
DOMAIN_STATUS = {NotFound: 404, NotAllowed: 403, Conflict: 409, Invalid: 422, Unavailable: 503, DomainError: 422}
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class GuardMiddleware:
    """Refuse non-JSON or oversized API writes and NUL characters in URLs early; add security
    headers to every response, a 500 included (``hsts``: also Strict-Transport-Security).

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task group and a
    body stream per request, a fifth of the web app's CPU on a chat message."""

    WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

    def __init__(self, app, hsts: bool = False) -> None:
        self.app = app
        headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if hsts else {})}
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": list(message.get("headers", []))
                           + [(k, v) for k, v in self.headers if k not in present]}
            await send(message)

        if _nul_in_url(scope):
            # a NUL in a path or query value would reach a query (PostgreSQL refuses it) or a file name
            await _error(400, "The address has a NUL character in it.", "bad_characters")(
                scope, receive, send_with_headers)
            return
        if scope["method"] in self.WRITE_METHODS and scope["path"].startswith("/api/"):
            refusal = self._refusal(Headers(scope=scope))
            body = None if refusal else await self._read_body(receive)
            if body is None:
                refusal = refusal or _too_large()
                await refusal(scope, receive, send_with_headers)
                return
            receive = self._replay(body, receive)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's error middleware (outside this one) would answer with a bare 500
            # without the headers; answer here in the API's shape, then let it log the error.
            if not started:
                await _error(500, "Something went wrong on our side. Please try again.", "server_error")(
                    scope, receive, send_with_headers)
            raise

    @staticmethod
    async def _read_body(receive) -> Optional[bytes]:
        """The whole request body, or None once it passes MAX_BODY_BYTES (chunked uploads too)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive):
        """A ``receive`` that gives the buffered body once, then waits on the client as before."""
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    @staticmethod
    def _refusal(headers: Headers) -> Optional[JSONResponse]:
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _error(415, "Send JSON (Content-Type: application/json).", "unsupported_media_type")
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return _too_large()
        return None


def _nul_in_url(scope) -> bool:
    """True if the path or query string has a NUL character (raw or percent-encoded)."""
    query = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


def _error(status: int, message: str, code: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, "code": code, **extra}, status_code=status)


def _too_large() -> JSONResponse:
    return _error(413, "The request is too large.", "too_large")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        if request.url.path.startswith("/sso/"):  # a page load in the sign-in, not an API call
            return routes_sso.error_page(DOMAIN_STATUS[kind_of(exc)], exc)
        return _error(DOMAIN_STATUS[kind_of(exc)], str(exc), exc.code, **jsonable_encoder(exc.extra))

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def database_unavailable(_request: Request, exc: Exception):
        # the database is down or dropped the connection: nothing was committed, so the
        # user can simply try again (never a plain-text 500)
        logger.warning("database unavailable: %s", type(exc).__name__)
        return _error(503, "The service is briefly unavailable. Please try again in a moment.",
                      "database_unavailable")

    @app.exception_handler(sa_exc.IntegrityError)
    async def integrity_error(_request: Request, exc: Exception):
        # two requests created the same thing at once (a unique key): the later one loses
        logger.warning("integrity error: %s", type(exc.orig).__name__ if hasattr(exc, "orig") else "")
        return _error(409, "That was changed by someone else at the same time. Please reload and try again.",
                      "conflict")

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return _error(exc.status_code, exc.detail, exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        message = {404: "Not found.", 405: "Method not allowed."}.get(exc.status_code, str(exc.detail))
        return _error(exc.status_code, message, "http_error")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") in ("json_invalid", "value_error.jsondecode") for e in errors):
            return _error(400, "The request body is not valid JSON.", "malformed_json")
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) or "body" for e in errors})
        return _error(422, "Invalid request: check " + ", ".join(fields) + ".", "invalid_request",
                      details=[{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in errors])


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """Build the web app; nothing is connected until it starts."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # masking's word lists take a few seconds to build: not on the first user's message
        await asyncio.to_thread(mask, "warm up Mr Smith")
        app.state.rasa = RasaClient(settings.rasa_urls, settings.rasa_token,
                                    settings.action_server_url, settings.rasa_timeout_seconds,
                                    channel_token=settings.channel_token)
        worker = TrainingWorker(settings) if settings.training_worker else None
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.stop()
            await app.state.rasa.close()

    app = FastAPI(title="Probation practice assistant", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.settings = settings

    app.add_middleware(GuardMiddleware, hsts=settings.cookie_secure)

    _install_error_handlers(app)
    app.include_router(routes_auth.router)
    app.include_router(routes_chat.router)
    app.include_router(routes_reflections.router)
    app.include_router(routes_manager.router)
    app.include_router(routes_programme.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_sso.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    pages.install(app, settings.assets_dir)

    return app
