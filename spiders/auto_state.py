"""What auto keeps between its steps, and the helpers its steps share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from scrapy.http import Response, TextResponse

from regiofeed.models.normalise.dates import MONTH_WORDS, parse_when
from regiofeed.models.records import Record
from regiofeed.models.sources import Source
from regiofeed.spiders.blocks import Block, BlockList
from regiofeed.spiders.discover import (
    FeedLink,
)
from regiofeed.spiders.extract import ListEntry
from regiofeed.spiders.regions import has_headline, page_headline

# Feeds of one family tried before giving up on it.
_MAX_FEED_TRIES = 3


# Sitemap files read (index plus children) and pages taken from them per list page allowed.
_MAX_SITEMAPS = 6


_SITEMAP_PAGES_PER_LIST_PAGE = 10


_FEED_KINDS = ("rss", "atom", "jsonfeed", "ical")


# On a page that is an article, fewer blocks than this are its teasers, not its list.
_MIN_LIST_ON_ARTICLE = 4


# Characters of main text that make an undated page an article.
_MIN_UNDATED_ARTICLE = 300


@dataclass
class _FeedAttempt:
    """Feeds to try for one page, per family, and what came of them."""

    page: TextResponse
    hop: int
    families: list[list[FeedLink]]
    family: int = 0
    index: int = 0
    used: list[str] = field(default_factory=list)


@dataclass
class _ListState:
    """One list being read page by page (the source's list, or a home page's section)."""

    name: str
    signature: tuple[str, str, str]
    source: Source
    event_list: bool
    first: BlockList
    prefix: str = ""
    pages: int = 0
    blocks: int = 0
    seen: set[str] = field(default_factory=set)

    def describe(self) -> str:
        kind = "events list" if self.event_list else "list"
        text = self.first.describe().replace("list of", f"{kind} of", 1)
        text = re.sub(r"of \d+ blocks?", f"of {self.blocks} block{'s' * (self.blocks != 1)}",
                      text, count=1)
        return f"{self.prefix}{text}; {self.pages} page{'s' * (self.pages != 1)}"


@dataclass
class _SitemapState:
    page: TextResponse
    hop: int
    queue: list[str]
    entries: list[tuple[str, Any]] = field(default_factory=list)
    read: list[str] = field(default_factory=list)


@dataclass
class _HomeState:
    """A home page whose sections are being read, and its own list to fall back on."""

    page: TextResponse
    own: BlockList | None
    pending: int = 0
    failed: int = 0


def _visible_headline(records: list[Record], own: Record, html: str) -> list[Record]:
    """The page's schema.org Article with the headline the page shows, where the two differ
    (a CMS that keeps another article's data in its JSON-LD): readers see the page's."""
    headline = page_headline(html) if has_headline(html) else None
    if not headline or " ".join(headline.split()).casefold() == own.title.casefold():
        return records
    note = f"the page's schema.org headline is {own.title!r}; the page shows {headline!r}"
    fixed = own.model_copy(update={"title": headline, "notes": [*(own.notes or []), note]})
    return [fixed if record is own else record for record in records]


def _entry(block: Block, event_list: bool, today: date) -> ListEntry:
    """Turn a block into a ListEntry: an events list's date is the event's time."""
    date_text = complete_year(block.date_text, today, future=event_list)
    when_text = complete_year(block.when_text, today, future=event_list)
    if event_list:
        return ListEntry(title=block.title, link=block.link, summary=block.summary,
                         location=block.location, when=when_text or date_text)
    return ListEntry(title=block.title, link=block.link, date_text=date_text,
                     summary=block.summary, location=block.location)


_YEARLESS_NUMERIC_RE = re.compile(r"(?<![\d.])(\d{1,2}\.\s?\d{1,2}\.)(?!\s?\d)")


_YEARLESS_NAMED_RE = re.compile(
    rf"(?<![\d.])(\d{{1,2}}\.?\s*(?:{MONTH_WORDS})\.?)(?!\s*,?\s*\d{{4}})", re.IGNORECASE)


def complete_year(text: str | None, today: date, *, future: bool) -> str | None:
    """Add the year to a date a list shows without one ("Sa, 01.06.", "27. Mai").

    Lists of events look ahead: a day more than two months before `today` is next year's.
    News lists look back: a day after `today` is last year's.

    >>> complete_year("Sa, 01.06., 10 Uhr", date(2024, 8, 1), future=False)
    'Sa, 01.06.2024, 10 Uhr'
    >>> complete_year("1. Februar", date(2024, 8, 1), future=True)
    '1. Februar 2025'
    """
    if not text or parse_when(text) is not None:
        return text
    for pattern, joiner in ((_YEARLESS_NUMERIC_RE, ""), (_YEARLESS_NAMED_RE, " ")):
        match = pattern.search(text)
        if not match:
            continue
        completed = _with_year(text, match, joiner, today.year)
        when = parse_when(completed)
        if when is None:
            continue
        start = when.start.date() if isinstance(when.start, datetime) else when.start
        if future and (today - start).days > 62:
            completed = _with_year(text, match, joiner, today.year + 1)
        elif not future and (start - today).days > 1:
            completed = _with_year(text, match, joiner, today.year - 1)
        return completed
    return text


def _with_year(text: str, match: re.Match[str], joiner: str, year: int) -> str:
    return f"{text[:match.end(1)]}{joiner}{year}{text[match.end(1):]}"


def _prefix(hop: int, url: str) -> str:
    return f"section {url}: " if hop else ""


def _count(records: list[Record]) -> str:
    events = sum(1 for record in records if record.kind == "event")
    news = len(records) - events
    parts = []
    if events:
        parts.append(f"{events} event{'s' * (events != 1)}")
    if news:
        parts.append(f"{news} article{'s' * (news != 1)}")
    return ", ".join(parts)


def _items(count: int) -> str:
    return f"{count} item{'s' * (count != 1)}"


def _content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1")
