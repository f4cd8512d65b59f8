"""Byte fragments made once per publish run and kept in an anonymous temporary file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Hashable
from typing import Any

Item = dict[str, Any]  # as publish.items has it (this module is below it)

CHUNK = 1 << 20  # fragments gathered in memory before they go to the file


class Spill:
    """Fragments by key (an item's JSON, CSV row or feed entry), written once, read back.

    An item is in the files of three scopes or more (the root, its sources, its place); its
    fragment is made the first time and read back by offset after that. Kept in memory
    instead, the fragments of 100,000 items would hold on to hundreds of megabytes for the
    whole run; on disk, reading one is a copy from the page cache. The file goes with the
    object.
    """

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="regiofeed-spill-")  # noqa: SIM115
        self.where: dict[Hashable, tuple[int, int]] = {}
        self.end = 0  # where the next fragment goes
        self.buffer: list[bytes] = []  # fragments not yet written, from ``flushed`` on
        self.flushed = 0

    def read_many(self, keys: list[Hashable]) -> list[bytes]:
        """Return the fragments kept under ``keys``, in that order (KeyError for one missing)."""
        where, fd = self.where, self.file.fileno()
        spots = [where[key] for key in keys]
        if any(offset + length > self.flushed for offset, length in spots):
            self._flush()
        # Read, not mapped: a mapped file's pages would count as the process's own memory.
        return [os.pread(fd, length, offset) for offset, length in spots]

    def gather(self, items: list[Item], make: Callable[[Item], bytes]) -> list[bytes]:
        """Return the fragments of ``items`` (by id), made by ``make(item)`` where not kept."""
        where, fd = self.where, self.file.fileno()
        result = []
        for item in items:
            spot = where.get(item["id"])
            if spot is None:
                data = make(item)
                self.put(item["id"], data)
            else:
                offset, length = spot
                if offset + length > self.flushed:
                    self._flush()
                data = os.pread(fd, length, offset)
            result.append(data)
        return result

    def put(self, key: Hashable, data: bytes) -> None:
        """Keep ``data`` as the fragment of ``key``."""
        self.where[key] = (self.end, len(data))
        self.end += len(data)
        self.buffer.append(data)
        if self.end - self.flushed >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        data = memoryview(b"".join(self.buffer))
        while data:  # a regular file takes it all at once, unless interrupted
            written = os.pwrite(self.file.fileno(), data, self.flushed)
            self.flushed += written
            data = data[written:]
        self.buffer = []


def spill_of(memo: dict[Any, Any], name: Hashable) -> Spill:
    """Return the Spill kept in a publish run's ``memo`` under ``name``, made when first asked."""
    key = ("spill", name)
    spill: Spill | None = memo.get(key)
    if spill is None:
        spill = memo[key] = Spill()
    return spill
