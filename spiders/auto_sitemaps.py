"""Auto's step 4: sitemaps, and the news and events sections of a home page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from regiofeed.spiders.auto_state import (
    _MAX_SITEMAPS,
    _SITEMAP_PAGES_PER_LIST_PAGE,
    _HomeState,
    _SitemapState,
)
from regiofeed.spiders.blocks import page_topic
from regiofeed.spiders.discover import (
    robots_sitemaps,
    section_links,
    sitemap_item_urls,
    useful_child_sitemap,
)
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.homelists import home_news, own_news
from regiofeed.spiders.listpage import find_list_blocks
from regiofeed.spiders.middlewares import CONDITIONAL
from regiofeed.spiders.pages import records_from_html_page
from regiofeed.spiders.sitemap import parse_sitemap


class SitemapSteps:
    """Find articles through the sitemaps, or the sections a home page links to."""

    def _try_sitemaps(self, page: TextResponse, hop: int) -> Iterator[Any]:
        state = _SitemapState(page=page, hop=hop, queue=[])
        yield scrapy.Request(urljoin(page.url, "/robots.txt"), callback=self.parse_robots,
                             errback=self.on_robots_error, dont_filter=True,
                             cb_kwargs={"state": state}, meta={CONDITIONAL: False})

    def parse_robots(self, response: Response, state: _SitemapState) -> Iterator[Any]:
        text = response.text if isinstance(response, TextResponse) else response.body.decode(
            "utf-8", "replace")
        state.queue = robots_sitemaps(text) or [urljoin(state.page.url, "/sitemap.xml")]
        yield from self._next_sitemap(state)

    def on_robots_error(self, failure: Failure) -> Iterator[Any]:
        state: _SitemapState = failure.request.cb_kwargs["state"]
        state.queue = [urljoin(state.page.url, "/sitemap.xml")]
        yield from self._next_sitemap(state)

    def _next_sitemap(self, state: _SitemapState) -> Iterator[Any]:
        while state.queue and len(state.read) < _MAX_SITEMAPS:
            url = state.queue.pop(0)
            if url in state.read:
                continue
            state.read.append(url)
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_sitemap_error,
                                 dont_filter=True, cb_kwargs={"state": state},
                                 meta={CONDITIONAL: False})
            return
        yield from self._sitemap_done(state)

    def parse_sitemap(self, response: Response, state: _SitemapState) -> Iterator[Any]:
        yield from self._read_sitemap(response, state)

    def _read_sitemap(self, response: Response, state: _SitemapState) -> Iterator[Any]:
        if not state.read:
            state.read.append(response.url)
        try:
            entries, children = parse_sitemap(response.body)
        except ValueError:
            entries, children = [], []
        state.entries += entries
        # News and event sitemaps first (post-sitemap.xml, tribe_events-sitemap.xml).
        useful = [child for child in children if useful_child_sitemap(child)]
        useful.sort(key=lambda child: page_topic(child) is None
                    and not re.search(r"post|news|event", child, re.I))
        state.queue += useful
        yield from self._next_sitemap(state)

    def on_sitemap_error(self, failure: Failure) -> Iterator[Any]:
        yield from self._next_sitemap(failure.request.cb_kwargs["state"])

    def _sitemap_done(self, state: _SitemapState) -> Iterator[Any]:
        limit = self.source.max_pages * _SITEMAP_PAGES_PER_LIST_PAGE
        site = state.read[0] if state.read else state.page.url
        urls = sitemap_item_urls(state.entries, site, limit)
        if not urls:
            self.tried.append("sitemaps" if state.read else "no sitemap")
            if isinstance(state.page, TextResponse) and state.hop == 0:
                yield from self._home_sections(state.page)
            return
        self._note("sitemap", f"{len(urls)} news and events pages of the sitemap "
                              f"{state.read[0]}")
        for url in urls:
            self.followed.add(url)
            yield scrapy.Request(url, callback=self.parse_article, errback=self.on_page_error)

    def parse_article(self, response: Response) -> Iterator[Any]:
        if self.detail_not_modified(response):
            return
        response = repaired(response)
        if isinstance(response, TextResponse):
            yield from self._emit(records_from_html_page(response.text, response.url,
                                                         self.source))

    def _home_sections(self, page: TextResponse) -> Iterator[Any]:
        sections = section_links(page.text, page.url)
        # The home page's own news: a dated list, else its undated headline links.
        own = own_news(find_list_blocks(page.text, page.url), home_news(page.text, page.url))
        if not sections:
            if own is not None:
                yield from self._start_list(page, own, 0, home=True)
            else:
                self.tried.append("no news or events section linked from the home page")
            return
        state = _HomeState(page=page, own=own)
        for link, _topic in sections:
            if link in self.followed:
                continue
            self.followed.add(link)
            state.pending += 1
            yield scrapy.Request(link, callback=self.parse_section,
                                 errback=self.on_section_error, cb_kwargs={"state": state})

    def parse_section(self, response: Response, state: _HomeState | None = None) -> Iterator[Any]:
        response = repaired(response)
        if isinstance(response, TextResponse):
            yield from self._discover(response, hop=1)

    def on_section_error(self, failure: Failure) -> Iterator[Any]:
        """A section of the home page failed; when all did, read the home page's own list."""
        self.on_page_error(failure)
        state: _HomeState = failure.request.cb_kwargs["state"]
        state.failed += 1
        if state.failed == state.pending and state.own is not None:
            self.tried.append("every news or events section of the home page failed")
            yield from self._start_list(state.page, state.own, 0, home=True)
