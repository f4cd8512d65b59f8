"""Build the item object of DESIGN.md (JSON Feed 1.1 item with `_regiofeed`) from stored rows."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.tables import ItemRow, RecordRow, SourceRow
from spiders.sources import LICENCE_BASE

BERLIN = ZoneInfo("Europe/Berlin")


def item_id_for(source_id: str, key: str) -> str:
    """Derive a stable item id from the record that first made the item.

    >>> item_id_for("bad-belzig-aktuelles", "https://example.org/a")
    '6a1180b3155f7e3f7146'
    """
    return hashlib.sha256(f"{source_id}\n{key}".encode()).hexdigest()[:20]


def _iso(value: datetime) -> str:
    # Whole seconds: what we observed is not more precise than that.
    return value.astimezone(BERLIN).replace(microsecond=0).isoformat()


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Leave out keys with no value (None, empty string, empty list or dict)."""
    return {k: v for k, v in mapping.items() if v is not None and v != "" and v != [] and v != {}}


def _date_modified(record: RecordRow) -> str | None:
    """The source's own modification date, or when we saw the record change, whichever is newer."""
    own = record.data.get("date_modified")
    if record.revision <= 1:
        return own
    observed = _iso(record.changed_at)
    if own and datetime.fromisoformat(own) > record.changed_at:
        return own
    return observed


def _event(data: dict[str, Any]) -> dict[str, Any] | None:
    event = data.get("event")
    if not event:
        return None
    place = dict(event.get("location") or {})
    lat, lon = place.pop("lat", None), place.pop("lon", None)
    location = _compact(place)
    if lat is not None and lon is not None:
        location["geo"] = {"lat": lat, "lon": lon}
    return _compact({
        "start": event["start"],
        "end": event.get("end"),
        "all_day": bool(event.get("all_day")),
        "online": bool(event.get("online")),
        "online_url": event.get("online_url"),
        "status": event.get("status"),
        "organizer": event.get("organizer"),
        "offers": event.get("offers"),
        "location": location or None,
    })


def item_object(item: ItemRow, records: list[RecordRow], sources: dict[str, SourceRow]) -> dict:
    """Return the item object for `item`, its fields taken from its first record."""
    ordered = sorted(records, key=lambda r: (r.first_seen, r.id or 0))
    primary = ordered[0]
    data = primary.data
    source = sources[primary.source_id]
    also_at = [r.data["url"] for r in ordered[1:] if r.data.get("url")]
    authors = [{"name": data["author"]}] if data.get("author") else None
    extension = _compact({
        "kind": data.get("kind", "news"),
        "sources": sorted({r.source_id for r in ordered}, key=[r.source_id for r in ordered].index),
        "publisher": source.publisher,
        "municipality": source.municipality,
        "also_at": [u for u in also_at if u != data.get("url")],
        "licence": LICENCE_BASE + source.licence,
        "event": _event(data),
    })
    return _compact({
        "id": item.id,
        "url": data.get("url"),
        "title": data["title"],
        "content_text": data.get("content_text"),
        "content_html": data.get("content_html"),
        "summary": data.get("summary"),
        "image": data.get("image"),
        "date_published": data.get("date_published") or _iso(primary.first_seen),
        "date_modified": _date_modified(primary),
        "tags": data.get("tags"),
        "authors": authors,
        "_regiofeed": extension,
    })
