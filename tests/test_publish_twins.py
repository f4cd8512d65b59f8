"""Files of the same bytes in one generation of the tree share an inode, and stay right."""

from __future__ import annotations

from pathlib import Path

from regiofeed.publish.atomic import TreeWriter

EMPTY_MAP = b'{"type": "FeatureCollection", "features": []}\n'


def publish(out: Path, files: dict[str, bytes | list[bytes]]) -> TreeWriter:
    with TreeWriter(out) as writer:
        for relative, data in files.items():
            writer.write(relative, data if isinstance(data, bytes) else iter(data))
        writer.commit()
    return writer


def test_twins_are_one_file_with_two_names_and_part_when_one_changes(tmp_path: Path) -> None:
    out = tmp_path / "public"
    first = publish(out, {
        "sources/a/events.geojson": EMPTY_MAP,
        "sources/b/events.geojson": EMPTY_MAP,
        "sources/a/data/events.csv": [b"id,title\r\n"],  # streamed, one chunk
        "sources/b/data/events.csv": [b"id,title\r\n"],
        "sources/a/data/items.csv": [b"id,title\r\n", b"1,A\r\n"],  # streamed, two chunks
        "sources/b/data/items.csv": [b"id,title\r\n", b"1,B\r\n"],
    })  # fmt: skip
    assert first.swapped and len(first.written) == 6
    a, b = out / "sources/a", out / "sources/b"
    assert (a / "events.geojson").stat().st_ino == (b / "events.geojson").stat().st_ino
    assert (a / "data/events.csv").stat().st_ino == (b / "data/events.csv").stat().st_ino
    assert (a / "data/items.csv").read_bytes() == b"id,title\r\n1,A\r\n"
    assert (b / "data/items.csv").read_bytes() == b"id,title\r\n1,B\r\n"

    # One twin changes: a new file for it; the other keeps its bytes (and its inode).
    inode = (b / "events.geojson").stat().st_ino
    second = publish(out, {
        "sources/a/events.geojson": b'{"type": "FeatureCollection", "features": [1]}\n',
        "sources/b/events.geojson": EMPTY_MAP,
    })  # fmt: skip
    assert second.written == ["sources/a/events.geojson"]
    assert (b / "events.geojson").read_bytes() == EMPTY_MAP
    assert (b / "events.geojson").stat().st_ino == inode
    assert (a / "events.geojson").read_bytes().endswith(b"[1]}\n")
    assert (a / "events.geojson").stat().st_nlink == 1
