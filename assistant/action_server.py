"""The action server: rasa-sdk's app behind a guard, so only Rasa can run our actions.

Actions act for the user named in the tracker they are sent (read a reflection, share it
with a manager), so a caller that could post a made-up tracker could act as anyone.
Rasa sends the secret ``action_token`` in the ``X-Action-Token`` header (installed by
:mod:`assistant.rasa_server`); every request but ``/health`` without it gets 401, and a
call with anything but a JSON body gets 415. The token comes from the environment (or a
file), never from the command line.

Run with ``python -m assistant.action_server [-p PORT]``.
"""
from __future__ import annotations

import argparse
import hmac
import logging
from typing import Optional
from urllib.parse import urlparse

TOKEN_HEADER = "X-Action-Token"
OPEN_PATHS = frozenset({"/health"})


def refusal(path: str, method: str, content_type: Optional[str], token: Optional[str], expected: str):
    """Why a request must be refused, as ``(status, code)``, or None to let it through.
    Pure, so the rule is tested without a server."""
    if path in OPEN_PATHS and method in ("GET", "HEAD"):
        return None
    if not token or not hmac.compare_digest(token.encode("utf-8", "replace"), expected.encode("utf-8")):
        return 401, "unauthorised"
    if method == "POST" and (content_type or "").split(";")[0].strip().lower() != "application/json":
        return 415, "json_only"
    return None


def create_app(token: str, actions_package: str = "actions"):
    """rasa-sdk's Sanic app with the token and content-type guard in front of every route."""
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response

    if not token:
        raise ValueError("the action server needs a token")
    app = sdk_app(actions_package, cors_origins=None)

    @app.middleware("request")
    async def guard(request):
        refused = refusal(request.path, request.method, request.headers.get("content-type"),
                          request.headers.get(TOKEN_HEADER), token)
        if refused is not None:
            status, code = refused
            return response.json({"error": "This service only answers the assistant.", "code": code},
                                 status=status)
        return None

    return app


def main(argv: Optional[list] = None) -> None:
    """Start the guarded action server on 127.0.0.1 (port from ``-p`` or the settings)."""
    from assistant.config import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--port", type=int, default=urlparse(settings.action_server_url).port or 5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(settings.action_token)
    from assistant.masking import mask

    mask("warm up Mr Smith")  # build masking's word lists now, not on the first reflection answer
    # one worker: the actions share a database engine per process; no access log (paths only,
    # but nothing there is needed)
    app.run(host="127.0.0.1", port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
