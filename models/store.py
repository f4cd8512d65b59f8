"""The store: one SQL code path for SQLite and PostgreSQL; records, revisions, items, health."""

from __future__ import annotations

import fcntl
import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from regiofeed.models.candidates import chunks
from regiofeed.models.defaults import DEFAULT_DB
from regiofeed.models.health import health_of
from regiofeed.models.migrate import upgrade
from regiofeed.models.sources import Source
from regiofeed.models.store_crawls import CrawlStorage
from regiofeed.models.store_items import ItemDecisions
from regiofeed.models.store_reading import ItemReading, aware_utc
from regiofeed.models.tables import (
    HttpValidatorRow,
    RunRow,
    SourceRow,
    SourceRunRow,
    utcnow,
)

_MEMORY_LOCKS: dict[str, threading.Lock] = {}




def normalise_url(url: str) -> str:
    """Accept plain PostgreSQL URLs too, using the psycopg 3 driver we install.

    >>> normalise_url("postgresql://postgres@127.0.0.1/test")
    'postgresql+psycopg://postgres@127.0.0.1/test'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url




def create_store_engine(url: str) -> Engine:
    """Create an engine; a SQLite file gets its folder, WAL, a page cache and a busy timeout."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL syncs at checkpoints, not at every commit: still never corrupt;
            # a power cut may lose the last commits, which the next run crawls again.
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MB of pages: the dedupe index of a large store is read at random.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        return engine
    # Bulk inserts as psycopg's own executemany (one prepared statement, pipelined) rather
    # than SQLAlchemy's multi-row VALUES, whose long text psycopg re-parses every time.
    return create_engine(url, pool_pre_ping=True, use_insertmanyvalues=False)


class Store(CrawlStorage, ItemReading, ItemDecisions):
    """Records, revisions and items of every source, in one database."""

    def __init__(self, url: str = DEFAULT_DB) -> None:
        self.url = normalise_url(url)
        self.engine = create_store_engine(self.url)
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold a named lock shared by every process and machine that uses this store.

        PostgreSQL: a session advisory lock, so workers on several machines queue up.
        SQLite: an exclusive file lock beside the database file (one machine by nature).
        Storing takes the "store" lock: two runs over the same sources then see each
        other's records instead of inserting them twice. Publishing takes "publish", so two
        publications never interleave.
        """
        if self.engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
            return
        database = make_url(self.url).database
        if not database or database == ":memory:":
            with _MEMORY_LOCKS.setdefault(name, threading.Lock()):
                yield
            return
        with open(f"{database}.{name}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sources and runs -------------------------------------------------------------------

    def sync_sources(self, sources: list[Source]) -> None:
        """Insert or update the configured sources (a source is never deleted: it has records)."""
        now = utcnow()
        with self.lock("store"), Session(self.engine) as session:
            stored = {row.id: row for row in session.exec(select(SourceRow))}
            for source in sources:
                row = stored.get(source.id) or SourceRow(id=source.id)
                row.name = source.name
                row.publisher = source.publisher
                row.municipality = source.municipality
                row.ags = source.ags
                row.url = source.url
                row.kind = source.kind
                row.licence = source.licence
                config = source.model_dump(mode="json", exclude_none=True)
                if row.config != config:
                    row.config = config
                    row.updated_at = now
                elif row.updated_at is None:
                    row.updated_at = now
                session.add(row)
            session.commit()

    def begin_run(self) -> str:
        run_id = str(uuid.uuid4())
        with Session(self.engine) as session:
            session.add(RunRow(id=run_id, started_at=utcnow()))
            session.commit()
        return run_id

    def finish_run(self, run_id: str, status: str) -> None:
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            if run is not None:
                run.finished_at = utcnow()
                run.status = status
                session.add(run)
                session.commit()

    # -- storing a crawl ----------------------------------------------------------------------








    # -- operator decisions ---------------------------------------------------------------------






    def validators(self, source_id: str) -> dict[str, dict[str, str]]:
        """The validators to send with the next crawl of a source: {url: {etag, last_modified}}."""
        return self.validators_of([source_id])[0]

    def validators_of(self, source_ids: list[str]) -> list[dict[str, dict[str, str]]]:
        """`validators` of each source, in the order given, read in one query per chunk."""
        found: dict[str, dict[str, dict[str, str]]] = {source_id: {} for source_id in source_ids}
        with Session(self.engine) as session:
            for part in chunks(sorted(found)):
                for row in session.exec(select(HttpValidatorRow).where(
                        col(HttpValidatorRow.source_id).in_(part))):
                    found[row.source_id][row.url] = {
                        k: v for k, v in (("etag", row.etag),
                                          ("last_modified", row.last_modified)) if v}
        return [found[source_id] for source_id in source_ids]

    def last_attempts(self) -> dict[str, datetime]:
        """When each source was last crawled, for deciding which sources are due."""
        with Session(self.engine) as session:
            rows = session.exec(select(SourceRunRow.source_id, func.max(SourceRunRow.started_at))
                                .group_by(SourceRunRow.source_id))
            return {source_id: aware_utc(started) for source_id, started in rows}

    def deferred(self, now: datetime) -> dict[str, datetime]:
        """Sources whose last answer was Retry-After, and until when no run may crawl them."""
        with Session(self.engine) as session:
            latest = (select(SourceRunRow.source_id, func.max(SourceRunRow.id).label("last"))
                      .group_by(SourceRunRow.source_id).subquery())
            rows = session.exec(
                select(SourceRunRow.source_id, SourceRunRow.deferred_until)
                .join(latest, SourceRunRow.id == latest.c.last)
                .where(SourceRunRow.deferred_until > now))
            return {source_id: aware_utc(until) for source_id, until in rows}


    # -- reading --------------------------------------------------------------------------------





    def health(self, source_ids: list[str]) -> dict[str, Any]:
        """Per source: the health ledger entry (see models/health.py)."""
        with Session(self.engine) as session:
            return health_of(session, source_ids)




