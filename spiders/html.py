"""The list-page spider: configured CSS selectors find items, detail pages are followed and read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from regiofeed.models.sources import Selectors
from regiofeed.spiders.base import SourceSpider
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.event_tables import page_year, year_of
from regiofeed.spiders.extract import ListEntry
from regiofeed.spiders.middlewares import CONDITIONAL
from regiofeed.spiders.pages import records_from_page
from regiofeed.spiders.selectors import detail_facts, select_text


class HtmlListSpider(SourceSpider):
    """Read a list page with selectors, follow each item's link, and paginate."""

    def __init__(self, source: Any, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        assert source.selectors is not None  # validated in models.sources
        self.selectors: Selectors = source.selectors
        self.list_pages = 0

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.source.url, callback=self.parse, errback=self.on_entry_error)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        response = repaired(response)
        if not isinstance(response, TextResponse):
            self.fail(f"not an HTML page at {response.url}")
            return
        if self.not_modified(response):
            return
        self.list_pages += 1
        sel = self.selectors
        nodes = response.css(sel.item)
        if not nodes and self.list_pages == 1:
            self.fail(f"selector item {sel.item!r} matches nothing at {response.url}")
            return
        fallback_year = page_year(response.text)
        for node in nodes:
            title = select_text(node, sel.title)
            if not title:
                continue
            entry = ListEntry(
                title=title,
                link=select_text(node, sel.link, first=True),
                date_text=select_text(node, sel.date, first=True),
                summary=select_text(node, sel.summary),
                location=select_text(node, sel.location),
                when=select_text(node, sel.when),
                year=year_of(node.root, fallback_year),
            )
            link = self.web_link(response, entry.link, title) if entry.link else None
            if entry.link and link is None:
                continue  # mailto:, tel:, javascript: is no item; the others still are
            if link is not None and not self.may_follow(link):
                # Another host: the entry is kept with its link, the page is not fetched.
                yield from records_from_page(self.source, entry, response.url)
            elif link is not None:
                yield response.follow(
                    link,
                    callback=self.parse_detail,
                    errback=self.on_detail_error,
                    cb_kwargs={"entry": entry, "list_url": response.url},
                )
            else:
                yield from records_from_page(self.source, entry, response.url)
        next_link = select_text(response, sel.next, first=True)
        if next_link:
            next_link = self.web_link(response, next_link, "next page")
        if next_link and self.list_pages < self.source.max_pages:
            # Further list pages are always fetched in full: on a 304 we could not tell which
            # records they hold.
            yield response.follow(next_link, callback=self.parse, errback=self.on_page_error,
                                  meta={CONDITIONAL: False})

    def parse_detail(self, response: Response, entry: ListEntry, list_url: str) -> Iterator[Any]:
        if self.detail_not_modified(response):
            return
        response = repaired(response)
        if not isinstance(response, TextResponse):
            yield from records_from_page(self.source, entry, list_url)
            return
        detail = detail_facts(response, self.selectors)
        yield from records_from_page(
            self.source,
            entry,
            list_url,
            detail_html=response.text,
            detail_url=response.url,
            detail=detail,
        )

    def on_detail_error(self, failure: Any) -> Iterator[Any]:
        """A detail page failed: note it, and keep what the list page said."""
        self.on_page_error(failure)
        request = failure.request
        entry: ListEntry = request.cb_kwargs["entry"]
        yield from records_from_page(self.source, entry, request.cb_kwargs["list_url"])
