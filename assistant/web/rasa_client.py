"""Talk to the Rasa servers (our web app channel and the tracker API) and the action server.

aiohttp rather than httpx: on a chat message the relay was a third of the web app's CPU
with httpx, and aiohttp (already installed with Rasa) needs far less.

Any Rasa server can handle any user: they share the tracker store and a lock store
(Redis) that keeps each user's messages in order. Each message goes to the server with the
fewest messages in flight (so users spread evenly); a server that refuses connections or
fails is skipped for a few seconds and the message goes to another. One user's messages
leave this web app one at a time (a second waits here for the first's reply, not in Rasa's
lock queue, where a long queue of one user's messages could outlast the lock's lifetime and
let two servers handle them at once). Resending is safe
because every message carries the web app's message id: a server that finds the id
already in the conversation answers from the stored turn (assistant/rasa_server/turns.py)."""
from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

SKIP_SECONDS = 5.0  # how long a failed server is passed over


class AssistantUnavailable(RuntimeError):
    """Rasa (or the action server behind it) could not answer."""


class _ServerFailed(AssistantUnavailable):
    """This server failed (down, or an error status): another may answer."""


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
        self._in_flight = {u: 0 for u in self._rasa_urls}
        self._skip_until = {u: 0.0 for u in self._rasa_urls}
        self._turn = itertools.count()
        self._user_locks: Dict[str, asyncio.Lock] = {}
        self._user_waiting: Dict[str, int] = {}

    def _order(self) -> List[str]:
        """Servers to try, best first: working ones by fewest messages in flight (ties taken
        in turn), then the ones that failed lately."""
        start = next(self._turn)
        n = len(self._rasa_urls)
        rotated = [self._rasa_urls[(start + i) % n] for i in range(n)]
        now = time.monotonic()
        return sorted(rotated, key=lambda u: (self._skip_until[u] > now, self._in_flight[u]))

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
                    raise _ServerFailed(f"rasa status {resp.status}")
                return await resp.json(content_type=None)
        except asyncio.TimeoutError as exc:
            # still working, or hung: another server would only wait for its lock
            raise AssistantUnavailable("rasa timed out") from exc
        except ValueError as exc:
            raise AssistantUnavailable("rasa sent a body that is not JSON") from exc
        except aiohttp.ClientError as exc:
            raise _ServerFailed("rasa") from exc

    async def _any_server(self, method: str, path: str, **kwargs) -> Any:
        """``path`` on the best server, then the others while servers fail."""
        last: Optional[AssistantUnavailable] = None
        for url in self._order():
            self._in_flight[url] += 1
            try:
                result = await self._json(method, url + path, **kwargs)
            except _ServerFailed as exc:
                self._skip_until[url] = time.monotonic() + SKIP_SECONDS
                last = exc
                continue
            finally:
                self._in_flight[url] -= 1
            self._skip_until[url] = 0.0
            return result
        raise AssistantUnavailable("no Rasa server answered") from last

    async def send(self, sender: str, message: str, message_id: str) -> List[Dict[str, Any]]:
        """Send a message as ``sender`` through our channel (it requires the channel token).
        ``message_id`` identifies the message: sending it again is answered from the stored turn.
        The sender's earlier message, if still in flight, is answered first; waiting for it
        longer than the relay's timeout fails this one (the user retries)."""
        lock = self._user_locks.setdefault(sender, asyncio.Lock())
        self._user_waiting[sender] = self._user_waiting.get(sender, 0) + 1
        try:
            try:
                await asyncio.wait_for(lock.acquire(), timeout=self._timeout.total)
            except asyncio.TimeoutError as exc:
                raise AssistantUnavailable("the user's earlier message is still being answered") from exc
            try:
                return await self._any_server("POST", "/webhooks/webapp/webhook", headers=self._channel_headers,
                                              json={"sender": sender, "message": message, "message_id": message_id})
            finally:
                lock.release()
        finally:
            self._user_waiting[sender] -= 1
            if not self._user_waiting[sender]:  # nobody holds or waits for it: forget it
                del self._user_waiting[sender]
                self._user_locks.pop(sender, None)

    async def events(self, sender: str) -> List[Dict[str, Any]]:
        """The tracker events of ``sender``'s conversation (every session)."""
        body = await self._any_server("GET", f"/conversations/{sender}/tracker",
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
