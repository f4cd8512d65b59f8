"""The list-page spider: configured CSS selectors find items, detail pages are followed and read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response, TextResponse

from spiders.base import SourceSpider
from spiders.encoding import repaired
from spiders.event_tables import page_year, year_of
from spiders.extract import ListEntry, records_from_page
from spiders.middlewares import CONDITIONAL
from spiders.sources import Selectors


def select_text(node: Selector, css: str | None, *, first: bool = False) -> str | None:
    """Apply a selector: ::attr() and ::text give their values, an element its text content.

    Values are joined, or with `first` only the first non-empty one is taken (a link, a
    date: two links in one item must not run together).

    >>> select_text(Selector(text="<p><b>Hallo</b> Welt</p>"), "p")
    'Hallo Welt'
    >>> select_text(Selector(text='<a href="/a">1</a><a href="/b">2</a>'), "a::attr(href)",
    ...             first=True)
    '/a'
    """
    if not css:
        return None
    found = node.css(css)
    if not found:
        return None
    if "::" in css:
        values = [v.strip() for v in found.getall() if v and v.strip()]
        if first:
            return values[0] if values else None
        return " ".join(values) or None
    # Element text with line breaks between blocks, so that labelled facts stay on their lines.
    parts = found[0].xpath(".//text()[not(ancestor::script) and not(ancestor::style)]").getall()
    text = " ".join(" ".join(p.split()) for p in parts if p.strip())
    return text or None


def select_html(node: Selector, css: str | None) -> str | None:
    """Return the outer HTML of the elements a selector finds, joined."""
    if not css:
        return None
    found = node.css(css)
    return "\n".join(found.getall()) or None


def detail_facts(page: Selector | TextResponse, sel: Selectors | None) -> dict[str, str | None]:
    """Read what a detail page says with the source's selectors (None: no selectors, auto).

    The page's own publication date (article:published_time, a time element) comes along
    for record_from_page to use when the list showed none.
    """
    return {
        "content": select_html(page, sel.content) if sel else None,
        "when": select_text(page, sel.when) if sel else None,
        "location": select_text(page, sel.location) if sel else None,
        "date": select_text(page, sel.date, first=True) if sel else None,
        "meta_date": page.css(
            "meta[property='article:published_time']::attr(content),"
            " time[datetime]::attr(datetime)"
        ).get(),
    }


class HtmlListSpider(SourceSpider):
    """Read a list page with selectors, follow each item's link, and paginate."""

    def __init__(self, source: Any, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        assert source.selectors is not None  # validated in spiders.sources
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
            if entry.link:
                yield response.follow(
                    entry.link,
                    callback=self.parse_detail,
                    errback=self.on_detail_error,
                    cb_kwargs={"entry": entry, "list_url": response.url},
                )
            else:
                yield from records_from_page(self.source, entry, response.url)
        next_link = select_text(response, sel.next, first=True)
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
