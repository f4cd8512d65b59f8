"""Schema migrations with Alembic: every store is brought to the newest revision before use."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, pool, text

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do; it only has to be the same for every regiofeed process.
_PG_LOCK_KEY = 0x7265_6769_6F66
# The tables the first migration creates: a store that has some of them but no alembic_version
# was cut off during its first migration by the old, non-transactional SQLite path.
_OUR_TABLES = ("item", "run", "source", "record", "source_run", "record_revision")


class MigrationError(RuntimeError):
    """The database holds something that regiofeed cannot migrate."""


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config pointing at our migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head_revision() -> str | None:
    """The newest revision of our migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision, all of it or nothing.

    A store already at the newest revision is only read. Otherwise the migration runs in one
    transaction under a lock, so a process killed half-way leaves the store as it was, and
    processes that open a new store at once wait for one another instead of racing to create
    the same tables: on PostgreSQL an advisory lock, on SQLite `BEGIN IMMEDIATE`.
    """
    with engine.connect() as connection:
        if current_revision(connection) == head_revision():
            return
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine)
        # A connection that read the schema before it changed elsewhere answers PRAGMAs from
        # its stale copy (index_list is empty): start the store on fresh connections.
        engine.dispose()
        return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        _run_upgrade(connection)


def _upgrade_sqlite(engine: Engine) -> None:
    """Run the migration in one real SQLite transaction.

    Python's sqlite3 module opens a transaction only before INSERT/UPDATE/DELETE, so each
    CREATE TABLE of a migration used to commit on its own and a kill left half a schema. With
    the driver's own transaction handling off, this connection sends BEGIN IMMEDIATE itself
    (SQLAlchemy's documented recipe for transactional DDL on pysqlite).
    """
    migrating = create_engine(engine.url, poolclass=pool.NullPool,
                              connect_args={"timeout": 60, "isolation_level": None})

    @event.listens_for(migrating, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        # Outside any transaction: journal_mode cannot change inside one.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(migrating, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with migrating.begin() as connection:
            _run_upgrade(connection)
    finally:
        migrating.dispose()


def _run_upgrade(connection: Connection) -> None:
    if current_revision(connection) is None:
        _clear_half_created(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _clear_half_created(connection: Connection) -> None:
    """Drop the empty tables of a first migration that an older regiofeed left half done."""
    present = [name for name in _OUR_TABLES if inspect(connection).has_table(name)]
    if not present:
        return
    for name in present:
        if connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
            raise MigrationError(
                f"the database has regiofeed tables with data ({name}) but no schema version: "
                "it was not made by regiofeed, or by a version from before migrations")
    for name in reversed(_OUR_TABLES):  # children before parents
        if name in present:
            connection.execute(text(f'DROP TABLE "{name}"'))
