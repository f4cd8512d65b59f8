"""search.json: a static search index of the items, read by the search box of index.html."""

from __future__ import annotations

from typing import Any

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.dates import format_date, format_event_when, local_day
from regiofeed.publish.items import dumps, event_place

PATH = "search.json"
MEDIA_TYPE = "application/json"
LIMIT = 5000  # the newest; a page should not download megabytes to search


def render(ctx: PublishContext) -> bytes:
    """Render the newest ``LIMIT`` items as short records: title, address, when (German),
    place, municipality, kind and a text excerpt; the page searches them in the browser.

    Keys are one letter to keep the file small: t title, u url, w when, p place,
    m municipality, k kind ("news"/"event"), x text.
    """
    return dumps([_entry(item) for item in ctx.newest[:LIMIT]])


def _entry(item: Item) -> dict[str, Any]:
    ext = item.get("_regiofeed") or {}
    event = ext.get("event") or {}
    if event.get("start"):
        when, place = format_event_when(event), event_place(event)
    else:
        published = item.get("date_published") or item.get("date_modified")
        when = format_date(local_day(published), weekday=False) if published else ""
        place = ""
    text = " ".join((item.get("summary") or item.get("content_text") or "").split())[:200]
    entry = {"t": item.get("title") or item["id"], "u": item.get("url"), "w": when, "p": place,
             "m": ext.get("municipality"), "k": ext.get("kind", "news"), "x": text}
    return {key: value for key, value in entry.items() if value}
