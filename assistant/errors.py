"""Typed domain errors: what went wrong, in words safe to show, without any HTTP.

Domain code raises a subclass of :class:`DomainError`; the web app maps the kind
(:class:`NotFound`, :class:`NotAllowed`, :class:`Conflict`, :class:`Invalid`,
:class:`Unavailable`) to a status code
in one handler (assistant/web/app.py), so no route has to read an error's message to decide.
A module's own family (``ReflectionError``, ``FaqAdminError``...) combines with a kind by
multiple inheritance, e.g. ``class ReflectionNotFound(ReflectionError, NotFound)``, so code that
catches the family keeps working.
"""
from __future__ import annotations

from typing import Any, Dict, Optional


class DomainError(ValueError):
    """Something the user asked for can't be done; ``str(exc)`` is safe to show them.

    ``code`` is a stable, machine-readable name for the error; ``extra`` is more JSON-able
    detail for the caller (e.g. both versions in an edit conflict). On its own (no kind),
    it means the request was not acceptable, like :class:`Invalid`."""

    code = "invalid"

    def __init__(self, message: str, *, code: Optional[str] = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra: Dict[str, Any] = extra


class NotFound(DomainError):
    """The thing does not exist, or the user may not know that it does."""

    code = "not_found"


class NotAllowed(DomainError):
    """The user may not do this (their role, or someone else's data)."""

    code = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state (a newer version, a taken key)."""

    code = "conflict"


class Invalid(DomainError):
    """The input breaks a rule (too long, in the past, not one of the choices)."""

    code = "invalid"


class Unavailable(DomainError):
    """A service we depend on (e.g. the single sign-on provider) did not answer; try again later."""

    code = "unavailable"


# Most specific first: a class that is both (say) ReflectionError and NotFound is a NotFound.
KINDS = (NotFound, NotAllowed, Conflict, Invalid, Unavailable)


def kind_of(exc: DomainError) -> type:
    """The kind of ``exc``: the first of :data:`KINDS` in its class's method resolution order
    (so the family's own place in the hierarchy decides), else :class:`DomainError` itself."""
    for cls in type(exc).__mro__:
        if cls in KINDS:
            return cls
    return DomainError
