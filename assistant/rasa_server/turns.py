"""A turn is answered only if it is kept; any Rasa server can take any user; each message
costs the same however long the conversation (issue 11).

What Rasa 3.6 does, and what we change (each a small wrapper, installed by
:func:`install_turns` in the Rasa process only):

- **No in-memory fallback.** Rasa wraps the tracker store in ``FailSafeTrackerStore``:
  a failed save goes to memory (the user sees an answer that is never stored) and a
  failed read returns no tracker (a blank conversation, the form lost). Here a read or
  save is retried once (pooled connections are also pinged before use) and then fails
  the turn: our channel answers 503 and the web app asks the user to retry.
- **A failed action call stores nothing.** Rasa logs an action server error and goes on,
  saving the user's message with no reply (history shows it unanswered, a resend appears
  twice). Here the turn fails instead and nothing is saved.
- **A retried message is answered from the stored turn.** The web app gives each message
  an id, the same when the browser retries it. If the conversation already holds a user
  message with that id, the replies stored after it are sent again and nothing is
  processed or saved (checked under the conversation's lock, so two copies sent at once
  are handled one after the other).
- **Locks shared by every server.** The lock store is Redis (``ASSISTANT_REDIS_URL``), so
  any Rasa server can handle any user in order; a waiting message polls every
  ``lock_poll_seconds`` instead of Rasa's 1 s, and a lock held by a server killed mid-turn
  runs out after ``lock_lifetime_seconds`` (Rasa: 60 s).
- **Short sessions.** Rasa rebuilds the conversation from every event of the current
  session on each message, so cost grows with its length. A session that has more than
  ``session_max_events`` events and no form running is closed at the next message, and a
  new one starts exactly as after Rasa's own session time-out (domain.yml
  ``session_config``); what lasts beyond a flow (a paused reflection) is in our database.
"""
from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
from typing import Any, Dict, List, Optional
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

_action_failed: contextvars.ContextVar[bool] = contextvars.ContextVar("action_failed", default=False)


class TurnNotKept(RuntimeError):
    """The turn could not be completed and stored; nothing of it was saved."""


class _AlreadyAnswered(Exception):
    """The message was handled before: carries the replies stored after it."""

    def __init__(self, replies: List[Dict[str, Any]]) -> None:
        super().__init__("already answered")
        self.replies = replies


def replies_to(events: List[Any], message_id: Optional[str]) -> Optional[List[Dict[str, Any]]]:
    """The bot messages stored after the user message with ``message_id`` (until the next
    user message), or None if there is no such message. ``events`` are Rasa event objects."""
    if not message_id:
        return None
    found = False
    replies: List[Dict[str, Any]] = []
    for event in events:
        kind = getattr(event, "type_name", None)
        if kind == "user":
            if found:
                break
            found = getattr(event, "message_id", None) == message_id
        elif found and kind == "bot":
            replies.append(event.message())
    return replies if found else None


def session_too_long(event_count: int, loop_active: bool, max_events: int) -> bool:
    """True when a session should be closed at the next message: it is long and no form
    (reflection, share question, team prompt) is running, so nothing is cut mid-flow."""
    return max_events > 0 and event_count > max_events and not loop_active


def lock_prefix(database_url: str) -> str:
    """A Redis key prefix of our own per database (Rasa wants letters and digits only), so
    stacks on different databases sharing one Redis never share locks."""
    return "pa" + hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:16]


def _strict_store() -> None:
    from rasa.core import tracker_store as ts

    async def twice(call, what: str):
        try:
            return await call()
        except Exception as first:  # noqa: BLE001 - any store error: retry once, then fail the turn
            logger.warning("tracker store %s failed (%s); retrying once", what, type(first).__name__)
            await asyncio.sleep(0.2)
            try:
                return await call()
            except Exception as exc:
                raise TurnNotKept(f"the conversation could not be {what}") from exc

    async def save(self, tracker):
        return await twice(lambda: self._tracker_store.save(tracker), "saved")

    async def retrieve(self, sender_id):
        return await twice(lambda: self._tracker_store.retrieve(sender_id), "read")

    async def retrieve_full_tracker(self, sender_id):
        return await twice(lambda: self._tracker_store.retrieve_full_tracker(sender_id), "read")

    ts.FailSafeTrackerStore.save = save
    ts.FailSafeTrackerStore.retrieve = retrieve
    ts.FailSafeTrackerStore.retrieve_full_tracker = retrieve_full_tracker

    original_kwargs = ts.create_engine_kwargs

    def create_engine_kwargs(url):
        kwargs = dict(original_kwargs(url))
        kwargs["pool_pre_ping"] = True  # a connection the database dropped is replaced, not used
        return kwargs

    ts.create_engine_kwargs = create_engine_kwargs


def _failed_actions_fail_the_turn() -> None:
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    original_run = RemoteAction.run

    async def run(self, *args, **kwargs):
        try:
            return await original_run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # a form rejecting a value: part of a normal turn
        except Exception:
            _action_failed.set(True)  # Rasa catches this and goes on; save_tracker refuses
            raise

    RemoteAction.run = run


def _processor(max_events: int) -> None:
    from rasa.core.processor import MessageProcessor

    original_handle = MessageProcessor.handle_message
    original_with_tracker = MessageProcessor._handle_message_with_tracker
    original_save = MessageProcessor.save_tracker
    original_expired = MessageProcessor._has_session_expired

    async def handle_message(self, message):
        _action_failed.set(False)
        try:
            return await original_handle(self, message)
        except _AlreadyAnswered as done:
            for reply in done.replies:
                await message.output_channel.send_response(message.sender_id, reply)
            return getattr(message.output_channel, "messages", None)

    async def _handle_message_with_tracker(self, message, tracker):
        replies = replies_to(list(tracker.events), getattr(message, "message_id", None))
        if replies is not None:
            raise _AlreadyAnswered(replies)
        return await original_with_tracker(self, message, tracker)

    async def save_tracker(self, tracker):
        if _action_failed.get():
            raise TurnNotKept("an action could not run, so the turn was not stored")
        return await original_save(self, tracker)

    def _has_session_expired(self, tracker):
        if original_expired(self, tracker):
            return True
        if not self.domain.session_config.are_sessions_enabled():
            return False
        return session_too_long(len(tracker.events), bool(tracker.active_loop_name), max_events)

    MessageProcessor.handle_message = handle_message
    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker
    MessageProcessor.save_tracker = save_tracker
    MessageProcessor._has_session_expired = _has_session_expired


def _locks(settings) -> None:
    from rasa.core import lock_store as ls
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    original_lock = ls.LockStore.lock
    poll, lifetime = settings.lock_poll_seconds, settings.lock_lifetime_seconds

    def lock(self, conversation_id, lock_lifetime=lifetime, wait_time_in_seconds=poll):
        return original_lock(self, conversation_id, lock_lifetime, min(wait_time_in_seconds, poll))

    ls.LockStore.lock = lock
    if not settings.redis_url:
        return
    redis = urlparse(settings.redis_url)
    read = AvailableEndpoints.read_endpoints.__func__

    def read_endpoints(cls, endpoint_file):
        endpoints = read(cls, endpoint_file)
        endpoints.lock_store = EndpointConfig(
            type="redis", url=redis.hostname or "127.0.0.1", port=redis.port or 6379,
            db=int((redis.path or "/0").strip("/") or 0), password=redis.password,
            key_prefix=lock_prefix(settings.database_url))
        return endpoints

    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)


def install_turns(settings) -> None:
    """Install every change above (``settings``: :class:`assistant.config.Settings`)."""
    _strict_store()
    _failed_actions_fail_the_turn()
    _processor(settings.session_max_events)
    _locks(settings)
