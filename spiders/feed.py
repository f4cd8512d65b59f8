"""The feed spider: RSS 2.0, Atom 1.0 and JSON Feed 1.1 fetched by Scrapy, parsed by feedparser.

feedparser finds a feed's encoding itself (RFC 7303: BOM, HTTP charset, XML declaration) and
is right where the declaration is. Where the bytes contradict it (windows-1252 served as
UTF-8, UTF-8 declared ISO-8859-1), spiders.encoding decodes them and feedparser is given
UTF-8 that says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Response

from regiofeed.models.records import Record
from regiofeed.models.sources import Source
from regiofeed.spiders.base import SourceSpider
from regiofeed.spiders.degraded import read_feed
from regiofeed.spiders.encoding import decode_body
from regiofeed.spiders.event_feed import as_event_feed
from regiofeed.spiders.extract import records_from_entry
from regiofeed.spiders.jsonfeed import NotAJsonFeed, parse_json_feed
from regiofeed.spiders.teasers import TeaserFollower, is_teaser


class NotAFeed(ValueError):
    """The body is no feed we can read; the message says what it is instead."""


def records_from_feed(response: Response, source: Source,
                      problems: list[str] | None = None,
                      teasers: set[str] | None = None) -> list[Record]:
    """Return the records of a fetched feed (RSS, Atom, or JSON Feed for kind "jsonfeed").

    Raises NotAFeed for a body that is no readable feed. A feed without entries gives [].
    Why a feed that was read is degraded (spiders.degraded) is added to `problems`, the
    keys of records that are only teasers (spiders.teasers) to `teasers`.
    """
    if source.kind == "jsonfeed":
        try:
            body = decode_body(response.body, _content_type(response)).text.encode()
            entries = parse_json_feed(body)
        except NotAJsonFeed as exc:
            raise NotAFeed(f"not a readable JSON Feed at {response.url}: {exc}") from None
        return _records(entries, source, response.url)
    body, headers = feed_input(response)
    parsed, degraded = read_feed(body, headers, response.url)
    if problems is not None:
        problems.extend(degraded)
    if not parsed.entries:
        if parsed.get("bozo"):
            reason = parsed.get("bozo_exception") or "unreadable"
            raise NotAFeed(f"not a readable feed at {response.url}: {reason}")
        if not parsed.get("version"):
            raise NotAFeed(f"not a feed at {response.url}")
    source = as_event_feed(source, parsed.feed.get("title"), response.url, parsed.entries)
    if teasers is not None and source.follow_teasers:
        records = []
        for entry in parsed.entries:
            found = records_from_entry(entry, source, response.url)
            if found and is_teaser(entry):
                teasers.add(found[0].key)
            records += found
        return records
    return _records(parsed.entries, source, response.url)


def _records(entries: list[Any], source: Source, feed_url: str) -> list[Record]:
    return [record for entry in entries
            for record in records_from_entry(entry, source, feed_url)]


class FeedSpider(TeaserFollower, SourceSpider):
    """Read one feed; every entry becomes a record (two for news announcing an event); an
    entry that is only a teaser gets its article read (spiders.teasers)."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.teaser_keys: set[str] = set()
        self.followed: set[str] = set()
        self.articles = 0

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.source.url, callback=self.parse, errback=self.on_entry_error)

    def parse(self, response: Response, **kwargs: Any) -> Any:
        if self.not_modified(response):
            return
        try:
            records = records_from_feed(response, self.source, self.page_errors,
                                        self.teaser_keys)
        except NotAFeed as exc:
            self.fail(str(exc))
            return
        yield from self._emit_feed(records)


def _content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1")


def feed_input(response: Response) -> tuple[bytes, dict[str, str]]:
    """Return the body and headers to give feedparser: as served, unless the bytes overrule
    the declared charset; then the text re-encoded as UTF-8, with a header that says so."""
    headers = {
        key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
    decoding = decode_body(response.body, headers.get("content-type"))
    if not decoding.overruled:
        return response.body, headers
    mime = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if "xml" not in mime:
        mime = "application/xml"
    # RFC 7303: for application/*+xml the charset parameter wins over the XML declaration.
    headers["content-type"] = f"{mime}; charset=utf-8"
    return decoding.text.encode("utf-8"), headers
