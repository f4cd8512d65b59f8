"""Downloader middleware for conditional GET (RFC 9110 §13): send validators, keep new ones."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response

from regiofeed.spiders.dispatch import SourceMiddleware

# Request.meta key: False turns conditional GET off for one request (e.g. further list pages,
# whose records we could not account for on a 304).
CONDITIONAL = "regiofeed_conditional"


class ConditionalGetMiddleware(SourceMiddleware):
    """Add If-None-Match / If-Modified-Since from the last run; collect ETag / Last-Modified.

    The validators of a source's last run are its spider's `validators` ({url: {"etag": ...,
    "last_modified": ...}}); the ones seen now are kept in its `validators_seen`.
    """

    @staticmethod
    def _applies(request: Request) -> bool:
        # robots.txt is read in full every crawl: a 304 would give the robots parser an empty
        # body, and an empty robots.txt allows everything.
        return request.meta.get(CONDITIONAL, True) and urlsplit(request.url).path != "/robots.txt"

    def process_request(self, request: Request) -> None:
        source = self.owner(request)
        if source is None or not self._applies(request):
            return
        known = getattr(source, "validators", {}).get(request.url)
        if not known:
            return
        if known.get("etag"):
            request.headers.setdefault("If-None-Match", known["etag"])
        if known.get("last_modified"):
            request.headers.setdefault("If-Modified-Since", known["last_modified"])

    def process_response(self, request: Request, response: Response) -> Any:
        source = self.owner(request)
        if source is None or not self._applies(request):
            return response
        previous = getattr(source, "validators", {})
        seen = getattr(source, "validators_seen", None)
        if seen is None:
            seen = source.validators_seen = {}
        if response.status == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                seen[request.url] = {
                    key: value.decode("latin-1")
                    for key, value in (("etag", etag), ("last_modified", modified)) if value
                }
        elif response.status == 304 and request.url in previous:
            seen[request.url] = previous[request.url]
        return response
