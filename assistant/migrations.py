"""Run Alembic migrations from code (CLI, tests, start-up)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from assistant.config import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    """Alembic configuration for the database at ``url``."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    command.downgrade(alembic_config(url), revision)
