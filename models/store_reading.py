"""Reading items back from the store: every item, the published ones, revisions, counts."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from regiofeed.models.berlin import BERLIN
from regiofeed.models.items import item_object
from regiofeed.models.tables import (
    DECISION,
    ITEM,
    RECORD,
    REVISION,
    ItemRow,
    RecordRow,
    RevisionRow,
    RunRow,
    SourceRow,
    SourceRunRow,
    hash_key,
)


def _ended_before(item: dict, today: date) -> bool:
    """Whether an item is an event whose last day is before `today` (Europe/Berlin)."""
    event = item.get("_regiofeed", {}).get("event")
    if not event:
        return False
    last = event.get("end") or event["start"]
    day = (date.fromisoformat(last) if len(last) == 10
           else datetime.fromisoformat(last).astimezone(BERLIN).date())
    return day < today


def aware_utc(value: datetime) -> datetime:
    """Aggregates bypass the column type: SQLite hands back naive UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ItemReading:
    """The items as the world sees them, built from their records."""

    engine: Engine

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

    def publication_marker(self) -> list[Any]:
        """What published items are made of, in a few aggregates: equal markers, equal items.

        Every write that can change an item moves one of them: a new, changed, gone or
        revived record (counts, changed_at, gone_at, revisions), a new, gone or merged item,
        an operator's decision. A run over unchanged sources moves none, so its publication
        can be skipped (flows.aggregate) without reading a single item.
        """
        with self.engine.connect() as conn:
            marker: list[Any] = []
            for query in (
                core_select(func.count(), func.max(ITEM.c.changed_at), func.max(ITEM.c.gone_at),
                            func.count(ITEM.c.merged_into)),
                core_select(func.count(), func.max(RECORD.c.changed_at),
                            func.max(RECORD.c.gone_at), func.count(RECORD.c.gone_at),
                            func.max(RECORD.c.id)),
                core_select(func.max(REVISION.c.id)),
                core_select(func.count(), func.max(DECISION.c.id)),
            ):
                marker.extend(str(value) for value in conn.execute(query).one())
            return marker

    def published_items(self, today: date) -> list[dict]:
        """What gets published: every current item, and the past events whose sources have
        since dropped them (calendars clear old events; the open-data dump keeps them).

        An upcoming event or news item that vanished is withdrawn, and stays out. One pass
        over the store: each item and each record it shows is read once.
        """
        with Session(self.engine) as session:
            sources = {row.id: row for row in session.exec(select(SourceRow))}
            absorbed: dict[str, list[str]] = defaultdict(list)
            for old, into in session.exec(select(ItemRow.id, ItemRow.merged_into).where(
                    col(ItemRow.merged_into).is_not(None))):
                absorbed[into].append(old)
            # Plain rows, not ORM objects: every published item is read on every run.
            conn = session.connection()
            items = list(conn.execute(core_select(ITEM).where(ITEM.c.merged_into.is_(None))
                                      .order_by(ITEM.c.id)))
            # A current item shows its current records; a gone one all of them (as items()).
            gone_items = core_select(ITEM.c.id).where(ITEM.c.gone_at.is_not(None))
            by_item: dict[str, list[Any]] = defaultdict(list)
            for record in conn.execute(core_select(RECORD).where(or_(
                    RECORD.c.gone_at.is_(None), RECORD.c.item_id.in_(gone_items)))):
                by_item[record.item_id].append(record)
        current, past = [], []
        for item in items:
            records = by_item[item.id]
            if item.gone_at is None:
                live = [r for r in records if r.gone_at is None]
                if live:
                    current.append(item_object(item, live, sources,
                                               sorted(absorbed.get(item.id, []))))
            elif records:
                found = item_object(item, records, sources, sorted(absorbed.get(item.id, [])))
                if _ended_before(found, today):
                    past.append(found)
        return current + past

    def revisions(self, source_id: str, key: str) -> list[RevisionRow]:
        """Every revision of one record, oldest first."""
        with Session(self.engine) as session:
            row = session.exec(select(RecordRow).where(
                RecordRow.source_id == source_id, RecordRow.key_hash == hash_key(key))).first()
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
