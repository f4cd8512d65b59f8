"""The spider base class: the source it reads, and a ledger of what went wrong while reading."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.sources import Source
from regiofeed.spiders.extract import EVENT_KEY_SUFFIX
from regiofeed.spiders.offhost import rule_for


class SourceSpider(scrapy.Spider):
    """A spider for one configured source; subclasses read one *kind* of source."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(name=f"regiofeed-{source.kind}", **kwargs)
        self.source = source
        # Errors at the entry URL fail the whole source; errors on detail pages are noted.
        self.fatal_errors: list[str] = []
        self.page_errors: list[str] = []
        # Conditional GET: the entry URL answered 304 (nothing changed at the source), or
        # single detail pages did (their records, by key, are unchanged).
        self.entry_not_modified = False
        self.unchanged_keys: set[str] = set()
        # What this spider found and used, for health.json (auto-discovery fills it in).
        self.discovered: str | None = None
        # Conditional GET (spiders/middlewares.py): the validators of the last run by URL,
        # set by the crawler process, and the ones this crawl saw.
        self.validators: dict[str, dict[str, str]] = {}
        self.validators_seen: dict[str, dict[str, str]] = {}

    def not_modified(self, response: Response, key: str | None = None) -> bool:
        """Note a 304: for the entry URL (key None) the whole source, else one record's key."""
        if response.status != 304:
            return False
        if key is None:
            self.entry_not_modified = True
        else:
            self.unchanged_keys.add(key)
        return True

    def may_follow(self, url: str) -> bool:
        """May this source fetch `url`: its own host, or one it names (spiders/offhost.py)."""
        rule = rule_for(self)
        return rule is None or rule.may_fetch(url)

    def fail(self, message: str) -> None:
        self.logger.error("%s: %s", self.source.id, message)
        self.fatal_errors.append(message)

    def detail_not_modified(self, response: Response) -> bool:
        """Note a 304 on a detail page: its record, and the event it may announce, stand."""
        if response.status != 304:
            return False
        key = canonical_url(response.url)
        self.unchanged_keys.update({key, key + EVENT_KEY_SUFFIX})
        return True

    def web_link(self, response: Response, href: str, title: str) -> str | None:
        """Return `href` made absolute if it leads to a web page, else None and a note.

        A list entry may link to `mailto:`, `tel:` or `javascript:`; that entry is skipped,
        never the rest of the page.
        """
        try:
            absolute = response.urljoin(href.strip())
            parts = urlsplit(absolute)
        except ValueError:
            parts = None
        if parts is not None and parts.scheme in ("http", "https") and parts.hostname:
            return absolute
        scheme = href.strip().split(":", 1)[0][:20] if ":" in href else "no web address"
        self.page_errors.append(f"skipped {title[:80]!r}: its link is {scheme}:, not a web page")
        return None

    def on_entry_error(self, failure: Failure) -> None:
        """Errback for the source's entry URL: the source failed as a whole."""
        self.fail(describe_failure(failure))

    def on_page_error(self, failure: Failure) -> None:
        """Errback for secondary pages (details, further list pages)."""
        message = describe_failure(failure)
        self.logger.warning("%s: %s", self.source.id, message)
        self.page_errors.append(message)


def describe_failure(failure: Failure) -> str:
    """Say in one line what went wrong with a request: status, timeout, DNS, refused."""
    exc = failure.value
    request = getattr(failure, "request", None)
    url = request.url if request is not None else ""
    if isinstance(exc, HttpError):
        response: Response = exc.response
        return f"HTTP {response.status} at {response.url}"
    if isinstance(exc, IgnoreRequest):
        return f"not fetched ({exc or 'forbidden by robots.txt'}) at {url}"
    name = type(exc).__name__
    if "Timeout" in name:
        return f"timed out at {url}"
    if name == "DownloadCancelledError":
        # Scrapy cancels a body that grows past DOWNLOAD_MAXSIZE (max_bytes); one streamed
        # without a length gets no message of its own.
        why = str(exc) or "response over the size limit (max_bytes)"
        return f"download cut off: {why} at {url}"
    if "DNSLookupError" in name:
        return f"host not found at {url}"
    if "ConnectionRefused" in name:
        return f"connection refused at {url}"
    return f"{name}: {exc} at {url}".strip()
