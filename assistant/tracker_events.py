"""Everything we do directly to Rasa's conversation store: the one module that knows its
table. Functions take ``*, session`` and never commit; the caller's unit of work decides.

Rasa's SQL tracker store (``rasa.core.tracker_store.SQLTrackerStore``, Rasa 3.6) keeps
every conversation in one table, ``events``, in our database (``endpoints.yml``). It
creates the table itself on first start, so it may not exist yet (a fresh install, unit
tests): each function checks first and then does nothing. The columns we rely on:

- ``id``: integer primary key, in the order the events were saved;
- ``sender_id``: the conversation, ``str(users.id)`` of the practitioner (our channel
  sends the web app's user id; nobody else talks to Rasa);
- ``type_name``: the event type, e.g. ``user`` (a message typed, its text in ``data``),
  ``bot`` (a reply, its text in ``data``), ``slot`` (a slot set, its value in ``data``),
  ``action``, ``session_started``...;
- ``timestamp``: when the event happened, float seconds since the Unix epoch (UTC);
- ``data``: the whole event as JSON (text, slot values, parse data);
- ``intent_name`` / ``action_name``: not used here.

Reading a conversation goes through Rasa's HTTP API (``assistant/web/rasa_client.py``),
never through this table: Rasa owns its format. We only delete from it, so that erasing a
reflection or purging old data leaves no copy in the conversation store (issue 9).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import column, delete, inspect, table
from sqlalchemy.orm import Session

TABLE = "events"
# The event types that carry what someone typed or was told: deleting these removes the
# text of a turn; the rest (actions, session starts) keep the conversation's shape valid.
TEXT_TYPES = ("user", "bot", "slot")

_EPOCH = dt.datetime(1970, 1, 1)


def _events():
    # A lightweight table construct (no metadata, nothing created): only the columns we use.
    return table(TABLE, column("sender_id"), column("type_name"), column("timestamp"))


def epoch_seconds(when: dt.datetime) -> float:
    """``when`` (naive UTC, as our models store it) in the store's timestamp unit."""
    return (when - _EPOCH).total_seconds()


def store_exists(*, session: Session) -> bool:
    """True if Rasa's ``events`` table is in the session's database (Rasa creates it on
    its first start; until then there is nothing of ours in it to delete)."""
    return inspect(session.connection()).has_table(TABLE)


def delete_turns(sender_id: str, start: dt.datetime, end: dt.datetime, *, session: Session,
                 types: Iterable[str] = TEXT_TYPES) -> int:
    """Delete the events of ``types`` (by default those with text) in ``sender_id``'s
    conversation stamped between ``start`` and ``end`` (naive UTC, inclusive). Returns how
    many were deleted (0 if the store does not exist yet)."""
    if not store_exists(session=session):
        return 0
    events = _events()
    result = session.execute(delete(events).where(
        events.c.sender_id == str(sender_id),
        events.c.timestamp.between(epoch_seconds(start), epoch_seconds(end)),
        events.c.type_name.in_(list(types))))
    return result.rowcount


def delete_before(cutoff: dt.datetime, *, session: Session) -> int:
    """Delete every event of every conversation stamped before ``cutoff`` (naive UTC):
    the retention purge. Returns how many were deleted (0 if there is no store yet)."""
    if not store_exists(session=session):
        return 0
    events = _events()
    return session.execute(delete(events).where(events.c.timestamp < epoch_seconds(cutoff))).rowcount
