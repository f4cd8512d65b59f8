"""Serve directories of fixture websites over HTTP/1.0 on 127.0.0.1 (RFC 9110 conditional GET).

Only for the demo and the tests: one `SiteServer` is one origin, serving one directory the way
a plain web server does (index files, content types, ETag/Last-Modified and 304), plus canned
behaviours per path (errors, slowness, redirects, garbage) and files that change between runs.
In text files, the placeholder `{{base_url}}` is replaced by the server's own origin, so feeds
can carry the absolute URLs a real site would put there.
"""

from __future__ import annotations

import hashlib
import http.client
import posixpath
import re
import string
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
DEMO_SITES = HERE / "sites"
DEMO_SOURCES = HERE / "sources.toml"

PLACEHOLDER = b"{{base_url}}"
# {{today+14}} or {{today+14:%Y%m%d}}: a day relative to today (Europe/Berlin) when served, so
# the demo's event calendar always lies ahead of whoever runs it.
DAY_PLACEHOLDER = re.compile(rb"\{\{today([+-]\d+)?(?::([^}]*))?\}\}")
INDEX_FILES = ("index.html", "index.xml", "index.json")
TEXT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
    ".md": "text/plain",
    ".css": "text/css",
    ".js": "text/javascript",
    ".csv": "text/csv",
    ".ics": "text/calendar",
    ".svg": "image/svg+xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
}
BINARY_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
}
# The root element decides what an .xml file is, as WordPress serves /feed/ as RSS.
XML_ROOTS = {
    b"rss": "application/rss+xml",
    b"feed": "application/atom+xml",
    b"rdf:RDF": "application/rdf+xml",
}
FIRST_ELEMENT = re.compile(rb"<(?![?!])([A-Za-z_][\w:.-]*)")
GARBAGE = b"\x89\xff\x00<rss version=\"2.0\"><channel><title>\xfe\xfe\x00\x1f\x8b\x08 trunc"


@dataclass(frozen=True)
class Request:
    """One request as the server saw it; header names are lower-case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Reply:
    """A canned answer for one path.

    With `body=None` and status 200 the server serves the file at `file` (default: the
    requested path) from the tree as usual, after `delay` seconds; with `body=None` and another
    status it answers with a one-line text body naming the status.
    """

    status: int = 200
    body: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    file: str | None = None


Handler = Callable[[Request], Reply]
Route = Reply | Handler


def error(status: int = 500) -> Reply:
    """Answer every request with `status` and a short text body."""
    return Reply(status=status)


def slow(seconds: float, file: str | None = None) -> Reply:
    """Serve the file (the requested one, or `file`) only after `seconds`, to test timeouts."""
    return Reply(delay=seconds, file=file)


def redirect(location: str, status: int = 301) -> Reply:
    """Redirect to `location` (a path on this server or an absolute URL)."""
    return Reply(status=status, body=b"", headers={"Location": location})


def garbage(content_type: str = "application/rss+xml; charset=utf-8") -> Reply:
    """Serve bytes that are no feed at all under a feed's content type."""
    return Reply(body=GARBAGE, content_type=content_type)


def sequence(*replies: Reply) -> Handler:
    """Give each request the next reply in turn; the last one repeats forever.

    >>> answer = sequence(error(503), Reply(body=b"ok"))
    >>> [answer(None).status for _ in range(3)]
    [503, 200, 200]
    """
    if not replies:
        raise ValueError("sequence() needs at least one reply")
    pending = list(replies)
    lock = threading.Lock()

    def answer(_request: Request) -> Reply:
        with lock:
            return pending.pop(0) if len(pending) > 1 else pending[0]

    return answer


def content_type_for(path: str, body: bytes) -> str:
    """Return the Content-Type a careful server sends for `path`, sniffing .xml and .json.

    >>> content_type_for("/feed/index.xml", b'<?xml version="1.0"?><rss version="2.0">')
    'application/rss+xml; charset=utf-8'
    """
    suffix = posixpath.splitext(path.lower())[1]
    if suffix == ".xml":
        match = FIRST_ELEMENT.search(body[:4096])
        root = match.group(1) if match else b""
        return XML_ROOTS.get(root, "application/xml") + "; charset=utf-8"
    if suffix == ".json":
        # JSON Feed names its version URL in the top-level "version" key.
        kind = "application/feed+json" if b"jsonfeed.org/version/" in body[:4096] else (
            "application/json"
        )
        return kind + "; charset=utf-8"
    if suffix in TEXT_TYPES:
        return TEXT_TYPES[suffix] + "; charset=utf-8"
    return BINARY_TYPES.get(suffix, "application/octet-stream")


def _is_text(content_type: str) -> bool:
    return "charset=" in content_type


class SiteServer:
    """A static website on http://127.0.0.1:<free port>, served from `root` by a daemon thread.

    `routes` maps URL paths (no query) to a `Reply` or a function of the `Request`; they win
    over files. `set_file()` and `delete_file()` change what a path serves without touching
    the tree on disk. Every request is recorded in `requests`.
    """

    def __init__(
        self, root: Path | str, routes: Mapping[str, Route] | None = None, port: int = 0
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(self.root)
        self._routes: dict[str, Route] = dict(routes or {})
        # path -> (body, Last-Modified as POSIX seconds); body None means deleted.
        self._overlay: dict[str, tuple[bytes | None, int]] = {}
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port

    def start(self) -> SiteServer:
        """Bind 127.0.0.1 (on `port`, or a free one if it is 0 or taken), serve in a thread."""
        if self._httpd is not None:
            return self
        try:
            self._httpd = _Server(("127.0.0.1", self.port), _RequestHandler)
        except OSError:
            self._httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        self._httpd.site = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"SiteServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port; wakes handlers that are still sleeping."""
        if self._httpd is None:
            return
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SiteServer({str(self.root)!r}, base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The origin, e.g. 'http://127.0.0.1:41234' (no trailing slash)."""
        if not self.port:
            raise RuntimeError("the server is not started; use `with SiteServer(root) as site:`")
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """Return the absolute URL of `path` on this server, e.g. url('/aktuelles/')."""
        return self.base_url + "/" + path.lstrip("/")

    def route(self, path: str, route: Route | None) -> None:
        """Make `path` answer with `route` from now on; None removes the route."""
        with self._lock:
            if route is None:
                self._routes.pop(path, None)
            else:
                self._routes[path] = route

    def set_file(self, path: str, body: bytes | str) -> None:
        """Serve `body` at `path` from now on, with a new ETag and a later Last-Modified."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self._put(path, data)

    def delete_file(self, path: str) -> None:
        """Make `path` answer 404 from now on."""
        self._put(path, None)

    def _put(self, path: str, body: bytes | None) -> None:
        key = _normalise(path)
        if key is None or key.endswith("/"):
            raise ValueError(f"expected the path of a file, e.g. '/aktuelles/index.html': {path}")
        with self._lock:
            before = self._overlay.get(key, (None, self._disk_mtime(key)))[1]
            # Strictly later than before, so clients that send only If-Modified-Since see it.
            self._overlay[key] = (body, max(int(time.time()), before + 1))

    def _disk_mtime(self, key: str) -> int:
        file = self.root / key.lstrip("/")
        return int(file.stat().st_mtime) if file.is_file() else 0

    @property
    def requests(self) -> list[Request]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def hits(self, path: str) -> int:
        """Count the requests for `path` (query ignored)."""
        return sum(1 for request in self.requests if request.path == path)

    def _record_and_route(self, request: Request) -> Route | None:
        with self._lock:
            self._requests.append(request)
            return self._routes.get(request.path)

    def _lookup(self, key: str) -> tuple[bytes | None, int] | None:
        """Find the body and mtime of a file path, overlay first; None if there is none."""
        with self._lock:
            if key in self._overlay:
                return self._overlay[key]
        file = (self.root / key.lstrip("/")).resolve()
        if not file.is_relative_to(self.root):
            # A symlink pointing out of the tree: treat as absent.
            return None
        if not file.is_file():
            return None
        return file.read_bytes(), int(file.stat().st_mtime)

    def _is_dir(self, key: str) -> bool:
        directory = (self.root / key.lstrip("/")).resolve()
        return directory.is_relative_to(self.root) and directory.is_dir()


def _normalise(path: str) -> str | None:
    """Return a clean absolute URL path, or None when it tries to leave the tree."""
    if "\\" in path or "\x00" in path:
        return None
    segments = path.split("/")
    if ".." in segments:
        return None
    clean = posixpath.normpath("/" + path.lstrip("/"))
    clean = "/" + clean.lstrip("/")
    return clean + "/" if path.endswith("/") and clean != "/" else clean


class _Server(ThreadingHTTPServer):
    site: SiteServer
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall offline.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) is not an error of the server.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "regiofeed-sites/1"
    sys_version = ""
    timeout = 30  # seconds a client may take to send its request

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the tests' output is not the place for access logs."""

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def _answer(self) -> None:
        site = self.server.site
        parts = urlsplit(self.path)
        path = unquote(parts.path) or "/"
        request = Request(
            method=self.command,
            path=path,
            query=parts.query,
            headers={name.lower(): value for name, value in self.headers.items()},
        )
        route = site._record_and_route(request)
        reply = route(request) if callable(route) else route
        if reply is not None and reply.delay and site._closing.wait(reply.delay):
            return  # shutting down: drop the connection rather than answer late
        if reply is not None and (reply.body is not None or reply.status != 200):
            body = reply.body
            if body is None:
                body = f"{reply.status} {http.client.responses.get(reply.status, '')}\n".encode()
            ctype = reply.content_type or (
                content_type_for(path, body) if reply.status == 200 else "text/plain; charset=utf-8"
            )
            self._send(reply.status, body, ctype, None, reply.headers, request)
            return
        self._serve_file(request, reply.file if reply is not None and reply.file else path)

    def _serve_file(self, request: Request, path: str) -> None:
        site = self.server.site
        key = _normalise(path)
        if key is None:
            self._send(403, b"403 Forbidden\n", "text/plain; charset=utf-8", None, {}, request)
            return
        if not key.endswith("/") and site._is_dir(key) and site._lookup(key) is None:
            location = key + "/" + (f"?{request.query}" if request.query else "")
            self._send(301, b"", "text/plain; charset=utf-8", None, {"Location": location}, request)
            return
        candidates = [key + name for name in INDEX_FILES] if key.endswith("/") else [key]
        for candidate in candidates:
            found = site._lookup(candidate)
            if found is not None and found[0] is not None:
                body, mtime = found
                ctype = content_type_for(candidate, body)
                if _is_text(ctype):
                    body = fill_days(body.replace(PLACEHOLDER, site.base_url.encode()))
                self._send(200, body, ctype, mtime, {}, request)
                return
        self._send(404, b"404 Not Found\n", "text/plain; charset=utf-8", None, {}, request)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        mtime: int | None,
        headers: Mapping[str, str],
        request: Request,
    ) -> None:
        extra = dict(headers)
        if status == 200:
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            extra.setdefault("ETag", etag)
            if mtime is not None:
                extra.setdefault("Last-Modified", formatdate(mtime, usegmt=True))
            if _not_modified(request, etag, mtime):
                status, body = 304, b""
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)


def _not_modified(request: Request, etag: str, mtime: int | None) -> bool:
    """Apply If-None-Match, else If-Modified-Since (RFC 9110, 13.2.2: the ETag wins)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None or mtime is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored, as the RFC says
    return mtime <= since


class _SiteTemplate(string.Template):
    # Site names are slugs with hyphens: ${bad-belzig}.
    braceidpattern = r"[a-z][a-z0-9-]*"


def demo_site_names() -> list[str]:
    """Return the names of the bundled demo websites, e.g. ['bad-belzig', 'mitarbeit', ...]."""
    return sorted(path.name for path in DEMO_SITES.iterdir() if path.is_dir())


def fill_days(body: bytes, today: date | None = None) -> bytes:
    """Replace every ``{{today+N}}`` (ISO date) or ``{{today+N:FORMAT}}`` (strftime) in ``body``.

    >>> fill_days(b"DTSTART:{{today+3:%Y%m%d}}T100000 / {{today-1}}", date(2024, 8, 30))
    b'DTSTART:20240902T100000 / 2024-08-29'
    """
    day = today or datetime.now(ZoneInfo("Europe/Berlin")).date()

    def replace(match: re.Match[bytes]) -> bytes:
        shifted = day + timedelta(days=int(match.group(1) or 0))
        pattern = match.group(2).decode() if match.group(2) else "%Y-%m-%d"
        return shifted.strftime(pattern).encode()

    return DAY_PLACEHOLDER.sub(replace, body)


@contextmanager
def serve_demo_sites(
    sites_dir: Path | str = DEMO_SITES, first_port: int = 0
) -> Iterator[dict[str, str]]:
    """Serve every demo website from its own origin; yield {site name: base URL}.

    With `first_port`, the sites ask for consecutive ports from it, so that their URLs (and
    with them the records' keys) stay the same from one demo run to the next; a taken port
    falls back to a free one.
    """
    root = Path(sites_dir)
    with ExitStack() as stack:
        bases = {}
        directories = sorted(path for path in root.iterdir() if path.is_dir())
        for offset, directory in enumerate(directories):
            port = first_port + offset if first_port else 0
            bases[directory.name] = stack.enter_context(SiteServer(directory, port=port)).base_url
        yield bases


def render_demo_sources(bases: Mapping[str, str], path: Path | str = DEMO_SOURCES) -> str:
    """Return the demo sources.toml with `${site-name}` replaced by each site's base URL.

    Raises KeyError naming the site when `bases` lacks one the file uses.

    >>> text = render_demo_sources({name: "http://127.0.0.1:8000" for name in demo_site_names()})
    >>> "${" in text
    False
    """
    text = Path(path).read_text(encoding="utf-8")
    return _SiteTemplate(text).substitute({name: url.rstrip("/") for name, url in bases.items()})
