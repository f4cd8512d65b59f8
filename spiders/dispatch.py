"""Many sources in one Scrapy crawler: each request carries its source, one slot per host.

A crawler process runs one long-lived `Crawler` (per crawl settings) whose spider is the
`Dispatcher`: it reads nothing itself. Each source gets its own spider object of its kind
(spiders/worker.py), whose start requests go into the shared engine; every request it makes
carries the source's key in `meta[SOURCE]` (stamped here), so Scrapy's scheduler and download
slots work across all sources, while records, statuses, budgets and errors stay per source.
The download slot is the host (without `www.`) and port: two sources on one host share one
slot, its delay and its concurrency, and one robots.txt.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy import Request, Spider
from scrapy.core.downloader import Downloader, Slot
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response

from regiofeed.models.records import Record
from regiofeed.models.sources import CrawlSettings
from regiofeed.spiders.engine import host_key

# Request.meta key: the key of the source a request belongs to.
SOURCE = "regiofeed_source"
# Request.meta key of a host's robots.txt: the first source that asked the host (its health
# counts the fetch; the rules serve every source on the host).
ROBOTS_FOR = "regiofeed_robots_for"


class Owned:
    """What the shared crawler knows of one running source (the worker's `_Source` is one)."""

    key: int
    spider: Spider
    settings: CrawlSettings
    user_agent: str
    queued: int = 0

    def item_scraped(self, item: Any) -> None:
        """A record the source's spider yielded: the source keeps it (and counts it)."""


class Dispatcher(scrapy.Spider):
    """The crawler's own spider: holds the running sources; never closes when idle."""

    name = "regiofeed"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owned: dict[int, Owned] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Dispatcher:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.keep_open, signal=scrapy.signals.spider_idle)
        return spider

    def keep_open(self, spider: Spider) -> None:
        raise DontCloseSpider  # sources come and go; the worker stops the crawler

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator that yields nothing: sources bring their own requests

    def _parse(self, response: Response, **kwargs: Any) -> Any:
        """A request without a callback: its own source's spider parses it."""
        owned = owner(response.request, self) if response.request is not None else None
        if owned is None:
            return None
        return owned._parse(response, **kwargs)


def owner(request: Request, spider: Spider | None) -> Any:
    """The spider of the source `request` belongs to; None if it has none or has finished.

    Outside a dispatching crawler (a spider crawled on its own), that is the spider itself.
    """
    owned = getattr(spider, "owned", None)
    if owned is None:
        return spider
    key = request.meta.get(SOURCE)
    entry = owned.get(key) if key is not None else None
    return entry.spider if entry is not None else None


def _callback_owner(request: Request, owned: dict[int, Owned]) -> int | None:
    """The source of a request made without the stamp: the spider its callback is bound to."""
    for method in (request.callback, request.errback):
        bound = getattr(method, "__self__", None)
        bound = getattr(bound, "spider", bound)  # a helper object of the spider (oparl)
        for key, entry in owned.items():
            if entry.spider is bound:
                return key
    return None


class SourceScheduler(Scheduler):
    """Counts each source's queued requests; drops those of a source that has finished."""

    def _owned(self) -> dict[int, Owned]:
        spider = self.crawler.spider if self.crawler is not None else None
        return getattr(spider, "owned", {})

    def enqueue_request(self, request: Request) -> bool:
        owned = self._owned()
        key = request.meta.get(SOURCE)
        if key is None and (request.callback is not None or request.errback is not None):
            key = _callback_owner(request, owned)
            if key is not None:
                request.meta[SOURCE] = key
        if key is not None and key not in owned:
            return False  # its source has finished (budget spent, cut off)
        if not super().enqueue_request(request):
            return False
        if key is not None:
            owned[key].queued += 1
        return True

    def next_request(self) -> Request | None:
        owned = self._owned()
        while True:
            request = super().next_request()
            if request is None:
                return None
            key = request.meta.get(SOURCE)
            if key is None:
                return request
            entry = owned.get(key)
            if entry is not None:
                entry.queued -= 1
                return request


class SourceDupeFilter(RFPDupeFilter):
    """Duplicate requests per source: two sources may each fetch the same page."""

    seen_by_source: set[bytes] | None = None

    def request_seen(self, request: Request) -> bool:
        if self.seen_by_source is None:
            self.seen_by_source = set()
        fingerprint = (self.fingerprinter.fingerprint(request)
                       + str(request.meta.get(SOURCE, "")).encode())
        if fingerprint in self.seen_by_source:
            return True
        self.seen_by_source.add(fingerprint)
        return False


class _TransferQueue(deque[tuple[Request, Any]]):
    """A download slot's queue whose requests count as transferring once taken from it."""

    def __init__(self, slot: Slot) -> None:
        super().__init__(slot.queue)
        self.slot = slot

    def popleft(self) -> tuple[Request, Any]:
        request, deferred = super().popleft()
        self.slot.transferring.add(request)
        return request, deferred


class HostDownloader(Downloader):
    """Scrapy's downloader, keeping a slot's concurrency also when requests come at once.

    Scrapy 2.19 takes requests off a slot's queue while `free_transfer_slots()` > 0, but a
    request joins `transferring` only when its download task starts: requests that reach a
    slot in one tick (those that waited for the host's robots.txt, say) all start together,
    past `CONCURRENT_REQUESTS_PER_DOMAIN`. Here a request counts from the moment it is taken.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # The downloads under way per source, and those cancelled because it ended.
        self._under_way: dict[int, set[asyncio.Future[Response]]] = {}
        self._cancelled: set[asyncio.Future[Response]] = set()

    def _get_slot(self, request: Request, spider: Spider | None = None) -> tuple[str, Slot]:
        key, slot = super()._get_slot(request)
        if not isinstance(slot.queue, _TransferQueue):
            slot.queue = _TransferQueue(slot)
        return key, slot

    async def _download(self, slot: Slot, request: Request) -> Response:
        """Download, unless the request's source has ended; cancellable by `cancel_source`."""
        key = request.meta.get(SOURCE)
        owned = getattr(self.crawler.spider, "owned", None)
        if key is None or owned is None:
            return await super()._download(slot, request)
        if key not in owned:
            # Queued in the host's slot when its source ended: it would hold the slot. It
            # counts as transferring since it left the queue (_TransferQueue); it ends here.
            slot.transferring.discard(request)
            self._process_queue(slot)
            raise IgnoreRequest("source finished")
        task = asyncio.ensure_future(super()._download(slot, request))
        tasks = self._under_way.setdefault(key, set())
        tasks.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            if task not in self._cancelled:
                raise
            raise IgnoreRequest("source finished") from None
        finally:
            tasks.discard(task)
            self._cancelled.discard(task)
            if not tasks:
                self._under_way.pop(key, None)

    def cancel_source(self, key: int) -> None:
        """The source has ended: drop its downloads under way, closing their connections, so
        that its host's slot goes to the next source now (a stalled or trickling download
        would hold it until its read timeout)."""
        for task in self._under_way.get(key, ()):
            self._cancelled.add(task)
            task.cancel()


# A download outlives its source's time budget by this much at most, should cancelling it
# when the source ends (HostDownloader.cancel_source) not reach it: the budget ends the source
# first (its health says so), then the download gives its host's slot to the next source.
PAST_BUDGET_S = 1.0


def _download_timeout(request: Request, settings: CrawlSettings, deadline: float | None
                      ) -> float:
    """The read timeout, but never past the source's time budget.

    Sources on one host share its slot: a stalled or trickling download of a source that was
    cut off would otherwise hold the slot, and starve the host's other sources, until the
    read timeout.
    """
    timeout = min(request.meta.get("download_timeout", settings.timeout), settings.timeout)
    if deadline is not None:
        timeout = min(timeout, max(deadline - time.monotonic(), 0.0) + PAST_BUDGET_S)
    return timeout


class SourceMiddleware:
    """A middleware of the shared crawler: finds the source a request belongs to."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def owner(self, request: Request) -> Any:
        """The spider of the request's source (see `owner`), None if finished or none."""
        return owner(request, self.crawler.spider)


class SourceStampMiddleware(SourceMiddleware):
    """Spider middleware: what a source's callback yields belongs to that source.

    A request is stamped with its source; a record goes to its source at once, which is what
    Scrapy's item processing would end in (the `item_scraped` signal), without its deferreds,
    signals and the other middlewares' layers for every record. (What an errback yields does
    not pass the spider middlewares; it still comes through the signal.)
    """

    def _stamp(self, response: Response, output: Any) -> bool:
        """Stamp a request, hand a record over; False if consumed or the source has finished."""
        owned = getattr(self.crawler.spider, "owned", None)
        key = response.meta.get(SOURCE) if owned is not None else None
        if key is None:
            return True
        entry = owned.get(key)  # type: ignore[union-attr]
        if entry is None:
            return False
        if isinstance(output, Request):
            output.meta.setdefault(SOURCE, key)
        elif isinstance(output, Record):
            entry.item_scraped(output)
            return False
        return True

    def process_spider_output(self, response: Response, result: Iterable[Any]
                              ) -> Iterator[Any]:
        for output in result:
            if self._stamp(response, output):
                yield output

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]
                                          ) -> AsyncIterator[Any]:
        async for output in result:
            if self._stamp(response, output):
                yield output


class SourceRequestMiddleware(SourceMiddleware):
    """Downloader middleware, first of all: the slot of the host, the source's own limits."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.first_source: dict[str, int] = {}  # netloc -> the first source that asked it

    def process_request(self, request: Request) -> None:
        # After a redirect too: the slot follows the URL, not the request it came from.
        request.meta["download_slot"] = host_key(request.url)
        owned = getattr(self.crawler.spider, "owned", None)
        key = request.meta.get(SOURCE)
        netloc = urlsplit(request.url).netloc
        if owned is None or key is None:
            # robots.txt, fetched once per host for every source on it, before the first
            # request to the host that passed here (the sources come first in, first out).
            if request.meta.get("dont_obey_robotstxt") and netloc in self.first_source:
                request.meta.setdefault(ROBOTS_FOR, self.first_source[netloc])
            return
        self.first_source.setdefault(netloc, key)
        entry = owned.get(key)
        if entry is None:
            raise IgnoreRequest("source finished")
        settings = entry.settings
        request.meta["download_timeout"] = _download_timeout(request, settings, entry.deadline)
        request.meta.setdefault("download_maxsize", settings.max_bytes)
        request.meta.setdefault("download_warnsize", min(settings.max_bytes, 2_000_000))
        request.headers.setdefault("User-Agent", entry.user_agent)
