"""Apply a source's CSS selectors (Scrapy's dialect, ::text and ::attr()) to a page."""

from __future__ import annotations

from parsel import Selector
from scrapy.http import TextResponse

from regiofeed.models.sources import Selectors


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
