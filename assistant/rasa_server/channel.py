"""The input channel the web app relays users' messages through."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

CHANNEL_TOKEN_HEADER = "X-Channel-Token"  # the header WebAppInput checks
# The web app's id for a message, the same when the browser retries it (see .turns)
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@lru_cache(maxsize=1)
def web_app_input_class():
    """The input channel the web app relays users' messages through (``/webhooks/webapp/webhook``).

    Like Rasa's REST channel, except that it requires the ``X-Channel-Token`` header
    (compared in constant time), a JSON body with a string ``sender`` and ``message``, and it
    answers 503 when Rasa failed to handle the message (the REST channel answers 200 with
    whatever it had, so a turn that was never stored looked answered). A ``message_id``
    in the body becomes the message's id in Rasa, so a retried message is recognised."""
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
                    or not body["sender"] or not MESSAGE_ID.match(str(body.get("message_id") or "x" * 8)):
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
                                                     input_channel=self.name(), metadata=metadata,
                                                     message_id=body.get("message_id") or None))
                except Exception:
                    logger.exception("the message could not be handled")  # no message text in logs
                    return response.json({"error": "unavailable", "code": "unavailable"}, status=503)
                return response.json(collector.messages)

            return hook

    return WebAppInput
