"""Full JSON dump of every item (data/items.json): a JSON array of JSON Feed 1.1 item objects."""

from __future__ import annotations

from collections.abc import Iterator

from publish.context import Item, PublishContext
from publish.items import canonical_item, encode

PATH = "data/items.json"
MEDIA_TYPE = "application/json"


CHUNK = 1 << 20  # bytes handed to the writer at a time


def render(ctx: PublishContext) -> Iterator[bytes]:
    """Render every item, ordered by id; the same bytes as ``items.dumps`` of the list.

    Id order (not date order) keeps the file's diff small between runs: an item keeps its place
    when its dates change, and a new item adds lines without shifting the others. The file is
    handed out in chunks of about a megabyte, so the root dump of 100,000 items is never one
    string in memory.
    """
    items = sorted(ctx.items, key=lambda item: str(item.get("id", "")))
    if not items:
        yield b"[]\n"
        return
    parts: list[bytes] = [b"[\n"]
    size = 0
    for number, item in enumerate(items):
        part = _item_json(ctx, item)
        parts.append(part if number == 0 else b",\n" + part)
        size += len(part)
        if size >= CHUNK:
            yield b"".join(parts)
            parts, size = [], 0
    parts.append(b"\n]\n")
    yield b"".join(parts)


def _item_json(ctx: PublishContext, item: Item) -> bytes:
    """Return the item as an element of a top-level array (indent 2, one level in)."""
    key = (PATH, item["id"])
    data: bytes | None = ctx.memo.get(key)
    if data is None:
        # An item in several scopes is encoded once per publish run and its lines indented
        # into each array. Raw newlines only occur between tokens: JSON escapes them in strings.
        data = b"  " + encode(canonical_item(item)).replace(b"\n", b"\n  ")
        ctx.memo[key] = data
    return data
