"""Downloader middleware for conditional GET (RFC 9110 §13): send validators, keep new ones."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response

# Request.meta key: False turns conditional GET off for one request (e.g. further list pages,
# whose records we could not account for on a 304).
CONDITIONAL = "regiofeed_conditional"


class ConditionalGetMiddleware:
    """Add If-None-Match / If-Modified-Since from the last run; collect ETag / Last-Modified.

    The validators of the last run come in through the `REGIOFEED_VALIDATORS` setting
    ({url: {"etag": ..., "last_modified": ...}}); the ones seen now are kept in `seen`.
    """

    def __init__(self, validators: dict[str, dict[str, str]]) -> None:
        self.previous = validators
        self.seen: dict[str, dict[str, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        middleware = cls(crawler.settings.getdict("REGIOFEED_VALIDATORS"))
        crawler.regiofeed_conditional = middleware  # type: ignore[attr-defined]
        return middleware

    @staticmethod
    def _applies(request: Request) -> bool:
        # robots.txt is read in full every crawl: a 304 would give the robots parser an empty
        # body, and an empty robots.txt allows everything.
        return request.meta.get(CONDITIONAL, True) and urlsplit(request.url).path != "/robots.txt"

    def process_request(self, request: Request, spider: Spider) -> None:
        if not self._applies(request):
            return
        known = self.previous.get(request.url)
        if not known:
            return
        if known.get("etag"):
            request.headers.setdefault("If-None-Match", known["etag"])
        if known.get("last_modified"):
            request.headers.setdefault("If-Modified-Since", known["last_modified"])

    def process_response(self, request: Request, response: Response, spider: Spider) -> Any:
        if not self._applies(request):
            return response
        if response.status == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                self.seen[request.url] = {
                    key: value.decode("latin-1")
                    for key, value in (("etag", etag), ("last_modified", modified)) if value
                }
        elif response.status == 304 and request.url in self.previous:
            self.seen[request.url] = self.previous[request.url]
        return response
