"""Database engines and sessions.

Engines are created on demand and cached per URL, never at import time. Data
functions take ``*, session`` and never commit; callers own the transaction.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


# A session whose work erased personal text sets this in ``session.info``; after its commit
# the freed pages are scrubbed from the database files (see :func:`mark_erased`).
ERASED = "assistant.erased"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, not just unlinked: erasure must leave no
    # readable copy in the file (issue 9).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@lru_cache(maxsize=32)
def get_engine(url: str) -> Engine:
    """Return a (cached) engine for ``url``; SQLite files get their folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict = {"future": True, "connect_args": {"check_same_thread": False, "timeout": 10}}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Keep file connections open (SQLAlchemy 1.4 would open one per checkout), as
            # many as requests in flight: a chat request holds its session while Rasa answers.
            kwargs.update(poolclass=QueuePool, pool_size=20, max_overflow=20)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=20, max_overflow=20)


def get_sessionmaker(url: str) -> sessionmaker:
    """Return a session factory bound to the engine for ``url``."""
    factory = sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)
    event.listen(factory, "after_commit", _scrub_after_erasure)
    return factory


def mark_erased(session: Session) -> None:
    """Note that this unit of work deleted personal text: once it commits, no copy may stay
    readable in the database files. Data functions call this; they still never commit."""
    session.info[ERASED] = True


def _scrub_after_erasure(session: Session) -> None:
    if not session.info.pop(ERASED, False):
        return
    engine = session.get_bind()
    if engine.dialect.name == "sqlite":
        # secure_delete zeroed the freed cells in the pages written at commit; the WAL still
        # holds the earlier versions of those pages until it is checkpointed and truncated.
        scrub_sqlite(engine)
    # PostgreSQL: the rows are gone for every reader at commit; autovacuum reclaims the space.


def scrub_sqlite(engine: Engine) -> bool:
    """Checkpoint the WAL into the database file and truncate it (waits for readers up to
    the busy timeout). Returns True if the WAL was emptied."""
    with engine.connect() as conn:
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
    return bool(busy) and busy[0] == 0


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engine(url: str) -> None:
    """Dispose of the cached engine for ``url`` (tests, shutdown)."""
    if get_engine.cache_info().currsize:
        get_engine(url).dispose()
