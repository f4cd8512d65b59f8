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
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, func, insert, or_, text
from sqlalchemy import select as core_select
from sqlalchemy import update as core_update
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from models.dedupe import Matcher, chunks, write_index
from models.health import far_below_usual, source_health, usual_records
from models.items import item_id_for, item_object, rank_records
from models.migrate import upgrade
from models.similarity import features
from models.tables import (
    HttpValidatorRow,
    ItemDecisionRow,
    ItemRow,
    RecordRow,
    RevisionRow,
    RunRow,
    SourceRow,
    SourceRunRow,
    utcnow,
)
from spiders.crawl import CrawlResult
from spiders.records import Record
from spiders.sources import Source

ITEM = ItemRow.__table__
RECORD = RecordRow.__table__
REVISION = RevisionRow.__table__
DECISION = ItemDecisionRow.__table__


class ItemError(ValueError):
    """An operator's item command cannot be done (unknown id, record not in the item, …)."""

DEFAULT_DB = "sqlite:///data/regiofeed.db"
_MEMORY_LOCKS: dict[str, threading.Lock] = {}
BERLIN = ZoneInfo("Europe/Berlin")
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

        New records join the item dedupe finds for them (models.dedupe) or make their own;
        changed records are re-indexed. A failed crawl, or one that found nothing, changes no
        record: its last good items stay. Nor does a crawl that saw none of the source's live
        records mark any of them: it leaves a "suspicious" warning for health.json instead.
        """
        now = utcnow()
        new = changed = unchanged = gone = 0
        pending: list[tuple[str, Record, dict[str, Any], str]] = []
        changed_rows: list[RecordRow] = []
        warnings = list(result.warnings)
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
                    pending.append((key_hash, record, data, content_hash))
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
                    changed_rows.append(row)
                else:
                    unchanged += 1
                row.last_seen = now
                if row.missing_runs or row.gone_at is not None:
                    row.missing_runs = 0
                    row.gone_at = None
                    self._set_item_gone(session, row.item_id, None)
                session.add(row)
            session.flush()
            self._add_new(session, run_id, result.source_id, pending, now)
            # Only a crawl that found something can say what is missing; an empty result is a
            # broken source, not the end of all its items. Nor is one that saw none of the
            # records it showed before (new URLs, a redesign, the wrong page): keep them.
            live = [h for h, row in existing.items() if row.gone_at is None]
            usual = usual_records(session, result.source_id)
            if seen and live and not any(h in seen for h in live) and not result.not_modified:
                warnings.append(f"suspicious: none of the {len(live)} known records seen; "
                                "none marked gone")
            elif seen and not result.not_modified and far_below_usual(len(seen), usual):
                # A redesigned site whose selectors match a fraction of it: its items stay.
                warnings.append(f"degraded: {len(seen)} records, usually {usual:g}; "
                                "none marked gone")
            elif seen and not result.not_modified:
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
                finished_at=now, ok=result.ok, error=result.error, warnings=warnings,
                discovered=result.discovered,
                statuses=result.statuses, pages=result.pages, bytes=result.bytes,
                not_modified=result.not_modified,
                records_seen=len(seen) if result.ok else 0, new=new, changed=changed,
                unchanged=unchanged, gone=gone, duration_s=round(result.duration_s, 3),
            ))
            if result.ok:
                self._save_validators(session, result)
            session.flush()
            self._reindex_changed(session, result.source_id, changed_rows, now)
            session.commit()
        return SourceRunSummary(result.source_id, result.ok, len(seen) if result.ok else 0, new,
                                changed, unchanged, gone, result.error)

    def _add_new(self, session: Session, run_id: str, source_id: str,
                 pending: list[tuple[str, Record, dict[str, Any], str]], now: datetime) -> None:
        """Insert new records in bulk, each into the item dedupe finds, or a new item."""
        if not pending:
            return
        conn = session.connection()
        batch = [features(data, now) for _, _, data, _ in pending]
        matches = Matcher(conn).match(source_id, batch)
        own_ids = sorted({item_id_for(source_id, rec.key) for _, rec, _, _ in pending})
        known: dict[str, str | None] = {}
        for part in chunks(own_ids):
            for row in conn.execute(core_select(ITEM.c.id, ITEM.c.merged_into)
                                    .where(ITEM.c.id.in_(part))):
                known[row.id] = row.merged_into
        new_items: list[dict[str, Any]] = []
        touched: set[str] = set()
        records: list[dict[str, Any]] = []
        for (key_hash, record, data, content_hash), match in zip(pending, matches, strict=True):
            item_id, rule, note = match.item_id, match.rule, match.note
            if item_id is None:
                item_id = item_id_for(source_id, record.key)
                if item_id in known:
                    # The item this record once made (or its survivor) keeps its id.
                    item_id = known[item_id] or item_id
                    rule, note = "earlier item", "the item this record made before"
                    touched.add(item_id)
                else:
                    known[item_id] = None
                    new_items.append({"id": item_id, "kind": record.kind, "created_at": now,
                                      "changed_at": now, "gone_at": None,
                                      "merged_into": None})
            else:
                touched.add(item_id)
            records.append({
                "source_id": source_id, "key": record.key, "key_hash": key_hash,
                "item_id": item_id, "content_hash": content_hash, "data": data,
                "revision": 1, "first_seen": now, "last_seen": now, "changed_at": now,
                "missing_runs": 0, "gone_at": None, "join_rule": rule, "join_note": note or None,
            })
        if new_items:
            conn.execute(insert(ITEM), new_items)
        if touched:
            conn.execute(core_update(ITEM).where(ITEM.c.id == bindparam("item"))
                         .values(changed_at=now, gone_at=None),
                         [{"item": i} for i in sorted(touched)])
        ids = self._insert_records(conn, records)
        conn.execute(insert(REVISION), [
            {"record_id": rid, "number": 1, "content_hash": rec["content_hash"],
             "data": rec["data"], "fetched_at": now, "run_id": run_id}
            for rid, rec in zip(ids, records, strict=True)])
        write_index(conn, zip(ids, batch, strict=True))

    @staticmethod
    def _insert_records(conn: Connection, records: list[dict[str, Any]]) -> list[int]:
        """Insert record rows in bulk; return their ids in order."""
        if conn.dialect.name != "postgresql":
            return list(conn.execute(
                insert(RECORD).returning(RECORD.c.id, sort_by_parameter_order=True), records
            ).scalars())
        # PostgreSQL: the ids come from the sequence first, then one plain executemany.
        ids = list(conn.execute(
            text("SELECT nextval(pg_get_serial_sequence('record', 'id')) "
                 "FROM generate_series(1, :n)"), {"n": len(records)}).scalars())
        conn.execute(insert(RECORD), [{**rec, "id": rid}
                                      for rid, rec in zip(ids, records, strict=True)])
        return ids

    def _reindex_changed(self, session: Session, source_id: str, rows: list[RecordRow],
                         now: datetime) -> None:
        """Refresh the index of changed records; one alone in its item may now join another.

        A record an operator split out is left where it is.
        """
        if not rows:
            return
        conn = session.connection()
        batch = [features(row.data, row.first_seen) for row in rows]
        write_index(conn, [(row.id, f) for row, f in zip(rows, batch, strict=True)
                           if row.id is not None], replace=True)
        sizes = dict(conn.execute(
            core_select(RECORD.c.item_id, func.count()).where(
                RECORD.c.item_id.in_(sorted({r.item_id for r in rows})))
            .group_by(RECORD.c.item_id)).all())
        split = set(conn.execute(core_select(DECISION.c.record_id).where(
            DECISION.c.action == "split")).scalars())
        alone = [(row, f) for row, f in zip(rows, batch, strict=True)
                 if sizes.get(row.item_id) == 1 and row.id not in split]
        if not alone:
            return
        matches = Matcher(conn).match(source_id, [f for _, f in alone],
                                      [row.id for row, _ in alone])
        for (row, _), match in zip(alone, matches, strict=True):
            if match.item_id is not None and match.item_id != row.item_id:
                self._merge(conn, row.item_id, match.item_id, now, manual=False,
                            note=f"record {row.id} changed: {match.rule}; {match.note}")

    @staticmethod
    def _resolve(conn: Connection, item_id: str) -> str | None:
        for _ in range(20):
            row = conn.execute(core_select(ITEM.c.merged_into).where(ITEM.c.id == item_id)).first()
            if row is None:
                return None
            if row.merged_into is None:
                return item_id
            item_id = row.merged_into
        return item_id

    @staticmethod
    def _refresh_gone(conn: Connection, item_id: str, now: datetime) -> None:
        alive = conn.execute(core_select(func.count()).select_from(RECORD).where(
            RECORD.c.item_id == item_id, RECORD.c.gone_at.is_(None))).scalar_one()
        conn.execute(core_update(ITEM).where(ITEM.c.id == item_id)
                     .values(changed_at=now, gone_at=None if alive else now))

    def _merge(self, conn: Connection, a: str, b: str, now: datetime, *, manual: bool,
               note: str | None) -> str:
        """Merge items a and b: the older id survives, the other points to it (and so do the
        ids it had absorbed). Return the survivor's id."""
        rows = list(conn.execute(core_select(ITEM.c.id, ITEM.c.created_at)
                                 .where(ITEM.c.id.in_([a, b]))))
        survivor, absorbed = (r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id)))
        conn.execute(core_update(RECORD).where(RECORD.c.item_id == absorbed)
                     .values(item_id=survivor))
        conn.execute(core_update(ITEM).where(or_(ITEM.c.id == absorbed,
                                                 ITEM.c.merged_into == absorbed))
                     .values(merged_into=survivor, changed_at=now))
        self._refresh_gone(conn, survivor, now)
        conn.execute(insert(DECISION).values(
            action="merge" if manual else "auto-merge", item_id=survivor,
            other_item_id=absorbed, created_at=now, note=note))
        return survivor

    # -- operator decisions ---------------------------------------------------------------------

    def resolve_item(self, item_id: str) -> str | None:
        """Return the id an item is published under now: itself, or the item it merged into."""
        with self.engine.connect() as conn:
            return self._resolve(conn, item_id)

    def merge_items(self, a: str, b: str, note: str | None = None) -> str:
        """Merge two items for good (an operator's decision); return the surviving (older) id.

        Raises ItemError for an unknown id or when both are already one item.
        """
        now = utcnow()
        with self.lock("store"), self.engine.begin() as conn:
            first, second = self._resolve(conn, a), self._resolve(conn, b)
            if first is None or second is None:
                raise ItemError(f"no such item: {a if first is None else b}")
            if first == second:
                raise ItemError(f"{a} and {b} are already one item: {first}")
            return self._merge(conn, first, second, now, manual=True, note=note)

    def split_record(self, item_id: str, record_id: int, note: str | None = None) -> str:
        """Take a record out of an item into an item of its own, for good; return its new id.

        The item keeps its id and its other records; the record never rejoins it
        automatically. Raises ItemError when the record is not in the item or is its only one.
        """
        now = utcnow()
        with self.lock("store"), self.engine.begin() as conn:
            current = self._resolve(conn, item_id)
            if current is None:
                raise ItemError(f"no such item: {item_id}")
            row = conn.execute(core_select(RECORD.c.id, RECORD.c.item_id, RECORD.c.source_id,
                                           RECORD.c.key, RECORD.c.data)
                               .where(RECORD.c.id == record_id)).first()
            if row is None or row.item_id != current:
                raise ItemError(f"record {record_id} is not in item {current}")
            count = conn.execute(core_select(func.count()).select_from(RECORD).where(
                RECORD.c.item_id == current)).scalar_one()
            if count < 2:
                raise ItemError(f"record {record_id} is the only record of item {current}")
            new_id = item_id_for(row.source_id, f"{row.key}\nsplit from {current}")
            for attempt in range(1, 100):
                if conn.execute(core_select(ITEM.c.id).where(ITEM.c.id == new_id)).first() is None:
                    break
                new_id = item_id_for(row.source_id, f"{row.key}\nsplit from {current} {attempt}")
            conn.execute(insert(ITEM).values(id=new_id, kind=row.data.get("kind", "news"),
                                             created_at=now, changed_at=now))
            conn.execute(core_update(RECORD).where(RECORD.c.id == record_id).values(
                item_id=new_id, join_rule="split by operator",
                join_note=f"split out of {current}" + (f": {note}" if note else "")))
            self._refresh_gone(conn, new_id, now)
            self._refresh_gone(conn, current, now)
            conn.execute(insert(DECISION).values(action="split", item_id=current,
                                                 other_item_id=new_id, record_id=record_id,
                                                 created_at=now, note=note))
            return new_id

    def explain_item(self, item_id: str) -> dict[str, Any] | None:
        """Return an item with its records, why each is in it and which one gives the fields."""
        with Session(self.engine) as session:
            current = self._resolve(session.connection(), item_id)
            if current is None:
                return None
            item = session.get(ItemRow, current)
            assert item is not None
            records = list(session.exec(select(RecordRow).where(RecordRow.item_id == current)))
            sources = {row.id: row for row in session.exec(select(SourceRow))}
            merged_from = sorted(session.exec(select(ItemRow.id).where(
                ItemRow.merged_into == current)))
            decisions = list(session.exec(select(ItemDecisionRow).where(or_(
                ItemDecisionRow.item_id == current,
                col(ItemDecisionRow.other_item_id) == current)).order_by(
                    col(ItemDecisionRow.id))))
        ranked = rank_records(records)
        return {
            "id": current,
            "asked": item_id,
            "gone": item.gone_at is not None,
            "merged_from": merged_from,
            "object": item_object(item, records, sources, merged_from) if records else None,
            "records": [{
                "record_id": r.id, "source_id": r.source_id, "url": r.data.get("url"),
                "title": r.data.get("title"), "rank": n + 1, "why_rank": why,
                "join_rule": r.join_rule or "new item", "join_note": r.join_note,
                "gone": r.gone_at is not None,
            } for n, (r, why) in enumerate(ranked)],
            "decisions": [{"action": d.action, "item_id": d.item_id, "other": d.other_item_id,
                           "record_id": d.record_id, "at": d.created_at.isoformat(),
                           "note": d.note} for d in decisions],
        }

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

    def items(self, *, include_gone: bool = False, gone_only: bool = False) -> list[dict]:
        """Return the item objects of every current item (all items with include_gone, only
        the gone ones with gone_only)."""
        include_gone = include_gone or gone_only
        with Session(self.engine) as session:
            sources = {row.id: row for row in session.exec(select(SourceRow))}
            query = select(ItemRow).where(col(ItemRow.merged_into).is_(None))
            if not include_gone:
                query = query.where(col(ItemRow.gone_at).is_(None))
            elif gone_only:
                query = query.where(col(ItemRow.gone_at).is_not(None))
            items = list(session.exec(query))
            absorbed: dict[str, list[str]] = defaultdict(list)
            for old, into in session.exec(select(ItemRow.id, ItemRow.merged_into).where(
                    col(ItemRow.merged_into).is_not(None))):
                absorbed[into].append(old)
            by_item: dict[str, list[RecordRow]] = defaultdict(list)
            for record in session.exec(select(RecordRow).where(col(RecordRow.gone_at).is_(None))
                                       if not include_gone else select(RecordRow)):
                by_item[record.item_id].append(record)
        return [item_object(item, by_item[item.id], sources, sorted(absorbed.get(item.id, [])))
                for item in items if by_item[item.id]]

    def published_items(self, today: date) -> list[dict]:
        """What gets published: every current item, and the past events whose sources have
        since dropped them (calendars clear old events; the open-data dump keeps them).

        An upcoming event or news item that vanished is withdrawn, and stays out.
        """
        past = [item for item in self.items(gone_only=True) if _ended_before(item, today)]
        return self.items() + past

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
        """Per source: the health ledger entry (see models/health.py)."""
        with Session(self.engine) as session:
            return {source_id: source_health(session, source_id) for source_id in source_ids}


def _ended_before(item: dict, today: date) -> bool:
    """Whether an item is an event whose last day is before `today` (Europe/Berlin)."""
    event = item.get("_regiofeed", {}).get("event")
    if not event:
        return False
    last = event.get("end") or event["start"]
    day = (date.fromisoformat(last) if len(last) == 10
           else datetime.fromisoformat(last).astimezone(BERLIN).date())
    return day < today


def _aware(value: datetime) -> datetime:
    """Aggregates bypass the column type: SQLite hands back naive UTC."""
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
