"""The store: one SQL code path for SQLite and PostgreSQL; records, revisions, items, health."""

from __future__ import annotations

import fcntl
import hashlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from models.items import item_id_for, item_object
from models.migrate import upgrade
from models.tables import (
    HttpValidatorRow,
    ItemRow,
    RecordRow,
    RevisionRow,
    RunRow,
    SourceRow,
    SourceRunRow,
    utcnow,
)
from spiders.crawl import CrawlResult
from spiders.sources import Source

DEFAULT_DB = "sqlite:///data/regiofeed.db"
_MEMORY_LOCKS: dict[str, threading.Lock] = {}
# A record must be missing from this many successful crawls in a row before it counts as gone:
# one miss can be a page that was briefly cut short.
GONE_AFTER_MISSES = 2


@dataclass(frozen=True)
class SourceRunSummary:
    """What storing one crawl changed."""

    source_id: str
    ok: bool
    records_seen: int
    new: int
    changed: int
    unchanged: int
    gone: int
    error: str | None = None


def normalise_url(url: str) -> str:
    """Accept plain PostgreSQL URLs too, using the psycopg 3 driver we install.

    >>> normalise_url("postgresql://postgres@127.0.0.1/test")
    'postgresql+psycopg://postgres@127.0.0.1/test'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_store_engine(url: str) -> Engine:
    """Create an engine; a SQLite file gets its folder, WAL and a busy timeout."""
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
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
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
            for source in sources:
                row = session.get(SourceRow, source.id) or SourceRow(id=source.id)
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

    def apply_crawl(
        self, run_id: str, result: CrawlResult, started_at: datetime
    ) -> SourceRunSummary:
        """Store one source's crawl in one transaction: new records, revisions, gone marks.

        A failed crawl, or one that found nothing, changes no record: its last good items stay.
        """
        now = utcnow()
        new = changed = unchanged = gone = 0
        with self.lock("store"), Session(self.engine) as session:
            existing = {
                row.key_hash: row
                for row in session.exec(
                    select(RecordRow).where(RecordRow.source_id == result.source_id)
                )
            }
            seen: set[str] = set()
            if result.ok and result.not_modified:
                # 304 at the entry URL: everything the source showed last time still stands.
                seen = {h for h, row in existing.items() if row.gone_at is None}
                unchanged = len(seen)
            for key in result.unchanged_keys if result.ok else []:
                key_hash = _key_hash(key)
                if key_hash in existing and key_hash not in seen:
                    seen.add(key_hash)
                    unchanged += 1
            for record in result.records if result.ok else []:
                key_hash = _key_hash(record.key)
                if key_hash in seen:
                    continue
                seen.add(key_hash)
                data = record.model_dump(mode="json", exclude_none=True)
                content_hash = record.content_hash()
                row = existing.get(key_hash)
                if row is None:
                    item_id = item_id_for(record.source_id, record.key)
                    item = session.get(ItemRow, item_id) or ItemRow(
                        id=item_id, kind=record.kind, created_at=now, changed_at=now
                    )
                    session.add(item)
                    row = RecordRow(
                        source_id=record.source_id, key=record.key, key_hash=key_hash,
                        item_id=item_id, content_hash=content_hash, data=data, revision=1,
                        first_seen=now, last_seen=now, changed_at=now,
                    )
                    session.add(row)
                    session.flush()
                    session.add(RevisionRow(record_id=row.id, number=1, content_hash=content_hash,
                                            data=data, fetched_at=now, run_id=run_id))
                    new += 1
                    continue
                if row.content_hash != content_hash:
                    row.revision += 1
                    row.content_hash = content_hash
                    row.data = data
                    row.changed_at = now
                    session.add(RevisionRow(record_id=row.id, number=row.revision,
                                            content_hash=content_hash, data=data,
                                            fetched_at=now, run_id=run_id))
                    item = session.get(ItemRow, row.item_id)
                    if item is not None:
                        item.changed_at = now
                        item.kind = record.kind
                        session.add(item)
                    changed += 1
                else:
                    unchanged += 1
                row.last_seen = now
                if row.missing_runs or row.gone_at is not None:
                    row.missing_runs = 0
                    row.gone_at = None
                    self._set_item_gone(session, row.item_id, None)
                session.add(row)
            # Only a crawl that found something can say what is missing; an empty result is a
            # broken source, not the end of all its items.
            if seen and not result.not_modified:
                for key_hash, row in existing.items():
                    if key_hash in seen or row.gone_at is not None:
                        continue
                    row.missing_runs += 1
                    if row.missing_runs >= GONE_AFTER_MISSES:
                        row.gone_at = now
                        gone += 1
                    session.add(row)
                    session.flush()
                    if row.gone_at is not None:
                        self._set_item_gone(session, row.item_id, now)
            session.add(SourceRunRow(
                run_id=run_id, source_id=result.source_id, started_at=started_at,
                finished_at=now, ok=result.ok, error=result.error, warnings=result.warnings,
                statuses=result.statuses, pages=result.pages, bytes=result.bytes,
                not_modified=result.not_modified,
                records_seen=len(seen) if result.ok else 0, new=new, changed=changed,
                unchanged=unchanged, gone=gone, duration_s=round(result.duration_s, 3),
            ))
            if result.ok:
                self._save_validators(session, result)
            session.commit()
        return SourceRunSummary(result.source_id, result.ok, len(seen) if result.ok else 0, new,
                                changed, unchanged, gone, result.error)

    @staticmethod
    def _save_validators(session: Session, result: CrawlResult) -> None:
        """Keep this crawl's ETag/Last-Modified per URL; only after its records are stored."""
        for url, found in result.validators.items():
            url_hash = _key_hash(url)
            row = session.get(HttpValidatorRow, (result.source_id, url_hash)) or HttpValidatorRow(
                source_id=result.source_id, url_hash=url_hash, url=url)
            row.etag = found.get("etag")
            row.last_modified = found.get("last_modified")
            session.add(row)

    def validators(self, source_id: str) -> dict[str, dict[str, str]]:
        """The validators to send with the next crawl of a source: {url: {etag, last_modified}}."""
        with Session(self.engine) as session:
            rows = session.exec(select(HttpValidatorRow).where(
                HttpValidatorRow.source_id == source_id))
            return {
                row.url: {k: v for k, v in (("etag", row.etag),
                                            ("last_modified", row.last_modified)) if v}
                for row in rows
            }

    def last_attempts(self) -> dict[str, datetime]:
        """When each source was last crawled, for deciding which sources are due."""
        with Session(self.engine) as session:
            rows = session.exec(select(SourceRunRow.source_id, func.max(SourceRunRow.started_at))
                                .group_by(SourceRunRow.source_id))
            return {source_id: _aware(started) for source_id, started in rows}

    @staticmethod
    def _set_item_gone(session: Session, item_id: str, when: datetime | None) -> None:
        """An item is gone when all of its records are; it comes back with any of them."""
        item = session.get(ItemRow, item_id)
        if item is None:
            return
        if when is None:
            item.gone_at = None
        else:
            alive = session.exec(
                select(func.count()).select_from(RecordRow).where(
                    RecordRow.item_id == item_id, col(RecordRow.gone_at).is_(None)
                )
            ).one()
            item.gone_at = when if alive == 0 else None
        session.add(item)

    # -- reading --------------------------------------------------------------------------------

    def items(self, *, include_gone: bool = False) -> list[dict]:
        """Return the item objects of every current item (all items with include_gone)."""
        with Session(self.engine) as session:
            sources = {row.id: row for row in session.exec(select(SourceRow))}
            query = select(ItemRow)
            if not include_gone:
                query = query.where(col(ItemRow.gone_at).is_(None))
            items = list(session.exec(query))
            by_item: dict[str, list[RecordRow]] = defaultdict(list)
            for record in session.exec(select(RecordRow).where(col(RecordRow.gone_at).is_(None))
                                       if not include_gone else select(RecordRow)):
                by_item[record.item_id].append(record)
        return [item_object(item, by_item[item.id], sources) for item in items if by_item[item.id]]

    def revisions(self, source_id: str, key: str) -> list[RevisionRow]:
        """Every revision of one record, oldest first."""
        with Session(self.engine) as session:
            row = session.exec(select(RecordRow).where(
                RecordRow.source_id == source_id, RecordRow.key_hash == _key_hash(key))).first()
            if row is None:
                return []
            return list(session.exec(select(RevisionRow).where(RevisionRow.record_id == row.id)
                                     .order_by(col(RevisionRow.number))))

    def counts(self) -> dict[str, int]:
        """Row counts per table, for reports and tests."""
        with Session(self.engine) as session:
            return {
                table.__tablename__: session.exec(select(func.count()).select_from(table)).one()
                for table in (SourceRow, RecordRow, RevisionRow, ItemRow, RunRow, SourceRunRow)
            }

    def health(self, source_ids: list[str]) -> dict[str, Any]:
        """Per source: last attempt, last success, what the last run found, and current items."""
        report: dict[str, Any] = {}
        with Session(self.engine) as session:
            for source_id in source_ids:
                runs = session.exec(
                    select(SourceRunRow).where(SourceRunRow.source_id == source_id)
                    .order_by(col(SourceRunRow.started_at).desc(), col(SourceRunRow.id).desc())
                    .limit(1)
                ).first()
                success = session.exec(
                    select(SourceRunRow).where(SourceRunRow.source_id == source_id,
                                               col(SourceRunRow.ok).is_(True))
                    .order_by(col(SourceRunRow.started_at).desc()).limit(1)
                ).first()
                changed = session.exec(
                    select(SourceRunRow).where(
                        SourceRunRow.source_id == source_id,
                        (SourceRunRow.new + SourceRunRow.changed + SourceRunRow.gone) > 0)
                    .order_by(col(SourceRunRow.started_at).desc()).limit(1)
                ).first()
                current = session.exec(
                    select(func.count()).select_from(RecordRow).where(
                        RecordRow.source_id == source_id, col(RecordRow.gone_at).is_(None))
                ).one()
                report[source_id] = _health_entry(runs, success, changed, current)
        return report


def _aware(value: datetime) -> datetime:
    """Aggregates bypass the column type: SQLite hands back naive UTC."""
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _health_entry(
    last: SourceRunRow | None,
    success: SourceRunRow | None,
    changed: SourceRunRow | None,
    items: int,
) -> dict:
    if last is None:
        return {"status": "never", "items": items}
    status = "ok" if last.ok else "failed"
    if last.ok and last.records_seen == 0:
        # A source that answers but yields nothing is broken in a way the site won't tell us.
        status = "empty"
    entry = {
        "status": status,
        "last_attempt": last.started_at.isoformat(),
        "last_success": success.finished_at.isoformat() if success else None,
        # The last run that found something new, changed or gone.
        "last_change": changed.finished_at.isoformat() if changed else None,
        "items": items,
        "records_seen": last.records_seen,
        "new": last.new,
        "changed": last.changed,
        "unchanged": last.unchanged,
        "gone": last.gone,
        "pages": last.pages,
        "bytes": last.bytes,
        "http_statuses": last.statuses,
        "not_modified": last.not_modified,
        "duration_s": last.duration_s,
        "error": last.error,
        "warnings": last.warnings,
    }
    return {k: v for k, v in entry.items() if v is not None and v != []}
