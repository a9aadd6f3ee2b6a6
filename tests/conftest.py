"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when reachable)."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from assistant.config import Settings, get_settings
from assistant.seed import seed_content
from assistant.db import dispose_engine, get_engine, session_scope
from assistant.migrations import upgrade
from assistant.users import create_user

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

_pg_ok = None


def postgres_available() -> bool:
    """True if the local PostgreSQL server answers (checked once)."""
    global _pg_ok
    if _pg_ok is None:
        try:
            engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
            _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """URL of a new, empty database for this test only."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        yield url
        dispose_engine(url)
        get_engine.cache_clear()
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    name = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    dispose_engine(url)
    get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migrated(db_url):
    """A database at the latest schema."""
    upgrade(db_url)
    return db_url


@pytest.fixture
def settings(migrated, monkeypatch):
    """Settings for this test; also exported to the environment for the actions."""
    monkeypatch.setenv("ASSISTANT_ENV", "test")
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", migrated)
    get_settings.cache_clear()
    # no background retraining in unit/API tests (the end-to-end tests run the real worker)
    yield Settings(env="test", database_url=migrated, training_worker=False)
    get_settings.cache_clear()


@pytest.fixture
def seeded(settings):
    """Settings of a database loaded with the repo's FAQ content."""
    with session_scope(settings.database_url) as session:
        seed_content(ROOT / "content", session=session)
    return settings


@pytest.fixture
def make_user(settings):
    """Factory: create a user and return (id, username, password)."""

    def factory(username: str, role: str = "practitioner", manager: str = None, password: str = None):
        password = password or "correct horse " + username
        with session_scope(settings.database_url) as session:
            user = create_user(username=username, password=password, role=role,
                               manager_username=manager, session=session)
            return user.id, username, password

    return factory


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory):
    """The real stack (Rasa, action server, web app) on one SQLite database, shared by the
    end-to-end modules that don't restart or retrain it."""
    from tests.e2e_stack import launch, make_database, model_available

    if not model_available():
        pytest.fail("no trained model in models/: run `make train` first")
    tmp = tmp_path_factory.mktemp("e2e-shared")
    url = make_database("sqlite", tmp)
    running = launch(url, tmp)
    running.database_url = url
    yield running
    running.stop_all()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium for a browser test module (one per module: each has its own stack)."""
    from tests.browser_support import chrome

    driver = chrome(tmp_path_factory.mktemp("chrome"))
    yield driver
    driver.quit()
