"""Everything of Rasa's internals we touch, in one package.

``python -m assistant.rasa_server run ...`` runs Rasa's own CLI with our changes installed
first (:func:`main`):

- :mod:`.fixes`: performance fixes that don't change what Rasa does;
- :mod:`.store`: cheaper reads and writes of Rasa's SQL tracker store (the same rows);
- :mod:`.graph`: the model graph run without dask (the same nodes, inputs and results);
- :mod:`.secrets`: no secret on a command line (``ps`` shows those to every local user).
  Rasa's HTTP API token is handed to Rasa's ``--auth-token`` inside this process; the
  action server requires ``action_token``, which Rasa sends as a header on every call;
- :mod:`.channel`: users reach Rasa only through :class:`WebAppInput` (credentials.yml),
  which requires the web app's ``channel_token``; Rasa's plain ``rest`` channel is off;
- :mod:`.turns`: a turn is answered only if it is kept (no in-memory fallback, a message
  id retried is answered from the stored turn, a failed action call stores nothing),
  the lock store shared by every server (Redis), and sessions kept short so each
  message costs the same however long the conversation.

Importing this package imports nothing of Rasa; each part does so when installed.
"""
from __future__ import annotations

from assistant.rasa_server.channel import CHANNEL_TOKEN_HEADER, web_app_input_class
from assistant.rasa_server.fixes import (
    install_event_type_cache, install_fixes, install_kept_alive_connections, install_short_action_calls,
)
from assistant.rasa_server.graph import install_sequential_graph_runs
from assistant.rasa_server.secrets import ACTION_TOKEN_HEADER, install_action_token, with_auth_token
from assistant.rasa_server.store import install_sql_store_reads

__all__ = ["ACTION_TOKEN_HEADER", "CHANNEL_TOKEN_HEADER", "install_action_token", "install_event_type_cache",
           "install_fixes", "install_kept_alive_connections", "install_sequential_graph_runs",
           "install_short_action_calls", "install_sql_store_reads", "main", "web_app_input_class", "with_auth_token"]


def __getattr__(name: str):
    """``WebAppInput`` is built on first use (Rasa looks it up by name from
    credentials.yml), so importing this package imports nothing of Rasa."""
    if name == "WebAppInput":
        return web_app_input_class()
    raise AttributeError(name)


def main() -> None:
    """Install the fixes, secrets and turn-keeping, then hand over to Rasa's command line."""
    import sys

    from assistant.config import get_settings
    from assistant.rasa_server.turns import install_turns

    settings = get_settings()
    install_fixes()
    install_event_type_cache()
    install_kept_alive_connections()
    install_sql_store_reads()
    install_short_action_calls()
    install_sequential_graph_runs()
    install_action_token(settings.action_token)
    install_turns(settings)
    sys.argv = with_auth_token(sys.argv, settings.rasa_token)
    from rasa.__main__ import main as rasa_main

    rasa_main()
