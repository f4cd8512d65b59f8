"""`regiofeed serve` over real HTTP on 127.0.0.1: media types, 304s, gzip, CORS, read-only."""

from __future__ import annotations

import copy
import gzip
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from test_publish import HEALTH, ITEMS, SETTINGS, SOURCES, TODAY

from regiofeed.flows.serve import create_app
from regiofeed.publish import publish_all


class LiveServer:
    """The serve app under uvicorn in a thread, on a socket bound to 127.0.0.1 port 0."""

    def __init__(self, root: Path) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.host, self.port = self.sock.getsockname()
        config = uvicorn.Config(create_app(root), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()

    def raw_get(self, target: str) -> int:
        """GET ``target`` exactly as written (no client-side dot-segment clean-up); the status."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.putrequest("GET", target, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published tree, a secret beside it and a symlink from inside the tree to the secret."""
    base = tmp_path_factory.mktemp("serve")
    root = base / "public"
    publish_all(root, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    (base / "secret.txt").write_text("not for the web", encoding="utf-8")
    (root / "secret-link.txt").symlink_to(base / "secret.txt")
    (root / "data" / ".items.json.tmp").write_text("half-written", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def live(tree: Path) -> Iterator[LiveServer]:
    with LiveServer(tree) as server:
        yield server


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base, timeout=30) as client:
        yield client


JSON_FEED = "application/feed+json; charset=utf-8"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feed.json", JSON_FEED),
        ("/events.ics", "text/calendar; charset=utf-8"),
        ("/data/items.json", "application/json; charset=utf-8"),
        ("/data/items.csv", "text/csv; charset=utf-8; header=present"),
        ("/data/events.csv", "text/csv; charset=utf-8; header=present"),
        ("/health.json", "application/json; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/sources/kts-smart-cities/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/municipalities/bad-belzig/news/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/municipalities/wiesenburg-mark/events/feed.json", JSON_FEED),
        ("/municipalities/bad-belzig/events.ics", "text/calendar; charset=utf-8"),
        ("/municipalities/bad-belzig/", "text/html; charset=utf-8"),
    ],
)
def test_files_are_served_with_their_media_types(
    client: httpx.Client, tree: Path, path: str, content_type: str
) -> None:
    response = client.get(path, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    file = tree / path.lstrip("/")
    assert response.content == (file / "index.html" if file.is_dir() else file).read_bytes()


@pytest.mark.parametrize("suffix", ["ttl", "rdf", "jsonld"])
def test_catalogue_serialisations_get_the_rdf_media_types(
    tmp_path: Path, suffix: str
) -> None:
    (tmp_path / f"catalog.{suffix}").write_text("{}", encoding="utf-8")
    expected = {"ttl": "text/turtle", "rdf": "application/rdf+xml", "jsonld": "application/ld+json"}
    with LiveServer(tmp_path) as server, httpx.Client(base_url=server.base) as client:
        response = client.get(f"/catalog.{suffix}")
    assert response.headers["content-type"] == expected[suffix] + "; charset=utf-8"


def test_if_none_match_answers_304_without_a_body(client: httpx.Client) -> None:
    first = client.get("/feed.xml")
    etag = first.headers["etag"]
    assert first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, max-age=300"

    again = client.get("/feed.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    since = client.get("/feed.xml", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304


def test_unchanged_republish_keeps_the_etag(
    client: httpx.Client, tree: Path
) -> None:
    before = client.get("/sources/kts-smart-cities/atom.xml").headers["etag"]
    publish_all(tree, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    assert client.get("/sources/kts-smart-cities/atom.xml").headers["etag"] == before


def test_gzip_when_the_client_accepts_it(client: httpx.Client, tree: Path) -> None:
    response = client.get("/data/items.json", headers={"Accept-Encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    # httpx decodes transparently; the body is the file.
    assert response.content == (tree / "data/items.json").read_bytes()
    # The encoded body differs from the file, so its ETag is weak; revalidation still works.
    etag = response.headers["etag"]
    assert etag.startswith('W/"')
    revalidated = client.get(
        "/data/items.json", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert revalidated.status_code == 304


def test_gzip_body_is_real_gzip(live: LiveServer, tree: Path) -> None:
    connection = http.client.HTTPConnection(live.host, live.port, timeout=30)
    try:
        connection.request("GET", "/events.ics", headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.getheader("content-encoding") == "gzip"
    assert gzip.decompress(body) == (tree / "events.ics").read_bytes()


def test_no_gzip_without_accept_encoding(client: httpx.Client) -> None:
    response = client.get("/data/items.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert not response.headers["etag"].startswith("W/")  # the bytes are the file's
    revalidated = client.get(
        "/data/items.json",
        headers={"Accept-Encoding": "identity", "If-None-Match": response.headers["etag"]},
    )
    assert revalidated.status_code == 304


@pytest.mark.parametrize(
    "path",
    ["/feed.xml", "/atom.xml", "/feed.json", "/events.ics", "/data/items.csv",
     "/data/events.csv", "/data/items.json", "/sources/kts-smart-cities/news/feed.json"],
)  # fmt: skip
def test_feeds_and_data_may_be_read_from_other_origins(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    without_origin = client.get(path)
    assert without_origin.headers["access-control-allow-origin"] == "*"


def test_cors_preflight_allows_conditional_gets_only(client: httpx.Client) -> None:
    response = client.options(
        "/feed.json",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "if-none-match" in response.headers["access-control-allow-headers"].lower()
    assert "POST" not in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/data/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/data/%2e%2e/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/secret-link.txt",  # a symlink in the tree that points out of it
        "/data/.items.json.tmp",  # the temporary file of an atomic write
    ],
)
def test_nothing_outside_the_tree_is_served(live: LiveServer, target: str) -> None:
    assert live.raw_get(target) in (400, 404)


def test_dot_segments_inside_the_tree_are_refused_too(live: LiveServer) -> None:
    assert live.raw_get("/data/../feed.xml") == 404
    assert live.raw_get("/feed.xml") == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_tree_is_read_only(client: httpx.Client, tree: Path, method: str) -> None:
    before = (tree / "feed.xml").read_bytes()
    response = client.request(method, "/feed.xml", content=b"<rss/>")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert (tree / "feed.xml").read_bytes() == before


def test_head_gives_the_headers_of_get(client: httpx.Client) -> None:
    head = client.head("/events.ics", headers={"Accept-Encoding": "identity"})
    get = client.get("/events.ics", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == get.headers["content-type"]


def test_missing_file_is_404(client: httpx.Client) -> None:
    assert client.get("/sources/nope/feed.xml").status_code == 404
