"""Local HTTP stand-ins for the services a unit test talks to (a Rasa server, the action
server): a real aiohttp server on a free port, answering one path with a handler."""
from __future__ import annotations


async def http_stand_in(path, handler):
    """Serve POST ``path`` with ``handler`` on 127.0.0.1; returns (its runner, its base URL).
    The caller ends it with ``await runner.cleanup()``."""
    from aiohttp import web

    app = web.Application()
    app.add_routes([web.post(path, handler)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
