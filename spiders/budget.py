"""Guards on every response: Retry-After, XML entity declarations, empty bodies.

- 429/503 with `Retry-After` defers the source to a later run: no retry now (the spider notes
  `retry_after`, the crawl result carries it).
- XML that declares entities in its DTD is refused before any parser sees it. Python's expat
  (feedparser) and libxml2 (lxml) expand internal entities; their amplification guards differ by
  version, and neither is needed: feeds, sitemaps and calendars never declare entities. This
  stops "billion laughs" (nested) and quadratic blow-up (one big entity used many times) alike.
- A 200 with an empty body is not a page: refused, so the source or page fails, never "ok".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from regiofeed.spiders.dispatch import SourceMiddleware

# An internal DTD subset that declares an entity: `<!DOCTYPE x [ ... <!ENTITY`.
ENTITY_DECL = re.compile(rb"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE)
# The prolog is all a DTD can be in; a page mentioning the syntax in its text is not refused.
PROLOG_BYTES = 65_536


def declares_entities(body: bytes) -> bool:
    """True if an XML document's prolog declares entities.

    >>> declares_entities(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aa">]><r>&a;</r>')
    True
    >>> declares_entities(b'<!DOCTYPE html><html><body>&lt;!ENTITY</body></html>')
    False
    """
    head = body[:PROLOG_BYTES]
    start = head.find(b"<!DOCTYPE")
    if start < 0:
        start = head.find(b"<!doctype")
    return start >= 0 and ENTITY_DECL.search(head, start) is not None


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), None if unreadable.

    >>> retry_after_seconds("120")
    120.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ResponseGuardMiddleware(SourceMiddleware):
    """Downloader middleware, placed before RetryMiddleware sees a response."""

    def process_response(self, request: Request, response: Response) -> Any:
        if response.status in (429, 503):
            header = response.headers.get("Retry-After")
            seconds = retry_after_seconds(header.decode("latin-1") if header else None)
            source = self.owner(request)
            if seconds is not None:
                if source is not None:
                    source.retry_after = max(seconds, getattr(source, "retry_after", None) or 0)
                raise IgnoreRequest(
                    f"HTTP {response.status}, deferred: Retry-After {seconds:.0f} s")
        if (response.status == 200 and not response.body and request.method != "HEAD"
                and not request.url.endswith("/robots.txt")):
            raise IgnoreRequest("empty response")
        if response.status == 200 and declares_entities(response.body):
            raise IgnoreRequest("XML declares entities (refused: entity expansion)")
        return response
