"""The auto spider: given only a URL, find the news and events there and read them.

Discovery, in this order; the first step that gives items is used:

1. The URL itself is a feed (RSS, Atom, JSON Feed), an iCalendar or a sitemap: read it;
   an OParl System or Body (council meetings, spiders.oparl): walk it.
2. Feeds and calendars the page advertises (`<link rel="alternate">`) or links
   (spiders.discover): per family (feed, calendar) the best is fetched, the next one if it
   gives no items; a news page takes its feed, an events page its calendar, other pages one
   of each.
3. schema.org data on the page (spiders.jsonld): used when it holds Events (at least as many
   as the page shows blocks), or when the page has no list of its own. Items that are only
   links are followed.
4. On a site's home page: its sitemaps (robots.txt `Sitemap:`, else /sitemap.xml), pages
   under news and events paths, newest first; failing those, the home page's "Aktuelles" and
   "Veranstaltungen" sections, each discovered again from step 2.
5. The repeated blocks of a list page (spiders.blocks): each followed to its detail page and
   read by spiders.extract, further list pages followed up to `max_pages`. A page whose
   path or heading says events (Termine, Veranstaltungen) is read as an event calendar.
6. A page that is an article itself (a title, text and a date): one record.

Otherwise the source fails with "auto found no news or events at <url>". `discovered` says
what was found and used, for health.json.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.records import Record
from regiofeed.models.sources import Source
from regiofeed.spiders.auto_feeds import FeedSteps
from regiofeed.spiders.auto_lists import ListSteps
from regiofeed.spiders.auto_sitemaps import SitemapSteps
from regiofeed.spiders.auto_state import (
    _FEED_KINDS,
    _MIN_LIST_ON_ARTICLE,
    _MIN_UNDATED_ARTICLE,
    _content_type,
    _count,
    _items,
    _prefix,
    _SitemapState,
    _visible_headline,
)
from regiofeed.spiders.base import SourceSpider
from regiofeed.spiders.blocks import page_topic
from regiofeed.spiders.discover import (
    KIND_NAMES,
    is_site_root,
    looks_like_feed_url,
    sniff,
)
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.event_tables import events_from_rows
from regiofeed.spiders.jsonld import records_from_structured, structured_page
from regiofeed.spiders.listpage import find_list_blocks
from regiofeed.spiders.middlewares import CONDITIONAL
from regiofeed.spiders.oparl import OparlWalk, sniff_oparl
from regiofeed.spiders.pages import records_from_html_page
from regiofeed.spiders.pagination import find_next_page
from regiofeed.spiders.prose import tips_records
from regiofeed.spiders.regions import beside_article, has_headline, is_article_page
from regiofeed.spiders.teasers import TeaserFollower
from regiofeed.spiders.tour_box import tour_records


class AutoSpider(ListSteps, SitemapSteps, FeedSteps, TeaserFollower, SourceSpider):
    """Discover how a URL offers its news and events, and read them that way (see above)."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.emitted = 0
        self.empty_feed = False
        # What was found and used, by branch, in order; joined into `discovered`.
        self.notes: dict[str, str] = {}
        # What was looked at and gave nothing, for the failure message.
        self.tried: list[str] = []
        self.followed: set[str] = set()
        # An OParl System or Body URL is walked as kind "oparl" would (spiders/oparl.py).
        self.oparl = OparlWalk(self, emit=self._emit)
        # Feed items that are only teasers, by key, and articles fetched for them.
        self.teaser_keys: set[str] = set()
        # CMS probes that gave nothing (a 404 is normal), for health.json.
        self.probe_misses: list[str] = []
        self.articles = 0

    async def start(self) -> AsyncIterator[Any]:
        # A 304 means "nothing new" only for a feed: a page's feeds may change while it does not.
        yield scrapy.Request(self.source.url, callback=self.parse, errback=self.on_entry_error,
                             meta={CONDITIONAL: looks_like_feed_url(self.source.url)})

    # -- bookkeeping

    def _deliver(self, records: Iterable[Record]) -> Iterator[Record]:
        return self._emit(records)

    def _emit(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self.emitted += 1
            yield record

    def _teasers_note(self) -> str:
        if not self.teaser_keys:
            return ""
        return (f", {len(self.teaser_keys)} teaser{'s' * (len(self.teaser_keys) != 1)} "
                "followed to the article (follow_teasers = false to keep them)")

    def _note(self, branch: str, text: str) -> None:
        self.notes[branch] = text
        self.discovered = "; ".join(self.notes.values())

    def closed(self, reason: str) -> None:
        self.oparl.finish(reason)
        if self.probe_misses and self.notes:
            # Why the CMS's own feeds were not used, next to what was (health.json).
            self._note("probes", "not used: " + "; ".join(self.probe_misses))
        found = (self.emitted or self.unchanged_keys or self.entry_not_modified
                 or self.empty_feed or self.oparl.complete)
        if not found and not self.fatal_errors:
            tried = f" (tried {'; '.join(self.tried)})" if self.tried else ""
            self.fail(f"auto found no news or events at {self.source.url}{tried}")

    # -- step 1: the URL itself

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if self.not_modified(response):
            return
        if sniff_oparl(response.body):
            yield from self.oparl.begin(response)
            return
        kind = sniff(response.body, _content_type(response))
        if kind in _FEED_KINDS:
            records = self._feed_records(response, kind)
            if records is None:
                self.fail(f"not a readable {KIND_NAMES[kind]} at {response.url}")
                return
            self.empty_feed = not records
            self._note("entry", f"{KIND_NAMES[kind]} {response.url} (the source URL itself), "
                                f"{_items(len(records))}{self._teasers_note()}")
            yield from self._emit_feed(records)
            return
        if kind == "sitemap":
            state = _SitemapState(page=response, hop=1, queue=[])  # type: ignore[arg-type]
            yield from self._read_sitemap(response, state)
            return
        response = repaired(response)
        if not isinstance(response, TextResponse) or kind not in ("html", None):
            self.fail(f"auto cannot read {response.url}: neither a web page nor a feed")
            return
        yield from self._discover(response, hop=0)






    # -- steps 3 to 6

    def _without_feeds(self, response: TextResponse, hop: int) -> Iterator[Any]:
        url = response.url
        structured = structured_page(response.text, url, self.source)
        blocks = find_list_blocks(response.text, url)
        here = canonical_url(url)
        article = is_article_page(response.text)
        if blocks is not None and len(blocks.blocks) < _MIN_LIST_ON_ARTICLE and (
                article or has_headline(response.text)) and beside_article(
                response.text, sum(len(b.title) + len(b.summary or "") for b in blocks.blocks)):
            # An article with a few "related" or "latest" teasers: the article is the page.
            self.tried.append(f"{url}: {blocks.describe()} beside the page's own article, "
                              "not used")
            blocks, article = None, True
        own = [r for r in structured.records if r.key.startswith(here) and r.kind == "news"]
        if article and own and not blocks:
            # The page's own schema.org Article: its "related" links are not its items.
            self._note(f"page {url}", f"{_prefix(hop, url)}schema.org data of the page "
                                      f"{url} ({_count(structured.records)})")
            yield from self._emit(_visible_headline(structured.records, own[0],
                                                    response.text))
            return
        events = [r for r in structured.records if r.kind == "event"]
        if article and not blocks and not events:
            # Its schema.org links (breadcrumbs, related articles) are not its items either.
            yield from self._single_page(response, hop)
            return
        shown = len(blocks.blocks) if blocks else 0
        elsewhere = [r for r in structured.records if not r.key.startswith(here)]
        linked = len(structured.stubs)
        if not events and not blocks and not linked:
            # A page whose text lists events or is about one (spiders.prose, event_tables).
            stated = self._page_events(response)
            if stated:
                self._note(f"page {url}", f"{_prefix(hop, url)}{_count(stated)} stated on "
                                          f"the page {url}")
                yield from self._emit(stated)
                return
        if (events and len(events) + linked >= shown) or (
                not blocks and (elsewhere or linked)):
            yield from self._use_structured(response, structured, hop)
            return
        if hop == 0 and is_site_root(url) and not structured.records:
            yield from self._try_sitemaps(response, hop)
            return
        if blocks is not None:
            yield from self._start_list(response, blocks, hop)
            return
        if structured.records:
            # The page's own Article (and the event it announces): a single article.
            self._note(f"page {url}", f"{_prefix(hop, url)}schema.org data of the page "
                                      f"{url} ({_count(structured.records)})")
            yield from self._emit(structured.records)
            return
        yield from self._single_page(response, hop)

    def _use_structured(self, response: TextResponse, structured: Any, hop: int,
                        pages: int = 1) -> Iterator[Any]:
        text = f"{_prefix(hop, response.url)}schema.org data on {response.url}"
        parts = [_count(structured.records)] if structured.records else []
        if structured.stubs:
            parts.append(f"{len(structured.stubs)} linked items followed")
        self._note(f"structured {hop}", f"{text} ({', '.join(parts)}); {pages} "
                                        f"page{'s' * (pages != 1)}")
        yield from self._emit(structured.records)
        for link, stub in structured.stubs:
            if link in self.followed:
                continue
            self.followed.add(link)
            yield scrapy.Request(link, callback=self.parse_structured_detail,
                                 errback=self.on_structured_detail_error,
                                 cb_kwargs={"stub": stub})
        if pages < self.source.max_pages:
            exclude = {r.url for r in structured.records if r.url} | {
                link for link, _ in structured.stubs}
            next_url = find_next_page(response.text, response.url, exclude=exclude)
            if next_url and next_url not in self.followed:
                self.followed.add(next_url)
                yield scrapy.Request(next_url, callback=self.parse_structured_list,
                                     errback=self.on_page_error,
                                     cb_kwargs={"hop": hop, "pages": pages + 1},
                                     meta={CONDITIONAL: False})

    def parse_structured_list(self, response: Response, hop: int, pages: int) -> Iterator[Any]:
        response = repaired(response)
        if not isinstance(response, TextResponse):
            return
        structured = structured_page(response.text, response.url, self.source)
        if structured.records or structured.stubs:
            yield from self._use_structured(response, structured, hop, pages)

    def parse_structured_detail(self, response: Response, stub: Record | None) -> Iterator[Any]:
        if self.detail_not_modified(response):
            return
        response = repaired(response)
        records: list[Record] = []
        if isinstance(response, TextResponse):
            records = records_from_structured(response.text, response.url, self.source)
            if not records:
                records = records_from_html_page(response.text, response.url, self.source)
        if not records and stub is not None:
            records = [stub]
        yield from self._emit(records)

    def on_structured_detail_error(self, failure: Failure) -> Iterator[Any]:
        self.on_page_error(failure)
        stub = failure.request.cb_kwargs.get("stub")
        if stub is not None:
            yield from self._emit([stub])


















    # -- step 6: the page lists events without links, or is an article

    def _event_rows(self, response: TextResponse, main: Record | None) -> list[Record]:
        """The events a page lists in rows or labelled groups (spiders.event_tables)."""
        events_page = self.source.item_kind == "event" or (
            self.source.item_kind is None
            and page_topic(response.url, _page_heading(response)) == "events")
        return events_from_rows(
            response.text, response.url, self.source,
            published=main.date_published if main else None,
            text=main.content_text if main else None, need_times=not events_page)

    def _page_events(self, response: TextResponse) -> list[Record]:
        """The events a page states: its rows, its sections of tips (with the page as news),
        or the one event the page is about; [] for none of these."""
        records = records_from_html_page(response.text, response.url, self.source)
        main = records[0] if records else None
        rows = self._event_rows(response, main)
        if rows:
            return rows
        if main is None or len(records) != 1:
            return []
        if main.event is None:
            return tips_records(main, response.text) or tour_records(main, response.text)
        return records if main.kind == "event" else []

    def _single_page(self, response: TextResponse, hop: int) -> Iterator[Any]:
        records = records_from_html_page(response.text, response.url, self.source)
        main = records[0] if records else None
        rows = self._event_rows(response, main)
        if rows:
            self._note(f"page {response.url}", f"{_prefix(hop, response.url)}{len(rows)} "
                                               f"events listed on {response.url}")
            yield from self._emit(rows)
            return
        if main is not None and main.event is None and len(records) == 1:
            # A page of tips, or a feature with a tour box: the article and its events.
            records = (tips_records(main, response.text) or tour_records(main, response.text)
                       or records)
        text = len(main.content_text or "") if main else 0
        # A dated page with some text, or an undated one with an article's worth of it (a
        # club's one news post, a wiki page): that page is the source's item.
        # An undated page must name itself with a headline: a list page whose list was not
        # recognised is no article ("Gemeinde Altdorf").
        if main is None or text < 80 or (
                not (main.date_published or main.event) and (
                    text < _MIN_UNDATED_ARTICLE or not (is_article_page(response.text)
                                                        or has_headline(response.text)))):
            self.tried.append(f"{response.url}: no feed, no schema.org data, no list with dates,"
                              " not an article")
            return
        undated = "" if main.date_published or main.event else ", no date (first seen)"
        self._note(f"page {response.url}",
                   f"{_prefix(hop, response.url)}a single article page {response.url}{undated}")
        yield from self._emit(records)




def _page_heading(response: TextResponse) -> str:
    return " ".join(" ".join(response.css("h1 ::text").getall()).split())
