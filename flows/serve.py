"""`regiofeed serve`: the published tree over HTTP with ETag/Last-Modified, gzip and CORS."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

# The media types feed readers and harvesters look for (IANA registrations).
MEDIA_TYPES = {
    ".xml": "application/xml",
    ".json": "application/json",
    ".ics": "text/calendar",
    ".ttl": "text/turtle",
    ".rdf": "application/rdf+xml",
    ".jsonld": "application/ld+json",
    ".csv": "text/csv",
}
BY_NAME = {
    "feed.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}


class PublishedFiles(StaticFiles):
    """Static files with the feed media types; Starlette adds ETag, Last-Modified and 304s."""

    def file_response(self, full_path, stat_result, scope, status_code=200):  # type: ignore[no-untyped-def]
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = Path(full_path).name
        media_type = BY_NAME.get(name) or MEDIA_TYPES.get(Path(name).suffix)
        if media_type:
            charset = "" if media_type == "text/calendar" else "; charset=utf-8"
            response.headers["content-type"] = media_type + charset
        response.headers.setdefault("cache-control", "public, max-age=300")
        return response


def create_app(out_dir: Path) -> Starlette:
    """Build the ASGI app that serves `out_dir` read-only (GET and HEAD only)."""
    for suffix, media_type in MEDIA_TYPES.items():
        mimetypes.add_type(media_type, suffix)
    return Starlette(
        routes=[Mount("/", app=PublishedFiles(directory=str(out_dir), html=True))],
        middleware=[
            # Feeds and data are meant to be read by apps on other origins.
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"]),
            Middleware(GZipMiddleware, minimum_size=500),
        ],
    )


def serve_tree(out_dir: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve `out_dir` until interrupted."""
    import uvicorn

    if not out_dir.is_dir():
        raise SystemExit(f"{out_dir}/ does not exist yet: run `regiofeed run` or `regiofeed demo`")
    uvicorn.run(create_app(out_dir), host=host, port=port, log_level="info")
