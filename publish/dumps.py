"""Full JSON dump of every item (data/items.json): a JSON array of JSON Feed 1.1 item objects."""

from __future__ import annotations

from collections.abc import Iterator

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.items import canonical_item, encode
from regiofeed.publish.spill import spill_of

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
    items = ctx.by_id
    if not items:
        yield b"[]\n"
        return
    spill = spill_of(ctx.memo, PATH)
    parts: list[bytes] = [b"[\n"]
    size = 0
    for start in range(0, len(items), BATCH):
        for number, part in enumerate(spill.gather(items[start : start + BATCH], _item_json),
                                      start):  # fmt: skip
            parts.append(part if number == 0 else b",\n" + part)
            size += len(part)
            if size >= CHUNK:
                yield b"".join(parts)
                parts, size = [], 0
    parts.append(b"\n]\n")
    yield b"".join(parts)


BATCH = 4096  # elements fetched from the spill at once


def _item_json(item: Item) -> bytes:
    """Return the item as an element of a top-level array (indent 2, one level in).

    Encoded once per run and kept on disk (``publish.spill``): kept in memory, 100,000
    items' JSON would hold on to some 250 MB for the whole run.
    """
    # Raw newlines only occur between tokens: JSON escapes them inside strings.
    return b"  " + encode(canonical_item(item)).replace(b"\n", b"\n  ")
