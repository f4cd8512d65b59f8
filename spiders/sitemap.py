"""The sitemap spider: detail pages found through sitemaps (sitemaps.org protocol) and robots.txt.

Incremental crawls combine two signals. Every page request is a conditional GET with the
validators of the last run, so an unchanged page answers 304 and costs no body. Before even
asking, a page whose sitemap `lastmod` is not newer than the Last-Modified it had when we last
fetched it is skipped: nothing changed since, by the site's own account. Its key is reported
as unchanged, so the store keeps its record. A page without such a validator is always asked.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from regiofeed.models.normalise.dates import BERLIN, parse_date
from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.sources import Source
from regiofeed.spiders.base import SourceSpider
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.extract import EVENT_KEY_SUFFIX
from regiofeed.spiders.jsonld import records_from_structured
from regiofeed.spiders.middlewares import CONDITIONAL
from regiofeed.spiders.pages import records_from_html_page

# Sitemap files read per crawl (an index and its children); pages are bounded by max_pages.
MAX_SITEMAPS = 50
# The protocol's own limit for one file, uncompressed.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class NotASitemap(ValueError):
    """The body is no sitemap or sitemap index."""


def parse_sitemap(body: bytes) -> tuple[list[tuple[str, datetime | None]], list[str]]:
    """Return the page URLs (with lastmod) and the child sitemaps of a sitemap or index.

    The body may be gzip-compressed. `lastmod` (W3C Datetime) comes back as an aware
    datetime; a date alone is midnight in Europe/Berlin. Raises NotASitemap for anything that
    is neither a `urlset` nor a `sitemapindex`.

    >>> parse_sitemap(b'<urlset><url><loc>https://a.example/x</loc></url></urlset>')
    ([('https://a.example/x', None)], [])
    """
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
        except (OSError, EOFError, ValueError) as exc:
            raise NotASitemap(f"broken gzip: {exc}") from None
    try:
        sitemap = Sitemap(body)
        entries = list(sitemap)
    except (etree.XMLSyntaxError, StopIteration, ValueError) as exc:
        raise NotASitemap(f"not XML: {exc}") from None
    if sitemap.type not in ("urlset", "sitemapindex"):
        raise NotASitemap(f"root element {sitemap.type!r}, not urlset or sitemapindex")
    locs = [(entry["loc"], entry.get("lastmod")) for entry in entries if entry.get("loc")]
    if sitemap.type == "sitemapindex":
        return [], [loc for loc, _ in locs]
    return [(loc, _lastmod(lastmod)) for loc, lastmod in locs], []


def _lastmod(text: str | None) -> datetime | None:
    value = parse_date(text or "")
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), tzinfo=BERLIN)
    return None


def is_site_root(url: str) -> bool:
    """Tell whether a URL names a whole site ('https://a.example/'), not a sitemap file."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


class SitemapSpider(SourceSpider):
    """Read a sitemap (or a site's robots.txt sitemaps) and the newest pages it lists.

    At most `max_pages` pages are read, newest `lastmod` first; `url_pattern` (a regular
    expression) keeps only matching pages, e.g. the news section. Each page is read through
    its schema.org data, else its main content (spiders.extract.record_from_html_page).
    """

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.pattern = re.compile(source.url_pattern) if source.url_pattern else None
        self.pages: dict[str, datetime | None] = {}
        self.sitemaps_seen: set[str] = set()
        self.pending = 0

    async def start(self) -> AsyncIterator[Any]:
        if is_site_root(self.source.url):
            robots = urljoin(self.source.url, "/robots.txt")
            yield scrapy.Request(robots, callback=self.parse_robots, errback=self.on_robots_error,
                                 meta={CONDITIONAL: False}, dont_filter=True)
        else:
            yield self._sitemap_request(self.source.url, entry=True)

    def _sitemap_request(self, url: str, *, entry: bool = False) -> scrapy.Request:
        self.sitemaps_seen.add(url)
        self.pending += 1
        # Sitemaps are read in full: on a 304 we could not tell which pages they list.
        return scrapy.Request(url, callback=self.parse, meta={CONDITIONAL: False},
                              errback=self.on_entry_error if entry else self.on_sitemap_error,
                              dont_filter=True)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        urls = list(dict.fromkeys(sitemap_urls_from_robots(response.body, response.url)))
        if not urls:
            # No Sitemap: line; the protocol's conventional place is next.
            urls = [urljoin(self.source.url, "/sitemap.xml")]
        for url in urls[:MAX_SITEMAPS]:
            yield self._sitemap_request(url)

    def on_robots_error(self, failure: Any) -> Iterator[Any]:
        """No robots.txt is fine: look at /sitemap.xml."""
        yield self._sitemap_request(urljoin(self.source.url, "/sitemap.xml"))

    def on_sitemap_error(self, failure: Any) -> Iterator[Any]:
        self.on_page_error(failure)
        yield from self._done_with_sitemap()

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        try:
            pages, children = parse_sitemap(response.body)
        except NotASitemap as exc:
            self.page_errors.append(f"not a sitemap at {response.url}: {exc}")
            pages, children = [], []
        for child in children:
            child = urljoin(response.url, child)
            if child not in self.sitemaps_seen and len(self.sitemaps_seen) < MAX_SITEMAPS:
                yield self._sitemap_request(child)
        site = urlsplit(response.url).netloc
        for loc, lastmod in pages:
            url = urljoin(response.url, loc)
            # sitemaps.org: a sitemap lists pages of its own host only.
            if urlsplit(url).netloc != site or (self.pattern and not self.pattern.search(url)):
                continue
            if url not in self.pages or (lastmod and (self.pages[url] or lastmod) <= lastmod):
                self.pages[url] = lastmod
        yield from self._done_with_sitemap()

    def _done_with_sitemap(self) -> Iterator[Any]:
        """After the last sitemap: request the newest pages (all sitemaps are known by then)."""
        self.pending -= 1
        if self.pending > 0:
            return
        if not self.pages and not self.fatal_errors:
            # Nothing to read: the source failed, and the sitemap errors say why.
            matching = " matching url_pattern" if self.pattern else ""
            self.fail("; ".join([*self.page_errors,
                                 f"the sitemaps of {self.source.url} list no pages{matching}"]))
            return
        oldest = datetime.min.replace(tzinfo=BERLIN)
        newest = sorted(self.pages.items(), key=lambda item: item[1] or oldest, reverse=True)
        previous = self.validators
        for url, lastmod in newest[: self.source.max_pages]:
            if _unchanged_since(lastmod, previous.get(url)):
                key = canonical_url(url)
                self.unchanged_keys.update({key, key + EVENT_KEY_SUFFIX})
                continue
            yield scrapy.Request(url, callback=self.parse_page, errback=self.on_page_error)

    def parse_page(self, response: Response) -> Iterator[Any]:
        if self.detail_not_modified(response):
            return
        response = repaired(response)
        if not isinstance(response, TextResponse):
            self.page_errors.append(f"not an HTML page at {response.url}")
            return
        records = records_from_structured(response.text, response.url, self.source)
        if not records:
            records = records_from_html_page(response.text, response.url, self.source)
        if not records:
            self.page_errors.append(f"no title at {response.url}")
        yield from records


def _unchanged_since(lastmod: datetime | None, validators: dict[str, str] | None) -> bool:
    """Whether the sitemap's lastmod is not after the Last-Modified of our last fetch."""
    if lastmod is None or not validators or not validators.get("last_modified"):
        return False
    try:
        fetched = parsedate_to_datetime(validators["last_modified"])
    except (TypeError, ValueError):
        return False
    return lastmod <= fetched
