"""What was pushed to a target system (the Smart Village App): per item a content hash and the
target's record id, and the outcome of the last push, for health.json."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from regiofeed.models.tables import PushedItemRow, PushTargetRow, utcnow


@dataclass(frozen=True)
class Pushed:
    """An item as the target has it."""

    item_id: str
    record_type: str
    remote_id: str | None
    content_hash: str


def pushed_items(engine: Engine, target: str) -> dict[str, Pushed]:
    """Return what the target holds, by item id."""
    with Session(engine) as session:
        rows = session.exec(select(PushedItemRow).where(PushedItemRow.target == target))
        return {row.item_id: Pushed(row.item_id, row.record_type, row.remote_id,
                                    row.content_hash) for row in rows}


def mark_pushed(engine: Engine, target: str, pushed: Pushed) -> None:
    """Remember one item as sent, at once: a push cut short later still knows it."""
    with Session(engine) as session:
        row = session.get(PushedItemRow, (target, pushed.item_id)) or PushedItemRow(
            target=target, item_id=pushed.item_id, record_type=pushed.record_type,
            content_hash=pushed.content_hash, pushed_at=utcnow())
        row.record_type = pushed.record_type
        row.remote_id = pushed.remote_id
        row.content_hash = pushed.content_hash
        row.pushed_at = utcnow()
        session.add(row)
        session.commit()


def forget_pushed(engine: Engine, target: str, item_id: str) -> None:
    """The item was removed from the target."""
    with Session(engine) as session:
        row = session.get(PushedItemRow, (target, item_id))
        if row is not None:
            session.delete(row)
            session.commit()


def record_push(engine: Engine, target: str, started: datetime, error: str | None,
                counts: dict[str, int]) -> None:
    """Keep the outcome of a push (counts: created, updated, removed, unchanged)."""
    with Session(engine) as session:
        row = session.get(PushTargetRow, target) or PushTargetRow(
            target=target, last_attempt=started)
        row.last_attempt = started
        row.ok = error is None
        row.error = error
        if error is None:
            row.last_success = utcnow()
        for key in ("created", "updated", "removed", "unchanged"):
            setattr(row, key, counts.get(key, 0))
        session.add(row)
        session.commit()


def push_health(engine: Engine) -> dict[str, Any]:
    """Per target: last attempt and success, error, counts of the last push, items held."""
    with Session(engine) as session:
        held: dict[str, int] = {}
        for row in session.exec(select(PushedItemRow.target)):
            held[row] = held.get(row, 0) + 1
        report = {}
        for row in session.exec(select(PushTargetRow)):
            entry: dict[str, Any] = {
                "last_attempt": row.last_attempt.isoformat(),
                "ok": row.ok,
                "items": held.get(row.target, 0),
                "created": row.created, "updated": row.updated,
                "removed": row.removed, "unchanged": row.unchanged,
            }
            if row.last_success is not None:
                entry["last_success"] = row.last_success.isoformat()
            if row.error:
                entry["error"] = row.error
            report[row.target] = entry
        return report
