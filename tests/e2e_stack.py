"""Helpers for tests that run the real stack: Rasa, the action server and the web app."""
from __future__ import annotations

import random
import socket
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from assistant.seed import seed_content
from assistant.db import session_scope
from assistant.migrations import upgrade
from assistant.stack import Ports, random_tokens, start_stack
from assistant.users import create_user
from tests.conftest import PG_ADMIN_URL, ROOT

# the stack's secrets, fresh per test run; TOKEN is Rasa's HTTP API token (tracker reads)
TOKENS = random_tokens()
TOKEN = TOKENS["rasa_token"]
# username: (role, password, line manager); managers first
USERS = {
    "mgr.e2e": ("manager", "mgr e2e password", None),
    "pat.e2e": ("practitioner", "pat e2e password", "mgr.e2e"),
    "sam.e2e": ("practitioner", "sam e2e password", None),
}


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(count: int = 1) -> int:
    """The first of ``count`` consecutive TCP ports free on 127.0.0.1 right now, below the
    kernel's ephemeral range (so no outgoing connection can take one between now and the
    server binding it)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]) \
        if Path("/proc/sys/net/ipv4/ip_local_port_range").exists() else 32768
    for _ in range(200):
        port = random.randint(max(1024, low - 12000), low - count)
        if all(_bindable(p) for p in range(port, port + count)):
            return port
    raise RuntimeError("no free port found")


def model_available() -> bool:
    """True if a trained model exists in models/."""
    return any((ROOT / "models").glob("*.tar.gz"))


def make_database(kind: str, tmp: Path) -> str:
    """A new database (``sqlite`` file or ``postgresql`` database), migrated and seeded."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'e2e.db'}"
    else:
        name = "e2e_" + uuid.uuid4().hex[:12]
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    with session_scope(url) as session:
        seed_content(ROOT / "content", session=session)
        for username, (role, password, manager) in USERS.items():
            create_user(username=username, password=password, role=role, manager_username=manager,
                        session=session)
    return url


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database made by :func:`make_database` (SQLite files go with tmp)."""
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


RASA_INSTANCES = Ports().rasa_instances


def launch(url: str, tmp: Path):
    """Start the three processes on free ports against ``url``."""
    ports = Ports(actions=free_port(), rasa=free_port(RASA_INSTANCES), web=free_port())
    return start_stack(url, ports, TOKENS, tmp / "logs", extra_env={"ASSISTANT_ENV": "test"})
