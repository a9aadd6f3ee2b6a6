"""Rasa's secrets: the action token on every call to the action server, the API token
handed to Rasa's own ``--auth-token`` inside the process."""
from __future__ import annotations

from typing import List

ACTION_TOKEN_HEADER = "X-Action-Token"  # the header assistant.action_server checks


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
