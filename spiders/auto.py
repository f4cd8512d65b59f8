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

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from regiofeed.models.normalise.dates import parse_when
from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.records import Record
from regiofeed.models.sources import Source
from regiofeed.spiders.base import SourceSpider, describe_failure
from regiofeed.spiders.blocks import DOCUMENT_SUFFIXES, Block, BlockList, page_topic
from regiofeed.spiders.degraded import read_feed
from regiofeed.spiders.discover import (
    KIND_NAMES,
    FeedLink,
    choose_feeds,
    find_feeds,
    is_site_root,
    looks_like_feed_url,
    robots_sitemaps,
    section_links,
    sitemap_item_urls,
    sniff,
    useful_child_sitemap,
)
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.event_feed import as_event_feed
from regiofeed.spiders.event_tables import events_from_rows
from regiofeed.spiders.extract import EVENT_KEY_SUFFIX, ListEntry, records_from_entry
from regiofeed.spiders.feed import feed_input
from regiofeed.spiders.homelists import home_news, own_news
from regiofeed.spiders.ical import records_from_ical
from regiofeed.spiders.jsonfeed import NotAJsonFeed, parse_json_feed
from regiofeed.spiders.jsonld import records_from_structured, structured_page
from regiofeed.spiders.listpage import find_list_blocks
from regiofeed.spiders.middlewares import CONDITIONAL
from regiofeed.spiders.oparl import OparlWalk, sniff_oparl
from regiofeed.spiders.pages import records_from_html_page, records_from_page
from regiofeed.spiders.pagination import find_next_page
from regiofeed.spiders.probes import ProbeLink, cms_probes, with_probes
from regiofeed.spiders.prose import tips_records
from regiofeed.spiders.regions import beside_article, has_headline, is_article_page, page_headline
from regiofeed.spiders.selectors import detail_facts
from regiofeed.spiders.sitemap import parse_sitemap
from regiofeed.spiders.teasers import TeaserFollower, is_teaser

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


class AutoSpider(TeaserFollower, SourceSpider):
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

    def _feed_records(self, response: Response, kind: str | None) -> list[Record] | None:
        """Read a feed or calendar response; None when it is none."""
        if kind == "ical":
            try:
                return records_from_ical(response.body, self.source, response.url)
            except ValueError:
                return None
        title: str | None = None
        if kind == "jsonfeed":
            try:
                entries = parse_json_feed(response.body)
            except NotAJsonFeed:
                return None
        elif kind in ("rss", "atom"):
            body, headers = feed_input(response)
            parsed, degraded = read_feed(body, headers, response.url)
            self.page_errors.extend(degraded)
            if not parsed.entries and not parsed.get("version"):
                return None
            entries = parsed.entries
            title = parsed.feed.get("title")
        else:
            return None
        source = as_event_feed(self.source, title, response.url, entries)
        records = []
        for entry in entries:
            found = records_from_entry(entry, source, response.url)
            if found and self.source.follow_teasers and is_teaser(entry):
                self.teaser_keys.add(found[0].key)
            records += found
        return records

    # -- step 2: feeds and calendars of the page

    def _discover(self, response: TextResponse, hop: int) -> Iterator[Any]:
        title = " ".join(response.css("title::text").get(default="").split())
        plan = choose_feeds(find_feeds(response.text, response.url), response.url, title)
        # Ask the CMS first: its feeds at their known addresses (spiders.probes).
        topic = page_topic(response.url, title)
        probes = [probe for probe in cms_probes(response.text, response.url, topic)
                  if not (topic == "news" and probe.family == "calendar")
                  and not (topic == "events" and probe.family == "feed")]
        if probes:
            plan = with_probes(plan, probes)
        if plan:
            yield from self._next_feed(_FeedAttempt(page=response, hop=hop, families=plan))
            return
        yield from self._without_feeds(response, hop)

    def _next_feed(self, attempt: _FeedAttempt) -> Iterator[Any]:
        while attempt.family < len(attempt.families):
            candidates = attempt.families[attempt.family]
            if attempt.index < min(len(candidates), _MAX_FEED_TRIES):
                feed = candidates[attempt.index]
                attempt.index += 1
                if feed.url in self.followed:
                    continue
                self.followed.add(feed.url)
                yield scrapy.Request(feed.url, callback=self.parse_feed,
                                     errback=self.on_feed_error, dont_filter=True,
                                     cb_kwargs={"attempt": attempt, "feed": feed},
                                     meta={CONDITIONAL: False})
                return
            attempt.family += 1
            attempt.index = 0
        if not attempt.used:
            yield from self._without_feeds(attempt.page, attempt.hop)

    def parse_feed(self, response: Response, attempt: _FeedAttempt, feed: FeedLink) -> Any:
        kind = sniff(response.body, _content_type(response))
        records = self._feed_records(response, kind) if kind in _FEED_KINDS else None
        if records:
            found = replace(feed, kind=kind or feed.kind)
            attempt.used.append(feed.url)
            prefix = _prefix(attempt.hop, attempt.page.url)
            self._note(f"feed {feed.url}",
                       f"{prefix}{found.describe()}, {_items(len(records))}"
                       f"{self._teasers_note()}")
            yield from self._emit_feed(records)
            attempt.family += 1
            attempt.index = 0
        else:
            self.tried.append(f"{feed.url}: {'no items' if records is not None else 'no feed'}")
            if isinstance(feed, ProbeLink):
                self.probe_misses.append(
                    f"{feed.describe()}: {'no items' if records is not None else 'no feed'}")
        yield from self._next_feed(attempt)

    def on_feed_error(self, failure: Failure) -> Iterator[Any]:
        self.tried.append(describe_failure(failure))
        feed = failure.request.cb_kwargs["feed"]
        if isinstance(feed, ProbeLink):
            self.probe_misses.append(f"{feed.describe()}: {describe_failure(failure)}")
        yield from self._next_feed(failure.request.cb_kwargs["attempt"])

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

    # -- step 4: sitemaps and sections of a home page

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

    # -- step 5: repeated blocks, detail pages, further list pages

    def _start_list(self, response: TextResponse, blocks: BlockList, hop: int,
                    home: bool = False) -> Iterator[Any]:
        heading = " ".join(" ".join(response.css("h1 ::text").getall()).split())
        # A home page's headings name the whole site's topics, not its list's.
        topic = None if home else page_topic(response.url, heading)
        event_list = self.source.item_kind == "event" or (
            self.source.item_kind is None and topic == "events")
        source = self.source
        if event_list and source.item_kind is None:
            # An events page lists events, not news announcing them.
            source = source.model_copy(update={"item_kind": "event"})
        state = _ListState(name=f"list {response.url}", signature=blocks.signature,
                           source=source, event_list=event_list, first=blocks,
                           prefix=_prefix(hop, response.url))
        state.seen.add(canonical_url(response.url))
        yield from self._list_page(response, blocks, state)

    def _list_page(self, response: TextResponse, blocks: BlockList,
                   state: _ListState) -> Iterator[Any]:
        state.pages += 1
        state.blocks += len(blocks.blocks)
        self._note(state.name, state.describe())
        today = date.today()
        for block in blocks.blocks:
            entry = _entry(block, state.event_list, today)
            if not block.link or urlsplit(block.link).path.lower().endswith(DOCUMENT_SUFFIXES):
                # A PDF or office file: the list says all we can read.
                yield from self._emit(records_from_page(state.source, entry, response.url))
                continue
            if block.link in self.followed:
                continue
            self.followed.add(block.link)
            yield response.follow(block.link, callback=self.parse_detail,
                                  errback=self.on_detail_error,
                                  cb_kwargs={"entry": entry, "list_url": response.url,
                                             "state": state})
        if state.pages >= self.source.max_pages:
            return
        exclude = {block.link for block in blocks.blocks if block.link}
        next_url = find_next_page(response.text, response.url, exclude=exclude)
        if next_url and canonical_url(next_url) not in state.seen:
            state.seen.add(canonical_url(next_url))
            # Further list pages are fetched in full: a 304 would not say which items they hold.
            yield scrapy.Request(next_url, callback=self.parse_list, errback=self.on_page_error,
                                 cb_kwargs={"state": state}, meta={CONDITIONAL: False})

    def parse_list(self, response: Response, state: _ListState) -> Iterator[Any]:
        response = repaired(response)
        if not isinstance(response, TextResponse):
            return
        blocks = find_list_blocks(response.text, response.url, signature=state.signature)
        if blocks is None:
            self.page_errors.append(f"no list found on the further page {response.url}")
            return
        yield from self._list_page(response, blocks, state)

    def parse_detail(self, response: Response, entry: ListEntry, list_url: str,
                     state: _ListState) -> Iterator[Any]:
        key = canonical_url(response.url)
        if self.not_modified(response, key=key):
            self.unchanged_keys.add(key + EVENT_KEY_SUFFIX)
            return
        response = repaired(response)
        if not isinstance(response, TextResponse):
            yield from self._emit(records_from_page(state.source, entry, list_url))
            return
        yield from self._emit(records_from_page(
            state.source, entry, list_url, detail_html=response.text, detail_url=response.url,
            detail=detail_facts(response, None),
        ))

    def on_detail_error(self, failure: Failure) -> Iterator[Any]:
        """A detail page failed: note it, and keep what the list page said."""
        self.on_page_error(failure)
        kwargs = failure.request.cb_kwargs
        yield from self._emit(records_from_page(kwargs["state"].source, kwargs["entry"],
                                                kwargs["list_url"]))

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
            return tips_records(main, response.text)
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
            records = tips_records(main, response.text) or records
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


def _visible_headline(records: list[Record], own: Record, html: str) -> list[Record]:
    """The page's schema.org Article with the headline the page shows, where the two differ
    (a CMS that keeps another article's data in its JSON-LD): readers see the page's."""
    headline = page_headline(html) if has_headline(html) else None
    if not headline or " ".join(headline.split()).casefold() == own.title.casefold():
        return records
    note = f"the page's schema.org headline is {own.title!r}; the page shows {headline!r}"
    fixed = own.model_copy(update={"title": headline, "notes": [*(own.notes or []), note]})
    return [fixed if record is own else record for record in records]


def _page_heading(response: TextResponse) -> str:
    return " ".join(" ".join(response.css("h1 ::text").getall()).split())


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
    r"(?<![\d.])(\d{1,2}\.?\s*(?:jan(?:uar)?|jän(?:ner)?|feb(?:ruar)?|märz|mär|apr(?:il)?|mai|"
    r"juni?|juli?|aug(?:ust)?|sept?(?:ember)?|okt(?:ober)?|nov(?:ember)?|dez(?:ember)?)\.?)"
    r"(?!\s*,?\s*\d{4})", re.IGNORECASE)


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

