"""Talk to the Rasa servers (our web app channel and the tracker API) and the action server.

aiohttp rather than httpx: on a chat message the relay was a third of the web app's CPU
with httpx, and aiohttp (already installed with Rasa) needs far less.

With several Rasa servers, each user's conversation always goes to the same one (chosen
from the user id), so a conversation is never handled by two servers at once; they
share the tracker store."""
from __future__ import annotations

import asyncio
import zlib
from typing import Any, Dict, List, Optional, Sequence

import aiohttp


class AssistantUnavailable(RuntimeError):
    """Rasa (or the action server behind it) could not answer."""


def server_for(sender: str, urls: Sequence[str]) -> str:
    """The Rasa server that handles ``sender``'s conversation (stable across restarts)."""
    return urls[zlib.crc32(sender.encode("utf-8")) % len(urls)]


class RasaClient:
    """A small async client; one per app, created and closed inside the app's event loop."""

    def __init__(self, rasa_urls: Sequence[str], token: str, action_server_url: str, timeout: float,
                 channel_token: str) -> None:
        if not rasa_urls:
            raise ValueError("at least one Rasa URL is needed")
        self._rasa_urls = [u.rstrip("/") for u in rasa_urls]
        self._token = token
        self._channel_headers = {"X-Channel-Token": channel_token}  # assistant.rasa_server.WebAppInput
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
        """Send a message as ``sender`` through our channel (it requires the channel token)."""
        return await self._json("POST", f"{server_for(sender, self._rasa_urls)}/webhooks/webapp/webhook",
                                json={"sender": sender, "message": message}, headers=self._channel_headers)

    async def events(self, sender: str) -> List[Dict[str, Any]]:
        """The tracker events of ``sender``'s conversation."""
        body = await self._json("GET", f"{server_for(sender, self._rasa_urls)}/conversations/{sender}/tracker",
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
