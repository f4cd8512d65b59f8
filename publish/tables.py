"""CSV (RFC 4180) writers for data/items.csv and data/events.csv: one flat row per item/event,
and their variants for German spreadsheet programs (UTF-8 BOM, semicolons)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.spill import spill_of

MEDIA_TYPE = "text/csv"
# Excel in a German locale opens a CSV by double click only when it starts with a UTF-8 byte
# order mark (else umlauts break) and uses ";" (the list separator where "," is the decimal).
ITEMS_EXCEL = "data/items-excel.csv"
EVENTS_EXCEL = "data/events-excel.csv"
EXCEL = {"delimiter": ";", "bom": True}

ITEM_COLUMNS = (
    "id", "kind", "title", "url", "date_published", "date_modified", "publisher",
    "municipality", "sources", "also_at", "licence",
)  # fmt: skip
EVENT_COLUMNS = (
    *ITEM_COLUMNS, "start", "end", "all_day", "online", "status",
    "location_name", "street", "postal_code", "locality", "latitude", "longitude",
)  # fmt: skip


def render_items(ctx: PublishContext) -> Iterator[bytes]:
    """Render every item of the context as data/items.csv, ordered by id (as items.json)."""
    return _table(ctx, ITEM_COLUMNS, ctx.by_id, item_row)


def render_events(ctx: PublishContext) -> Iterator[bytes]:
    """Render every event of the context (past ones too) as data/events.csv, soonest first."""
    return _table(ctx, EVENT_COLUMNS, ctx.events_soonest, event_row)


CHUNK = 1 << 20  # bytes handed to the writer at a time: a big table is never one string


def render_items_excel(ctx: PublishContext) -> Iterator[bytes]:
    """Render data/items.csv for German Excel: the same rows, ";" between, a UTF-8 BOM first."""
    return _table(ctx, ITEM_COLUMNS, ctx.by_id, item_row, **EXCEL)


def render_events_excel(ctx: PublishContext) -> Iterator[bytes]:
    """Render data/events.csv for German Excel (see render_items_excel)."""
    return _table(ctx, EVENT_COLUMNS, ctx.events_soonest, event_row, **EXCEL)


def _table(
    ctx: PublishContext,
    columns: tuple[str, ...],
    items: list[Item],
    row: Callable[[Item], dict[str, str]],
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> Iterator[bytes]:
    """Write a header and one row per item; CRLF line ends and minimal quoting (RFC 4180)."""
    line = _Line(delimiter)
    parts = [("\ufeff" if bom else "").encode("utf-8") + line(columns)]
    size = 0
    # A row is the same in every scope that holds the item: written once per publish run,
    # and kept on disk rather than in memory (four tables of 100,000 rows).
    rows = spill_of(ctx.memo, ("csv", columns, delimiter))

    def make(item: Item) -> bytes:
        values = row(item)
        return line([values.get(column, "") for column in columns])

    for start in range(0, len(items), BATCH):
        for data in rows.gather(items[start : start + BATCH], make):
            parts.append(data)
            size += len(data)
            if size >= CHUNK:
                yield b"".join(parts)
                parts, size = [], 0
    yield b"".join(parts)


BATCH = 4096  # rows fetched from the spill at once


class _Line:
    """Write one CSV record (csv module, CRLF, minimal quoting) and return it as UTF-8."""

    def __init__(self, delimiter: str) -> None:
        self.out = io.StringIO()
        self.writer = csv.writer(self.out, delimiter=delimiter, lineterminator="\r\n")

    def __call__(self, values: Iterable[str]) -> bytes:
        self.out.seek(0)
        self.out.truncate()
        self.writer.writerow(values)
        return self.out.getvalue().encode("utf-8")


def item_row(item: Item) -> dict[str, str]:
    """Flatten an item object into the columns of items.csv (lists joined by spaces).

    >>> item_row({"id": "a", "title": "T", "_regiofeed": {"kind": "news", "sources": ["x", "y"]}})
    {'id': 'a', 'kind': 'news', 'title': 'T', 'url': '', 'date_published': '', \
'date_modified': '', 'publisher': '', 'municipality': '', 'sources': 'x y', 'also_at': '', \
'licence': ''}
    """
    ext = item.get("_regiofeed") or {}
    return {
        "id": str(item.get("id", "")),
        "kind": ext.get("kind", ""),
        "title": item.get("title", ""),
        "url": item.get("url", ""),
        "date_published": item.get("date_published", ""),
        "date_modified": item.get("date_modified", ""),
        "publisher": ext.get("publisher", ""),
        "municipality": ext.get("municipality", ""),
        # Source ids are slugs and URLs have no spaces, so a space separates them unambiguously.
        "sources": " ".join(ext.get("sources", [])),
        "also_at": " ".join(ext.get("also_at", [])),
        "licence": ext.get("licence", ""),
    }


def event_row(item: Item) -> dict[str, str]:
    """Flatten an event item into the columns of events.csv; booleans as true/false."""
    event = _event(item)
    location = event.get("location") or {}
    geo = location.get("geo") or {}
    return {
        **item_row(item),
        "start": event.get("start", ""),
        "end": event.get("end", ""),
        "all_day": _bool(event.get("all_day")),
        "online": _bool(event.get("online")),
        "status": event.get("status", ""),
        "location_name": location.get("name", ""),
        "street": location.get("street", ""),
        "postal_code": location.get("postal_code", ""),
        "locality": location.get("locality", ""),
        "latitude": _number(geo.get("lat")),
        "longitude": _number(geo.get("lon")),
    }


def _bool(value: Any) -> str:
    return "true" if value else "false"


def _number(value: Any) -> str:
    return "" if value is None else str(value)


def _event(item: Item) -> dict[str, Any]:
    """Return the item's event details, or {} for news and events without a start."""
    event = (item.get("_regiofeed") or {}).get("event") or {}
    return event if event.get("start") else {}
