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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations copy a table and drop the old one; with foreign keys on (our
            # engines turn them on), the drop would cascade-delete every child row (e.g. a
            # reflection's answers). Alembic's docs: switch them off around the migration
            # (the pragma is ignored inside a transaction, so before it starts).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                include_object=include_object,
                render_as_batch=sqlite,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows with broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:  # the pooled connection goes back with foreign keys on
                connection.commit()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run_migrations_online()
