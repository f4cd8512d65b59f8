"""The feed spider: RSS 2.0, Atom 1.0 and JSON Feed 1.1 fetched by Scrapy, parsed by feedparser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import feedparser
import scrapy
from scrapy.http import Response

from spiders.base import SourceSpider
from spiders.extract import record_from_entry
from spiders.jsonfeed import NotAJsonFeed, parse_json_feed


class FeedSpider(SourceSpider):
    """Read one feed; every entry becomes a record."""

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.source.url, callback=self.parse, errback=self.on_entry_error)

    def parse(self, response: Response, **kwargs: Any) -> Any:
        if self.not_modified(response):
            return
        if self.source.kind == "jsonfeed":
            try:
                entries = parse_json_feed(response.body)
            except NotAJsonFeed as exc:
                self.fail(f"not a readable JSON Feed at {response.url}: {exc}")
                return
            yield from self._records(entries, response.url)
            return
        headers = {
            key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
            for key, values in response.headers.items()
        }
        parsed = feedparser.parse(response.body, response_headers=headers)
        if not parsed.entries:
            if parsed.get("bozo"):
                reason = parsed.get("bozo_exception") or "unreadable"
                self.fail(f"not a readable feed at {response.url}: {reason}")
            elif not parsed.get("version"):
                self.fail(f"not a feed at {response.url}")
            return
        yield from self._records(parsed.entries, response.url)

    def _records(self, entries: list[Any], feed_url: str) -> Any:
        for entry in entries:
            record = record_from_entry(entry, self.source, feed_url)
            if record is not None:
                yield record
