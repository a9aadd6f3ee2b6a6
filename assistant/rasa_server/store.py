"""Cheaper reads and writes of Rasa's SQL tracker store: the same rows, in the same order.

Profiled under load (py-spy, 20 users, SQLite), reading and saving the conversation were
~27% of a Rasa server's CPU per message, a quarter of it spent on work whose answer was
already known:

1. **Reading** a conversation: Rasa builds an ORM object for every stored event only to
   read its ``data`` column. Here Rasa's own query (``_event_query``: the same sender,
   the same "latest session" filter, the same order) selects that one column.
2. **Saving**: to find which of the tracker's events are new, Rasa counts the stored events
   of the latest session, running the session sub-query again. The tracker being saved
   was read a moment before under the conversation's lock (no other server can add to it
   meanwhile), so that count is the number of events read. It is remembered on the
   tracker and used once, by the first save after the read; any other save (a tracker not
   read here, a second save, or the retry of a save that failed, which may have failed
   after its commit) counts as Rasa does, so nothing is ever written twice.
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Any, Optional

logger = logging.getLogger(__name__)

STORED_COUNT = "_assistant_stored_events"  # attribute on a DialogueStateTracker read by _retrieve


def stored_count(tracker: Any) -> Optional[int]:
    """Take (and forget) the number of the tracker's events known to be stored, or None."""
    return tracker.__dict__.pop(STORED_COUNT, None)


def install_sql_store_reads() -> None:
    """Replace ``SQLTrackerStore._retrieve`` and ``_additional_events`` as described above."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    count_stored = SQLTrackerStore._additional_events

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool):
        with self.session_scope() as session:
            query = self._event_query(session, sender_id,
                                      fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            rows = query.with_entities(self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
        if not (self.domain and events):
            logger.debug("Can't retrieve tracker matching sender id '%s' from SQL storage.", sender_id)
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:  # what the save's count would find
            setattr(tracker, STORED_COUNT, len(events))
        return tracker

    def _additional_events(self, session, tracker):
        stored = stored_count(tracker)
        if stored is None or stored > len(tracker.events):
            return count_stored(self, session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    SQLTrackerStore._retrieve = _retrieve
    SQLTrackerStore._additional_events = _additional_events
