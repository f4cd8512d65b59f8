"""Operators' and dedupe's decisions on items: resolve, merge, split, explain, mark gone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, or_
from sqlalchemy import select as core_select
from sqlalchemy import update as core_update
from sqlmodel import Session, col, select

from regiofeed.models.items import item_id_for, item_object, rank_records
from regiofeed.models.tables import (
    DECISION,
    ITEM,
    RECORD,
    ItemDecisionRow,
    ItemRow,
    RecordRow,
    SourceRow,
    utcnow,
)


class ItemError(ValueError):
    """An operator's item command cannot be done (unknown id, record not in the item, …)."""


class ItemDecisions:
    """Merge and split items, follow merged ids, and explain why records form an item."""

    engine: Engine

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
