"""Alembic environment: migrates the database named by the caller or the settings."""
from alembic import context

from assistant.config import get_settings
from assistant.db import get_engine
from assistant.models import Base

# Rasa's tracker store owns "events"; never touch it from here.
RASA_TABLES = {"events"}


def include_object(obj, name, type_, reflected, compare_to):
    """Leave Rasa's tables out of autogenerate comparisons."""
    return not (type_ == "table" and name in RASA_TABLES)


def run_migrations_online() -> None:
    url = context.config.attributes.get("url") or get_settings().database_url
    connectable = get_engine(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
