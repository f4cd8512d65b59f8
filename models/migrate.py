"""Schema migrations with Alembic: every store is brought to the newest revision before use."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do; it only has to be the same for every regiofeed process.
_PG_LOCK_KEY = 0x7265_6769_6F66


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config pointing at our migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision.

    On PostgreSQL an advisory lock makes concurrent workers wait for one another instead of
    racing to create the same tables.
    """
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
