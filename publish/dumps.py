"""Full JSON dump of every item (data/items.json): a JSON array of JSON Feed 1.1 item objects."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.items import canonical_item, encode

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
    key = (PATH, "spill")
    spill: _Spill | None = ctx.memo.get(key)
    if spill is None:
        spill = ctx.memo[key] = _Spill()
    return spill.get(item)


class _Spill:
    """Every item's element of items.json, encoded once per publish run and kept on disk.

    An item is in the dumps of three scopes or more (the root, its sources, its place); it is
    encoded the first time and read back by offset from an anonymous temporary file after
    that. Kept in memory instead, 100,000 items' JSON would hold on to some 250 MB for the
    whole run; on disk it costs a read from the page cache. The file goes with the context.
    """

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="regiofeed-items-")  # noqa: SIM115
        self.where: dict[str, tuple[int, int]] = {}
        self.end = 0  # where the next element goes
        self.buffer: list[bytes] = []  # elements not yet written, from ``flushed`` on
        self.flushed = 0

    def get(self, item: Item) -> bytes:
        spot = self.where.get(item["id"])
        if spot is None:
            # Raw newlines only occur between tokens: JSON escapes them inside strings.
            data = b"  " + encode(canonical_item(item)).replace(b"\n", b"\n  ")
            self.where[item["id"]] = (self.end, len(data))
            self.end += len(data)
            self.buffer.append(data)
            if self.end - self.flushed >= CHUNK:
                self._flush()
            return data
        offset, length = spot
        if offset >= self.flushed:
            self._flush()
        return os.pread(self.file.fileno(), length, offset)

    def _flush(self) -> None:
        data = memoryview(b"".join(self.buffer))
        while data:  # a regular file takes it all at once, unless interrupted
            written = os.pwrite(self.file.fileno(), data, self.flushed)
            self.flushed += written
            data = data[written:]
        self.buffer = []
