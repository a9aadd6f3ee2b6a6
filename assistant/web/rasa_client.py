"""Talk to the Rasa server (REST channel and tracker API) and the action server."""
from __future__ import annotations

from typing import Any, Dict, List

import httpx


class AssistantUnavailable(RuntimeError):
    """Rasa (or the action server behind it) could not answer."""


class RasaClient:
    """A small async client; one per app, closed on shutdown."""

    def __init__(self, rasa_url: str, token: str, action_server_url: str, timeout: float) -> None:
        self._rasa_url = rasa_url.rstrip("/")
        self._token = token
        self._actions_url = action_server_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """Send a message as ``sender``; returns the REST channel's reply."""
        try:
            resp = await self._client.post(
                f"{self._rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}
            )
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("rasa") from exc
        if resp.status_code != 200:
            raise AssistantUnavailable(f"rasa status {resp.status_code}")
        return resp.json()

    async def events(self, sender: str) -> List[Dict[str, Any]]:
        """The tracker events of ``sender``'s conversation."""
        try:
            resp = await self._client.get(
                f"{self._rasa_url}/conversations/{sender}/tracker",
                params={"token": self._token, "include_events": "ALL"},
            )
        except httpx.HTTPError as exc:
            raise AssistantUnavailable("rasa") from exc
        if resp.status_code != 200:
            raise AssistantUnavailable(f"rasa status {resp.status_code}")
        return resp.json().get("events") or []

    async def actions_healthy(self) -> bool:
        """True if the action server answers its health check."""
        try:
            resp = await self._client.get(f"{self._actions_url}/health", timeout=2.0)
            return resp.status_code == 200
        except httpx.HTTPError:
            return False
