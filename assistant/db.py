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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
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
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


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
