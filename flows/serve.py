"""`regiofeed serve`: the published tree over HTTP (RFC 9110/9111: ETag, 304, gzip, CORS)."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The media types feed readers, calendar apps and harvesters look for (IANA registrations).
MEDIA_TYPES = {
    ".html": "text/html",
    ".xml": "application/xml",
    ".json": "application/json",
    ".ics": "text/calendar",
    ".ttl": "text/turtle",
    ".rdf": "application/rdf+xml",
    ".jsonld": "application/ld+json",
    ".csv": "text/csv",
}
# By file name, in every scope folder (sources/<id>/feed.xml is RSS as much as /feed.xml).
BY_NAME = {
    "feed.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}
# Everything in the tree is written as UTF-8.
CHARSET = "; charset=utf-8"
# Feeds are polled; five minutes keeps pollers off the disk without hiding a run for long.
CACHE_CONTROL = "public, max-age=300"
# Not in CORS's safelisted response headers, but what a polling web app needs to send
# If-None-Match.
EXPOSED = ["ETag", "Last-Modified", "Content-Length"]


def media_type(name: str) -> str | None:
    """Return the Content-Type to serve a published file with (None: leave it to Starlette).

    >>> media_type("feed.xml"), media_type("catalog.ttl"), media_type("events.csv")
    ('application/rss+xml; charset=utf-8', 'text/turtle; charset=utf-8', 'text/csv; \
charset=utf-8; header=present')
    """
    base = BY_NAME.get(name) or MEDIA_TYPES.get(PurePosixPath(name).suffix)
    if base is None:
        return None
    # RFC 4180 section 3: header=present tells that the first line names the columns.
    return base + CHARSET + ("; header=present" if base == "text/csv" else "")


class OpenedFileResponse(FileResponse):
    """A file response that sends the bytes of one file opened once.

    Its Content-Length, ETag and Last-Modified come from that open file (fstat), so a file
    that an atomic publish renames over meanwhile is sent whole in its old version, never cut
    to the new one's length nor mixed. Closes the file when the response is done.
    """

    def __init__(self, handle: IO[bytes], path: str | os.PathLike[str],
                 stat_result: os.stat_result, status_code: int = 200) -> None:
        super().__init__(path, status_code=status_code, stat_result=stat_result)
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions") or {}
        if "http.response.pathsend" in extensions:
            # A server that sends by path would open the name again: the race this avoids.
            scope = {**scope, "extensions": {k: v for k, v in extensions.items()
                                             if k != "http.response.pathsend"}}
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.handle.close()

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        yield anyio.wrap_file(self.handle)


class PublishedFiles(StaticFiles):
    """The tree as static files, read-only, with the feed media types.

    Starlette gives ETag (from size and mtime, which write_if_changed keeps for unchanged
    files), Last-Modified and 304s on If-None-Match/If-Modified-Since, GET and HEAD only, and
    resolves symlinks so nothing outside the directory is served. On top: paths with ".."
    or a dot-file segment (the temporary files of atomic writes) are refused outright.
    """

    def get_path(self, scope: Scope) -> str:
        """Return the file path of the request, or one that never exists for refused paths."""
        # scope["path"] is already percent-decoded, so "%2e%2e" arrives here as "..".
        segments = scope["path"].split("/")
        if any(segment.startswith(".") for segment in segments):
            return "\0refused"  # lookup_path cannot stat a NUL byte: Starlette answers 404
        return super().get_path(scope)

    def file_response(  # type: ignore[override]
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        # Open once and describe what was opened: the name may point to a newer file by now.
        try:
            handle = open(full_path, "rb")  # noqa: SIM115  (closed by the response)
        except FileNotFoundError:
            raise HTTPException(status_code=404) from None
        stat_result = os.fstat(handle.fileno())
        if not stat.S_ISREG(stat_result.st_mode):
            handle.close()
            raise HTTPException(status_code=404)
        opened = OpenedFileResponse(handle, full_path, stat_result, status_code)
        if self.is_not_modified(opened.headers, Headers(scope=scope)):
            handle.close()
            response: Response = NotModifiedResponse(opened.headers)
        else:
            response = opened
        content_type = media_type(Path(full_path).name)
        if content_type:
            response.headers["content-type"] = content_type
        response.headers.setdefault("cache-control", CACHE_CONTROL)
        # Open data: every file may be read from any origin, with or without an Origin header,
        # so caches need no Vary: Origin.
        response.headers["access-control-allow-origin"] = "*"
        response.headers["access-control-expose-headers"] = ", ".join(EXPOSED)
        response.headers["x-content-type-options"] = "nosniff"
        return response


class WeakETagWhenEncoded:
    """Mark ETags weak for clients that accept gzip, as nginx does (RFC 9110 8.8.1).

    A strong ETag promises the same bytes; a gzipped body is other bytes than the file. The
    ETag of a 304 must match the one of the 200 it stands for, so the rule goes by what the
    request accepts, not by whether this response happened to be compressed. If-None-Match
    compares weakly, so revalidation works with either form.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepts = Headers(scope=scope).get("accept-encoding", "") if scope["type"] == "http" else ""
        if "gzip" not in accepts.lower():
            await self.app(scope, receive, send)
            return

        async def send_weak(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if etag and not etag.startswith("W/"):
                    headers["etag"] = "W/" + etag
            await send(message)

        await self.app(scope, receive, send_weak)


def create_app(out_dir: Path) -> Starlette:
    """Build the ASGI app that serves ``out_dir`` read-only (GET and HEAD; 405 otherwise)."""
    return Starlette(
        routes=[Mount("/", app=PublishedFiles(directory=str(out_dir), html=True))],
        middleware=[
            Middleware(WeakETagWhenEncoded),
            # Preflights of apps on other origins that send If-None-Match (not safelisted).
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "HEAD"],
                allow_headers=["If-None-Match", "If-Modified-Since"],
                expose_headers=EXPOSED,
                max_age=86400,
            ),
            Middleware(GZipMiddleware, minimum_size=500),
        ],
    )


def serve_tree(out_dir: Path, host: str = "127.0.0.1", port: int = 8080, **options: Any) -> None:
    """Serve ``out_dir`` until interrupted; ``options`` go to ``uvicorn.run``."""
    # uvicorn only when serving.
    import uvicorn

    if not out_dir.is_dir():
        raise SystemExit(f"{out_dir}/ does not exist yet: run `regiofeed run` or `regiofeed demo`")
    uvicorn.run(create_app(out_dir), host=host, port=port, log_level="info", **options)
