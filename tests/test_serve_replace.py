"""`regiofeed serve` never sends a file cut short or mixed while the tree is being replaced."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
from test_serve import LiveServer

# Two versions of one file of very different sizes: a body cut to the other's length, or one
# version's header with the other's bytes, shows at once.
LONG = b"[" + b'"a",' * 60_000 + b'"a"]'
SHORT = b"[" + b'"b",' * 3_000 + b'"b"]'


def _replace_atomically(path: Path, data: bytes) -> None:
    """Write beside the file and rename over it, as publish/ does."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def test_no_response_is_cut_short_while_files_are_replaced(tmp_path: Path) -> None:
    root = tmp_path / "public"
    root.mkdir()
    target = root / "feed.json"
    target.write_bytes(LONG)
    stop = threading.Event()

    def writer() -> None:
        flip = False
        while not stop.is_set():
            _replace_atomically(target, SHORT if flip else LONG)
            flip = not flip

    results: list[str] = []

    def reader(base: str, encoding: str) -> None:
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Accept-Encoding": encoding}) as client:
            for _ in range(150):
                try:
                    response = client.get("/feed.json")
                except httpx.HTTPError as exc:  # a body shorter than its Content-Length
                    results.append(f"broken: {exc!r}")
                    continue
                body = response.content
                if response.status_code != 200:
                    results.append(f"status {response.status_code}")
                elif body not in (LONG, SHORT):
                    results.append(f"mixed or cut: {len(body)} bytes")
                else:
                    results.append("ok")

    with LiveServer(root) as live:
        writing = threading.Thread(target=writer)
        writing.start()
        try:
            readers = [threading.Thread(target=reader, args=(live.base, encoding))
                       for encoding in ("identity", "identity", "gzip", "identity")]
            for thread in readers:
                thread.start()
            for thread in readers:
                thread.join(timeout=120)
        finally:
            stop.set()
            writing.join()
    bad = [r for r in results if r != "ok"]
    assert len(results) == 600
    assert bad == [], f"{len(bad)} of {len(results)} responses broken, e.g. {bad[:3]}"


def test_head_and_get_of_one_version_agree_on_the_length(tmp_path: Path) -> None:
    root = tmp_path / "public"
    root.mkdir()
    (root / "feed.json").write_bytes(SHORT)
    with LiveServer(root) as live, httpx.Client(base_url=live.base, timeout=30,
                                                headers={"Accept-Encoding": "identity"}) as c:
        head = c.head("/feed.json")
        get = c.get("/feed.json")
        assert head.headers["content-length"] == get.headers["content-length"] == str(len(SHORT))
        assert head.headers["etag"] == get.headers["etag"]
        again = c.get("/feed.json", headers={"If-None-Match": get.headers["etag"]})
        assert again.status_code == 304
        time.sleep(0.01)
        partial = c.get("/feed.json", headers={"Range": "bytes=1-3"})
        assert partial.status_code == 206 and partial.content == SHORT[1:4]
