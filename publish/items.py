"""Ordering, selection and canonical JSON encoding of item objects (JSON Feed 1.1 + _regiofeed)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from html import escape
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from regiofeed.publish.dates import event_days, format_event_when, parse_instant

if TYPE_CHECKING:  # only annotations: the context itself is built from these helpers
    from regiofeed.publish.context import PublishContext

Item = dict[str, Any]
"""An item object as in DESIGN.md: JSON Feed 1.1 item plus the ``_regiofeed`` extension."""

Source = dict[str, Any]
"""A configured source: id, name, publisher, url, kind, licence (URI), schedule, and where set
municipality, ags, publisher_url, publisher_email, keywords, themes (EU data theme codes)."""

# Key order of the item object as DESIGN.md shows it (JSON Feed 1.1 order first). Keys are
# written in this order whatever order the store built the dict in, so the output bytes depend
# only on the content.
ITEM_KEYS = (
    "id", "url", "external_url", "title", "summary", "content_text", "content_html",
    "image", "banner_image", "date_published", "date_modified", "authors", "tags",
    "language", "attachments", "_regiofeed",
)  # fmt: skip
REGIOFEED_KEYS = (
    "kind", "sources", "publisher", "municipality", "also_at", "licence", "event",
)  # fmt: skip
EVENT_KEYS = ("start", "end", "all_day", "online", "location")
LOCATION_KEYS = ("name", "street", "postal_code", "locality")


def _ordered(mapping: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Return a copy with ``keys`` first in that order, any other keys after, sorted."""
    result = {key: mapping[key] for key in keys if key in mapping}
    if len(result) != len(mapping):  # rare: keys beyond the documented ones
        for key in sorted(key for key in mapping if key not in result):
            result[key] = mapping[key]
    return result


def canonical_item(item: Item) -> Item:
    """Return the item with its keys (and those of _regiofeed, event, location) in fixed order.

    Values are not changed, so ``json.loads(json.dumps(canonical_item(x))) == x``.
    """
    result = _ordered(item, ITEM_KEYS)
    ext = result.get("_regiofeed")
    if isinstance(ext, Mapping):
        ext = _ordered(ext, REGIOFEED_KEYS)
        event = ext.get("event")
        if isinstance(event, Mapping):
            event = _ordered(event, EVENT_KEYS)
            if isinstance(event.get("location"), Mapping):
                event["location"] = _ordered(event["location"], LOCATION_KEYS)
            ext["event"] = event
        result["_regiofeed"] = ext
    return result


def published_at(item: Item) -> datetime | None:
    """Return when the item was first published (date_published, else date_modified)."""
    value = item.get("date_published") or item.get("date_modified")
    return parse_instant(value) if value else None


def modified_at(item: Item) -> datetime | None:
    """Return when the item last changed (date_modified, else date_published)."""
    value = item.get("date_modified") or item.get("date_published")
    return parse_instant(value) if value else None


def newest_first(items: Iterable[Item], memo: dict[Any, Any] | None = None) -> list[Item]:
    """Sort items newest first by date_published (as instants), ties and undated by id.

    An event without a publication date sorts by its start.

    Items without any date go last. The order is total, so equal input gives equal output.
    ``memo`` keeps the items' parsed dates for the rest of a publish run (see item_facts).
    """
    memo = {} if memo is None else memo
    dated: list[tuple[float, Item]] = []
    undated: list[Item] = []
    # Sorting by id first and then (stably) by date keeps id order within equal dates.
    for item in sorted(items, key=lambda item: str(item.get("id", ""))):
        moment = item_facts(item, memo).newest
        if moment is None:
            undated.append(item)
        else:
            dated.append((moment, item))
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return [item for _, item in dated] + undated


class ItemFacts(NamedTuple):
    """The instants and days of one item that writers order and select by.

    A named tuple: made for every item of every run, where a frozen dataclass costs more.
    """

    published: datetime | None  # see published_at
    modified: datetime | None  # see modified_at
    last_day: date | None  # an event's last day in Europe/Berlin (dates.event_days)
    # Sort keys as POSIX seconds: floats compare much faster than aware datetimes, which
    # ask their time zones for offsets at every comparison. Equal instants, equal keys.
    newest: float | None  # published, else the event's start (newest_first)
    soonest: float | None  # the event's start; None for news and events without a start
    changed: float | None  # modified


def item_facts(item: Item, memo: dict[Any, Any]) -> ItemFacts:
    """Return the ItemFacts of ``item``, kept in ``memo`` (a publish run's) by item id.

    Every scope and writer that holds an item asks for its dates; they are parsed once.
    """
    table: dict[str, ItemFacts] | None = memo.get("facts")
    if table is None:
        table = memo["facts"] = {}
    facts = table.get(item["id"])
    if facts is None:
        event = (item.get("_regiofeed") or {}).get("event") or {}
        start_text = event.get("start")
        # Parsed once per run here, so past the cache: 100,000 items would only churn it.
        parse = parse_instant.__wrapped__
        start = parse(start_text) if start_text else None
        published_text = item.get("date_published") or item.get("date_modified")
        modified_text = item.get("date_modified") or item.get("date_published")
        published = parse(published_text) if published_text else None
        modified = parse(modified_text) if modified_text else None
        newest = published or start
        facts = table[item["id"]] = ItemFacts(
            published,
            modified,
            event_days(event)[1] if start_text else None,
            newest.timestamp() if newest else None,
            start.timestamp() if start else None,
            modified.timestamp() if modified else None,
        )
    return facts


def soonest_first(items: Iterable[Item], memo: dict[Any, Any]) -> list[Item]:
    """Return the events among ``items`` (those with a start) soonest first, ties by id."""
    events = []
    for item in items:
        moment = item_facts(item, memo).soonest
        if moment is not None:
            events.append((moment, str(item["id"]), item))
    events.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in events]


def last_modified(items: Iterable[Item]) -> datetime | None:
    """Return the newest date_modified (or date_published) among ``items``, None if none."""
    moments = [moment for moment in map(modified_at, items) if moment is not None]
    return max(moments, default=None)


def dumps(value: Any) -> bytes:
    """Encode JSON as the tree publishes it: UTF-8, not ASCII-escaped, indent 2, final newline."""
    return encode(value) + b"\n"


def encode(value: Any) -> bytes:
    """Return ``json.dumps(value, ensure_ascii=False, indent=2)`` as UTF-8, the same bytes.

    orjson writes them about twenty times faster (the standard library's encoder runs in pure
    Python as soon as it indents). The two differ only in how they write some floats (1e-07
    against 1e-7, NaN) and in what they refuse (integers beyond 64 bits, keys that are not
    strings): values with those go through the standard library.
    """
    if _orjson_safe(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2)
        except TypeError:
            pass  # an integer beyond 64 bits, or a type orjson does not know
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def _orjson_safe(value: Any) -> bool:
    """Tell whether orjson writes ``value`` exactly as json.dumps does (see ``encode``)."""
    # A loop over a stack, not recursion: this runs for every node of 100,000 items.
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is dict:
            if not all(type(key) is str for key in node):
                return False
            stack.extend(node.values())
        elif kind is list or kind is tuple:
            stack.extend(node)
        elif kind is float:
            text = repr(node)
            if "e" in text or "n" in text:  # an exponent, nan or inf
                return False
        elif not (kind is str or kind is int or kind is bool or node is None):
            return False  # a subclass or another type: let json.dumps decide
    return True


def event_place(event: Mapping[str, Any]) -> str:
    """Return where an event takes place as one line of German text ("" when unknown).

    >>> event_place({"online": True, "location": {"name": "Rathaus", "postal_code": "14806",
    ...                                          "locality": "Bad Belzig"}})
    'Rathaus, 14806 Bad Belzig · auch online'
    """
    location = event.get("location") or {}
    town = " ".join(filter(None, (location.get("postal_code"), location.get("locality"))))
    # Sources sometimes put the same text in two fields (name == street); say it once.
    parts = [location.get("name"), location.get("street"), town]
    place = ", ".join(dict.fromkeys(part for part in parts if part))
    if event.get("online"):
        return f"{place} · auch online" if place else "online"
    return place


def body_html(item: Item) -> str:
    """Return the item's body as HTML (content_html, else escaped text paragraphs).

    Events start with a line saying when and where: feed readers show only the body.
    """
    body = item.get("content_html")
    if not body:
        text = item.get("content_text") or item.get("summary") or ""
        body = "".join(f"<p>{escape(para)}</p>" for para in text.split("\n\n") if para.strip())
    event = (item.get("_regiofeed") or {}).get("event")
    if not event or not event.get("start"):
        return body
    lines = [escape(format_event_when(event))]
    place = event_place(event)
    if place:
        lines.append(escape(place))
    if event.get("status") == "cancelled":
        lines.insert(0, "Abgesagt")
    return f"<p><strong>{'<br/>'.join(lines)}</strong></p>{body}"


def first_known_source(ids: Iterable[str], sources: Mapping[str, Source]) -> Source | None:
    """Return the first of the item's sources that is configured, or None."""
    return next((sources[source_id] for source_id in ids if source_id in sources), None)


def scope_home(ctx: PublishContext) -> str:
    """Return the address of the page of the context's scope, as a feed's alternate link.

    Absolute with base_url; otherwise relative to the feed file ("./", or "../" in a stream).
    """
    if ctx.settings.base_url is not None:
        return ctx.settings.url_for(ctx.scope.path)
    return "../" if ctx.stream else "./"
