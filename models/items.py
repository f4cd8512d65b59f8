"""Build the item object of DESIGN.md (JSON Feed 1.1 item with `_regiofeed`) from stored rows.

Which record speaks for an item (precedence, first rule that tells them apart wins):

0. an event: an item that joins news pages and an event (a portal's copy of it) is that
   event, and its event record speaks for it;
1. the original: a record another record of the item links to ("Quelle: …", its teaser's
   link, `original_url`) — the copy points at it;
2. the earliest published: `date_published` (a date-only value counts as that day's start),
   a record without one after every record with one;
3. the most complete: longer text, summary, image, tags, event end, place details
   (models.similarity.completeness);
4. the first seen by us, then the lowest record id (stable between runs).

The item takes every field from that record; a field it lacks (summary, image, tags, author,
the event's end or place) comes from the next record in this order that has it. `url` is the
first record's, `also_at` every other record's URL, `sources` every source (in this order),
`_regiofeed.merged_from` the ids of items merged into this one, so consumers can follow them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from regiofeed.models.berlin import BERLIN
from regiofeed.models.licences import LICENCE_BASE
from regiofeed.models.similarity import completeness, parse_when, source_links
from regiofeed.models.tables import ItemRow, RecordRow, SourceRow


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


def _published_key(record: RecordRow) -> float:
    value = parse_when(record.data.get("date_published"))
    if value is None:
        return float("inf")
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime(value.year, value.month, value.day, tzinfo=BERLIN).timestamp()


def rank_records(records: list[RecordRow]) -> list[tuple[RecordRow, str]]:
    """Order an item's records by the precedence of the module docstring, each with why."""
    linked: set[str] = set()
    if len(records) > 1:
        for record in records:
            linked.update(url for url, _ in source_links(record.data)
                          if url != record.data.get("url"))

    def key(r: RecordRow) -> tuple:
        return (r.data.get("kind") != "event", r.data.get("url") not in linked,
                _published_key(r), -completeness(r.data), r.first_seen, r.id or 0)

    ordered = sorted(records, key=key)
    result = []
    for n, record in enumerate(ordered):
        if len(ordered) == 1:
            why = "only record"
        elif n == 0 and record.data.get("kind") == "event" != ordered[1].data.get("kind"):
            why = "the event that news pages republish"
        elif record.data.get("url") in linked:
            why = "the original: another record links to it"
        elif n == 0:
            why = ("published first" if _published_key(record) < _published_key(ordered[1])
                   else "most complete" if completeness(record.data) > completeness(
                       ordered[1].data) else "seen first")
        else:
            why = (f"published {record.data.get('date_published') or 'without a date'}, "
                   f"completeness {completeness(record.data)}")
        result.append((record, why))
    return result


def _fill(first: dict[str, Any], others: list[dict[str, Any]], keys: tuple[str, ...]) -> dict:
    """Take each of `keys` from the first mapping that has a value for it."""
    merged = dict(first)
    for key in keys:
        if not merged.get(key):
            merged[key] = next((o[key] for o in others if o.get(key)), merged.get(key))
    return merged


def item_object(item: ItemRow, records: list[RecordRow], sources: dict[str, SourceRow],
                merged_from: list[str] | None = None) -> dict:
    """Return the item object for `item`, its fields taken by the precedence above."""
    ordered = [r for r, _ in rank_records(records)]
    primary = ordered[0]
    rest = [r.data for r in ordered[1:]]
    data = _fill(primary.data, rest, ("summary", "image", "tags", "author", "content_text",
                                      "content_html"))
    if data.get("event"):
        same_kind = [d["event"] for d in rest if d.get("event")]
        data["event"] = _fill(data["event"], same_kind, ("end", "location", "organizer",
                                                         "offers", "online_url"))
    source = sources[primary.source_id]
    also_at: list[str] = []
    for r in ordered[1:]:
        url = r.data.get("url")
        if url and url != data.get("url") and url not in also_at:
            also_at.append(url)
    authors = [{"name": data["author"]}] if data.get("author") else None
    modified = [m for m in (_date_modified(r) for r in ordered) if m]
    extension = _compact({
        "kind": data.get("kind", "news"),
        "sources": list(dict.fromkeys(r.source_id for r in ordered)),
        "publisher": source.publisher,
        "municipality": source.municipality,
        "also_at": also_at,
        "licence": LICENCE_BASE + source.licence,
        "event": _event(data),
        "merged_from": sorted(merged_from or []),
        "image_alt": data.get("image_alt") if data.get("image") else None,
        "notes": data.get("notes"),
        # No date from the source: date_published is when regiofeed first saw it.
        "dated": None if data.get("date_published") else "first seen",
    })
    return _compact({
        "id": item.id,
        "url": data.get("url"),
        "title": data["title"],
        "content_text": data.get("content_text"),
        "content_html": data.get("content_html"),
        "summary": data.get("summary"),
        "image": data.get("image"),
        # An event without a publication date was not published when we first saw it: it
        # has none, and sorts by its start (publish.items.newest_first).
        "date_published": data.get("date_published") or (
            None if data.get("kind") == "event" else _iso(primary.first_seen)),
        "date_modified": max(modified, key=_instant) if modified else None,
        "tags": data.get("tags"),
        "authors": authors,
        "_regiofeed": extension,
    })


def _instant(value: str) -> float:
    parsed = parse_when(value)
    if isinstance(parsed, datetime):
        return parsed.timestamp()
    assert parsed is not None
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=BERLIN).timestamp()
