"""Performance fixes for Rasa 3.6 that don't change what Rasa does.

1. Rasa validates every action-server response with ``jsonschema.validate``, which
   re-checks the schema itself against the JSON-Schema meta-schema on every call: on
   these 2-core machines that was ~40% of Rasa's CPU time per message. The fix builds
   the validator once and validates each response against the very same schema, with
   the same error (and message) Rasa raises.
2. Loading a conversation from the tracker store turns each stored event back into
   an object with ``Event.resolve_by_type``, which walks the whole ``Event`` class
   tree (with ``inspect.isabstract`` on each class) for every single event: half the
   cost of loading a tracker. The fix remembers which class has which type name.
3. Every call to the action server (several per form turn) opens a new aiohttp session,
   so a new TCP connection, and closes it again (``EndpointConfig.request``). The fix
   keeps one session per endpoint and event loop, so connections are reused; requests,
   headers and timeouts are exactly Rasa's.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional


def install_fixes() -> None:
    """Replace ``RemoteAction._validate_action_result`` with a cached-validator version."""
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every response
    validator = validator_class(schema)

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


def install_event_type_cache() -> None:
    """Make ``Event.resolve_by_type`` look classes up in a table built from the same walk."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    table: Dict[str, type] = {}

    def build() -> None:
        table.clear()
        for cls in all_subclasses(Event):  # Rasa's order: the first class with a name wins
            table.setdefault(cls.type_name, cls)

    def resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
        cls = table.get(type_name)
        if cls is None:
            build()  # a class defined since the last build, or an unknown name
            cls = table.get(type_name)
        return cls if cls is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)


class _Borrowed:
    """``async with`` over a shared session that leaves it open on exit."""

    def __init__(self, session) -> None:
        self._session = session

    async def __aenter__(self):
        return self._session

    async def __aexit__(self, *exc_info) -> bool:
        return False


KEEP_IDLE_SECONDS = 2.0  # under Sanic's 5 s keep-alive timeout on the action server


def install_kept_alive_connections() -> None:
    """Make ``EndpointConfig.session`` hand out one open session per endpoint and event loop,
    configured as Rasa's own ``session`` does (headers, basic auth, timeout)."""
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def new_session(endpoint):
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"]) \
            if endpoint.basic_auth else None
        return aiohttp.ClientSession(headers=endpoint.headers, auth=auth,
                                     timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                                     connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_IDLE_SECONDS))

    def session(self):
        loop = asyncio.get_running_loop()  # an aiohttp session belongs to one loop
        kept = self.__dict__.get("_kept_session")
        if kept is None or kept[0] is not loop or kept[1].closed:
            kept = (loop, new_session(self))
            self._kept_session = kept
        return _Borrowed(kept[1])

    EndpointConfig.session = session
