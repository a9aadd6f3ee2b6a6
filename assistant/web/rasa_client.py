"""Talk to the Rasa server (REST channel and tracker API) and the action server.

aiohttp rather than httpx: on a chat message the relay was a third of the web app's CPU
with httpx, and aiohttp (already installed with Rasa) needs far less."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import aiohttp


class AssistantUnavailable(RuntimeError):
    """Rasa (or the action server behind it) could not answer."""


class RasaClient:
    """A small async client; one per app, created and closed inside the app's event loop."""

    def __init__(self, rasa_url: str, token: str, action_server_url: str, timeout: float) -> None:
        self._rasa_url = rasa_url.rstrip("/")
        self._token = token
        self._actions_url = action_server_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=3.0)
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()

    async def _json(self, method: str, url: str, **kwargs) -> Any:
        try:
            async with self._client().request(method, url, **kwargs) as resp:
                if resp.status != 200:
                    raise AssistantUnavailable(f"rasa status {resp.status}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise AssistantUnavailable("rasa") from exc

    async def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """Send a message as ``sender``; returns the REST channel's reply."""
        return await self._json("POST", f"{self._rasa_url}/webhooks/rest/webhook",
                                json={"sender": sender, "message": message})

    async def events(self, sender: str) -> List[Dict[str, Any]]:
        """The tracker events of ``sender``'s conversation."""
        body = await self._json("GET", f"{self._rasa_url}/conversations/{sender}/tracker",
                                params={"token": self._token, "include_events": "ALL"})
        return body.get("events") or []

    async def actions_healthy(self) -> bool:
        """True if the action server answers its health check."""
        try:
            async with self._client().get(f"{self._actions_url}/health",
                                          timeout=aiohttp.ClientTimeout(total=2.0)) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
