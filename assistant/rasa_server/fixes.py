"""Performance fixes for Rasa 3.6 that don't change what Rasa does.

1. Rasa validates every action-server response with ``jsonschema.validate``, which
   re-checks the schema itself against the JSON-Schema meta-schema on every call: on
   these 2-core machines that was ~40% of Rasa's CPU time per message. The fix builds
   the validator once and validates each response against the very same schema, with
   the same error (and message) Rasa raises; each event is first checked against the
   one schema branch its name allows (:func:`quick_validity`).
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
from typing import Any, Callable, Dict, Optional


def install_fixes() -> None:
    """Replace ``RemoteAction._validate_action_result`` with a cached-validator version."""
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every response
    validator = validator_class(schema)
    is_valid = quick_validity(schema, validator_class)

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        if is_valid(result):
            return True
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


def quick_validity(schema: Dict[str, Any], validator_class) -> Callable[[Any], bool]:
    """A check that says True exactly when ``schema`` (Rasa's action-response schema) holds.

    Each event must match exactly one of the schema's ~23 ``oneOf`` branches, and jsonschema
    tries every branch for every event (~5% of Rasa's CPU per message under load). Each
    branch fixes ``event`` to a different constant, so an event can only match the branch
    (or branches) of its own name: checking it against those alone gives the same answer.
    False means "not shown valid here": the caller then runs the full validation, which
    raises Rasa's own error.
    """
    items = schema["properties"]["events"]["items"]
    branches: Dict[str, list] = {}
    for branch in items["oneOf"]:
        branches.setdefault(branch["properties"]["event"]["const"], []).append(branch)
    outer = validator_class({**schema, "properties": {k: v for k, v in schema["properties"].items()
                                                      if k != "events"}})
    per_name: Dict[str, Any] = {}

    def event_validator(name: str):
        if name not in per_name:
            per_name[name] = validator_class({**items, "oneOf": branches[name]})
        return per_name[name]

    def is_valid(result: Any) -> bool:
        if not isinstance(result, dict) or not outer.is_valid(result):
            return False
        events = result.get("events", [])
        if not isinstance(events, list):
            return False
        for event in events:
            name = event.get("event") if isinstance(event, dict) else None
            if not isinstance(name, str) or name not in branches or not event_validator(name).is_valid(event):
                return False
        return True

    return is_valid


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


def recent_events(events) -> list:
    """The events from the latest user message on (all of them if there is none): what
    our actions and rasa_sdk's form helpers read (the latest message, the slot events
    after the last action); the rest of the session stays in Rasa."""
    events = list(events)
    for i in range(len(events) - 1, -1, -1):
        if getattr(events[i], "type_name", None) == "user":
            return events[i:]
    return events


def install_short_action_calls() -> None:
    """Send the action server the tracker's state with :func:`recent_events` only, instead
    of every event of the session: Rasa encoded, and the action server decoded, the whole
    session on every action call (~5% of Rasa's CPU per message, ~8% of the action
    server's). Everything else in the call is what Rasa sends."""
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    def _action_call_format(self, tracker, domain) -> Dict[str, Any]:
        state = tracker.current_state(EventVerbosity.NONE)  # Rasa's state, events aside
        state["events"] = [event.as_dict() for event in recent_events(tracker.events)]
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = _action_call_format
