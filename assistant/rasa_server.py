"""Everything of Rasa's internals we touch, in one module.

Run Rasa's own CLI (``python -m assistant.rasa_server run ...``) with our secrets and two
performance fixes for Rasa 3.6 installed first. The fixes don't change what Rasa does.

Secrets (issue 9: only the web app can act for a user). None is ever on a command line
(every local user can read those in ``ps``); all come from :class:`assistant.config.Settings`
(environment or file):

- Rasa's HTTP API token is handed to Rasa's own ``--auth-token`` inside this process;
- the action server requires ``action_token``, which Rasa sends as a header on every
  call to it (added to the action endpoint read from endpoints.yml);
- users reach Rasa only through :class:`WebAppInput` (credentials.yml), a channel that
  requires the web app's ``channel_token`` header; Rasa's plain ``rest`` channel is off.

1. Rasa validates every action-server response with ``jsonschema.validate``, which
   re-checks the schema itself against the JSON-Schema meta-schema on every call: on
   these 2-core machines that was ~40% of Rasa's CPU time per message. The fix builds
   the validator once and validates each response against the very same schema, with
   the same error (and message) Rasa raises.
2. Loading a conversation from the tracker store turns each stored event back into
   an object with ``Event.resolve_by_type``, which walks the whole ``Event`` class
   tree (with ``inspect.isabstract`` on each class) for every single event: half the
   cost of loading a tracker. The fix remembers which class has which type name.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional

logger = logging.getLogger(__name__)


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


ACTION_TOKEN_HEADER = "X-Action-Token"  # the header assistant.action_server checks
CHANNEL_TOKEN_HEADER = "X-Channel-Token"  # the header WebAppInput checks


def install_action_token(token: str) -> None:
    """Make every call Rasa makes to the action server carry ``token`` in a header."""
    from rasa.core.utils import AvailableEndpoints

    read = AvailableEndpoints.read_endpoints.__func__

    def read_endpoints(cls, endpoint_file):
        endpoints = read(cls, endpoint_file)
        if endpoints.action is not None:
            endpoints.action.headers[ACTION_TOKEN_HEADER] = token
        return endpoints

    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)


def with_auth_token(argv: List[str], token: str) -> List[str]:
    """Rasa's arguments with ``--auth-token`` added when the HTTP API is on. Only this
    process's copy of the arguments changes: ``ps`` shows the command as it was started."""
    if "--enable-api" not in argv or any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        return list(argv)
    return list(argv) + ["--auth-token", token]


def __getattr__(name: str):
    """``WebAppInput`` is built on first use (Rasa looks it up by name from
    credentials.yml), so importing this module imports nothing of Rasa."""
    if name == "WebAppInput":
        return web_app_input_class()
    raise AttributeError(name)


@lru_cache(maxsize=1)
def web_app_input_class():
    """The input channel the web app relays users' messages through (``/webhooks/webapp/webhook``).

    Like Rasa's REST channel, except that it requires the ``X-Channel-Token`` header
    (compared in constant time), a JSON body with a string ``sender`` and ``message``, and it
    answers 503 when Rasa failed to handle the message (the REST channel answers 200 with
    whatever it had, so a turn that was never stored looked answered)."""
    import hmac

    from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
    from sanic import Blueprint, response

    from assistant.config import get_settings

    class WebAppInput(InputChannel):
        def __init__(self, token: str) -> None:
            if not token:
                raise ValueError("the web app channel needs a token")
            self._token = token.encode("utf-8")

        @classmethod
        def name(cls) -> str:
            return "webapp"

        @classmethod
        def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "InputChannel":
            # the token comes from the settings (environment or file), never credentials.yml
            return cls(get_settings().channel_token)

        def _refusal(self, request):
            token = request.headers.get(CHANNEL_TOKEN_HEADER) or ""
            if not hmac.compare_digest(token.encode("utf-8", "replace"), self._token):
                return response.json({"error": "unauthorised", "code": "unauthorised"}, status=401)
            if (request.headers.get("content-type") or "").split(";")[0].strip().lower() != "application/json":
                return response.json({"error": "JSON only", "code": "json_only"}, status=415)
            body = request.json if isinstance(request.json, dict) else {}
            if not isinstance(body.get("sender"), str) or not isinstance(body.get("message"), str) \
                    or not body["sender"]:
                return response.json({"error": "sender and message are needed", "code": "bad_request"},
                                     status=400)
            return None

        def blueprint(self, on_new_message):
            hook = Blueprint("webapp_webhook", __name__)

            @hook.route("/", methods=["GET"])
            async def health(request):
                return response.json({"status": "ok"})

            @hook.route("/webhook", methods=["POST"])
            async def receive(request):
                try:
                    refused = self._refusal(request)
                except Exception:  # an unreadable body
                    refused = response.json({"error": "JSON only", "code": "json_only"}, status=415)
                if refused is not None:
                    return refused
                body = request.json
                metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
                collector = CollectingOutputChannel()
                try:
                    await on_new_message(UserMessage(body["message"], collector, body["sender"],
                                                     input_channel=self.name(), metadata=metadata))
                except Exception:
                    logger.exception("the message could not be handled")  # no message text in logs
                    return response.json({"error": "unavailable", "code": "unavailable"}, status=503)
                return response.json(collector.messages)

            return hook

    return WebAppInput


def main() -> None:
    """Install the fixes and secrets, then hand over to Rasa's command line."""
    import sys

    from assistant.config import get_settings

    settings = get_settings()
    install_fixes()
    install_event_type_cache()
    install_action_token(settings.action_token)
    sys.argv = with_auth_token(sys.argv, settings.rasa_token)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
