"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) writer for feed.json."""

from __future__ import annotations

from typing import Any

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.dates import rfc3339
from regiofeed.publish.items import canonical_item, dumps, encode
from regiofeed.publish.spill import spill_of

PATH = "feed.json"
MEDIA_TYPE = "application/feed+json"
VERSION = "https://jsonfeed.org/version/1.1"


def render(ctx: PublishContext) -> bytes:
    """Render the newest ``feed_size`` items of the context as JSON Feed 1.1, newest first.

    Items are the item objects unchanged (with ``_regiofeed``, which says where each comes
    from and under which licence). home_page_url and feed_url need the public address, so they
    are present only when ``base_url`` is set.
    """
    settings = ctx.settings
    feed: dict[str, Any] = {"version": VERSION, "title": ctx.title}
    if settings.base_url is not None:
        feed["home_page_url"] = settings.url_for(ctx.scope.path)
        feed["feed_url"] = ctx.url(PATH)
    if settings.description:
        feed["description"] = settings.description
    feed["language"] = settings.language
    feed["items"] = []
    head = dumps(feed)
    if not ctx.feed_items:
        return head
    # Each item is encoded once per run, indented as an element of "items" (the last key),
    # and spliced into every feed that carries it: the same bytes as dumps of the whole feed.
    empty = b'  "items": []\n}\n'
    assert head.endswith(empty)
    body = b",\n".join(spill_of(ctx.memo, PATH).gather(ctx.feed_items, _encoded))
    return head[: -len(empty)] + b'  "items": [\n' + body + b"\n  ]\n}\n"


def _encoded(item: Item) -> bytes:
    # Raw newlines only occur between tokens: JSON escapes them inside strings.
    return b"    " + encode(_feed_item(item)).replace(b"\n", b"\n    ")


def _feed_item(item: Item) -> Item:
    """Return the item object with date_published and date_modified as RFC 3339 date-times.

    JSON Feed 1.1 requires date-times; a source that gave only a day gets that day's midnight
    in Europe/Berlin, the instant RSS and Atom give it too.
    """
    result = canonical_item(item)
    for key in ("date_published", "date_modified"):
        if result.get(key):
            result[key] = rfc3339(result[key])
    return result
