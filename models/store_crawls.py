"""Storing a crawl: new records, revisions of changed ones, gone marks, the dedupe index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, text
from sqlalchemy import select as core_select
from sqlalchemy import update as core_update
from sqlmodel import Session, select

from regiofeed.models.candidates import chunks
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.dedupe import Matcher, write_index
from regiofeed.models.health import far_below_usual, live_records, usual_records
from regiofeed.models.items import item_id_for
from regiofeed.models.records import Record
from regiofeed.models.similarity import features
from regiofeed.models.tables import (
    DECISION,
    ITEM,
    RECORD,
    REVISION,
    HttpValidatorRow,
    ItemRow,
    RecordRow,
    RevisionRow,
    SourceRunRow,
    hash_key,
    utcnow,
)

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


class CrawlStorage:
    """Apply a crawl result: upsert records, revise, mark gone, dedupe into items."""

    engine: Engine

    def apply_crawl(
        self, run_id: str, result: CrawlResult, started_at: datetime
    ) -> SourceRunSummary:
        """Store one source's crawl in one transaction: new records, revisions, gone marks.

        New records join the item dedupe finds for them (models.dedupe) or make their own;
        changed records are re-indexed. A failed crawl, or one that found nothing, changes no
        record: its last good items stay. Nor does a crawl that saw none of the source's live
        records mark any of them: it leaves a "suspicious" warning for health.json instead.
        """
        return self.apply_crawls(run_id, [(result, started_at)])[0]

    def apply_crawls(
        self, run_id: str, crawls: Sequence[tuple[CrawlResult, datetime]]
    ) -> list[SourceRunSummary]:
        """Store several sources' crawls (each with its start) in one transaction, in the
        order given: that order decides which item a record joins (see apply_crawl).

        A source that answered 304 at its entry URL costs one row of the health ledger and
        a share of one count query: none of its records is read.
        """
        now = utcnow()
        with self.lock("store"), Session(self.engine) as session:
            quiet = [result.source_id for result, _ in crawls if _untouched(result)]
            live = live_records(session, quiet)
            ledger: list[dict[str, Any]] = []
            summaries = []
            for result, started_at in crawls:
                if _untouched(result):
                    summaries.append(_not_modified(run_id, result, started_at, now,
                                                   live[result.source_id], ledger))
                else:
                    summaries.append(self._apply(session, run_id, result, started_at, now))
            if ledger:
                session.connection().execute(insert(SOURCE_RUN), ledger)
            _save_quiet_validators(session.connection(),
                             [result for result, _ in crawls if _untouched(result)])
            session.commit()
        return summaries

    def _apply(self, session: Session, run_id: str, result: CrawlResult, started_at: datetime,
               now: datetime) -> SourceRunSummary:
        """Store one crawl inside the caller's transaction (see apply_crawl)."""
        new = changed = unchanged = gone = 0
        pending: list[tuple[str, Record, dict[str, Any], str]] = []
        changed_rows: list[RecordRow] = []
        warnings = list(result.warnings)
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
        # An incremental crawl lists what changed; what it does not list still stands.
        standing = ({h for h, row in existing.items() if row.gone_at is None}
                    if result.ok and result.incremental else set())
        gone_hashes = {hash_key(k) for k in result.gone_keys} if result.ok else set()
        for key in result.unchanged_keys if result.ok else []:
            key_hash = hash_key(key)
            if key_hash in existing and key_hash not in seen:
                seen.add(key_hash)
                unchanged += 1
        for record in result.records if result.ok else []:
            key_hash = hash_key(record.key)
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
        for key_hash in standing - seen - gone_hashes:
            seen.add(key_hash)
            unchanged += 1
        for key_hash in gone_hashes - seen:
            # A tombstone (OParl `deleted: true`): the source says it is gone, at once.
            row = existing.get(key_hash)
            if row is not None and row.gone_at is None:
                row.gone_at = now
                gone += 1
                session.add(row)
                session.flush()
                self._set_item_gone(session, row.item_id, now)
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
            discovered=result.discovered, deferred_until=_deferred_until(result, now),
            statuses=result.statuses, pages=result.pages, bytes=result.bytes,
            not_modified=result.not_modified,
            records_seen=len(seen) if result.ok else 0, new=new, changed=changed,
            unchanged=unchanged, gone=gone, duration_s=round(result.duration_s, 3),
        ))
        if result.ok:
            self._save_validators(session, result)
        session.flush()
        self._reindex_changed(session, result.source_id, changed_rows, now)
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
    def _save_validators(session: Session, result: CrawlResult) -> None:
        """Keep this crawl's ETag/Last-Modified per URL; only after its records are stored."""
        for url, found in result.validators.items():
            url_hash = hash_key(url)
            row = session.get(HttpValidatorRow, (result.source_id, url_hash)) or HttpValidatorRow(
                source_id=result.source_id, url_hash=url_hash, url=url)
            row.etag = found.get("etag")
            row.last_modified = found.get("last_modified")
            session.add(row)


SOURCE_RUN = SourceRunRow.__table__
VALIDATOR = HttpValidatorRow.__table__


def _untouched(result: CrawlResult) -> bool:
    """A crawl that changes no record: 304 at the entry URL, nothing listed as gone."""
    return (result.ok and result.not_modified and not result.records
            and not result.gone_keys and not result.incremental)


def _deferred_until(result: CrawlResult, now: datetime) -> datetime | None:
    """When a source that answered Retry-After may be crawled again (None: whenever due)."""
    if result.retry_after is None:
        return None
    return now + timedelta(seconds=result.retry_after)


def _not_modified(run_id: str, result: CrawlResult, started_at: datetime, now: datetime,
                  live: int, ledger: list[dict[str, Any]]) -> SourceRunSummary:
    """The ledger row of a source that answered 304: every record it shows still stands."""
    ledger.append({
        "run_id": run_id, "source_id": result.source_id, "started_at": started_at,
        "finished_at": now, "ok": True, "error": result.error,
        "warnings": list(result.warnings), "discovered": result.discovered,
        "statuses": result.statuses, "pages": result.pages, "bytes": result.bytes,
        "not_modified": True, "records_seen": live, "new": 0, "changed": 0,
        "unchanged": live, "gone": 0, "duration_s": round(result.duration_s, 3),
    })
    return SourceRunSummary(result.source_id, True, live, 0, 0, live, 0, result.error)


def _save_quiet_validators(conn: Connection, results: list[CrawlResult]) -> None:
    """Keep the validators of 304 answers, writing only those that differ from the stored."""
    wanted = {(r.source_id, hash_key(url)): (url, found)
              for r in results for url, found in r.validators.items()}
    if not wanted:
        return
    stored: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for part in chunks(sorted({source_id for source_id, _ in wanted})):
        for row in conn.execute(core_select(VALIDATOR).where(VALIDATOR.c.source_id.in_(part))):
            stored[(row.source_id, row.url_hash)] = (row.etag, row.last_modified)
    inserts, updates = [], []
    for (source_id, url_hash), (url, found) in wanted.items():
        values = (found.get("etag"), found.get("last_modified"))
        if (source_id, url_hash) not in stored:
            inserts.append({"source_id": source_id, "url_hash": url_hash, "url": url,
                            "etag": values[0], "last_modified": values[1]})
        elif stored[(source_id, url_hash)] != values:
            updates.append({"sid": source_id, "uh": url_hash, "etag": values[0],
                            "last_modified": values[1]})
    if inserts:
        conn.execute(insert(VALIDATOR), inserts)
    if updates:
        conn.execute(core_update(VALIDATOR)
                     .where(VALIDATOR.c.source_id == bindparam("sid"),
                            VALIDATOR.c.url_hash == bindparam("uh"))
                     .values(etag=bindparam("etag"), last_modified=bindparam("last_modified")),
                     updates)
