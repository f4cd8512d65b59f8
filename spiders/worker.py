"""A long-lived crawler process: many sources at once in one Scrapy crawler, jobs over pipes.

Started by spiders.engine as `python -m regiofeed.spiders.worker`. Sources run on a shared
crawler (one per batch and set of crawl settings, spiders/dispatch.py), each with its own
spider object, collector and budgets (time, bytes, pages, records); a crawler left without
sources for a few seconds is closed.

It reads one JSON job per line on stdin ({"id", "source", "crawl", "validators", "batch"}) and
writes one JSON line per event on stdout: {"ready"} once, {"hb", "rss"} every second while the
reactor is alive, {"id", "result"} as each source's crawl ends. End of stdin (the parent closed
it, or died, even by kill -9) ends the process at once: nothing outlives the run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from typing import Any

from regiofeed.models.records import Record
from regiofeed.models.sources import CrawlSettings, Source

HEARTBEAT_S = 1.0


class _Collector:
    """Keeps one source's records, statuses and bytes, as the shared crawler reports them."""

    def __init__(self) -> None:
        self.records: dict[str, Any] = {}
        self.statuses: Counter[str] = Counter()
        self.bytes = 0
        self.parse_errors: list[str] = []

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, Record):
            # The same thing listed twice on a source (e.g. on two list pages) is one record.
            self.records.setdefault(item.key, item)

    def spider_error(self, failure: Any, response: Any) -> None:
        """A callback raised: the page could not be read; the health ledger counts it."""
        self.parse_errors.append(
            f"parse error: {type(failure.value).__name__}: {failure.value} at {response.url}")

    def response_received(self, response: Any) -> None:
        self.statuses[str(response.status)] += 1
        self.bytes += len(response.body)


def spider_class(kind: str) -> type:
    """The spider that reads one kind of source."""
    # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
    from regiofeed.spiders.auto import AutoSpider
    from regiofeed.spiders.feed import FeedSpider
    from regiofeed.spiders.html import HtmlListSpider
    from regiofeed.spiders.ical import IcalSpider
    from regiofeed.spiders.jsonld import JsonLdSpider
    from regiofeed.spiders.oparl import OparlSpider
    from regiofeed.spiders.sitemap import SitemapSpider

    return {"rss": FeedSpider, "atom": FeedSpider, "jsonfeed": FeedSpider,
            "html": HtmlListSpider, "ical": IcalSpider, "jsonld": JsonLdSpider,
            "sitemap": SitemapSpider, "auto": AutoSpider, "oparl": OparlSpider}[kind]


def _meta_of(message: Any) -> dict[str, Any]:
    """The meta of a request, a response or a download failure (what an errback's items and
    errors come with); {} when there is none."""
    try:
        return message.meta  # type: ignore[no-any-return]
    except AttributeError:
        request = getattr(message, "request", None)
        return getattr(request, "meta", None) or {}


class _Source:
    """One source's crawl on a shared crawler, with its own spider, collector and budgets."""

    def __init__(self, shared: _Shared, job: dict[str, Any]) -> None:
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from regiofeed.spiders.settings import user_agent

        self.shared = shared
        self.key = int(job["id"])
        self.source = Source.model_validate(job["source"])
        self.settings = CrawlSettings.model_validate(job["crawl"])
        self.user_agent = user_agent(self.source.contact or self.settings.contact)
        self.queued = 0
        self.validators: dict[str, dict[str, str]] = job.get("validators") or {}
        self.collector = _Collector()
        self.started_all = False
        self.done = False
        self.crash: str | None = None
        self.cut: str | None = None
        self.reason = "finished"
        self.spider: Any = None
        self.timer: Any = None
        self.deadline: float | None = None  # time.monotonic() when the time budget ends

    def start(self) -> None:
        """Make the source's spider and feed its start requests into the shared engine."""
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from scrapy.utils.defer import deferred_from_coro
        from twisted.internet import reactor

        # Our Scrapy components, likewise only inside a crawler process.
        from regiofeed.spiders.dispatch import SOURCE

        crawler = self.shared.crawler
        self.spider = spider_class(self.source.kind).from_crawler(crawler, source=self.source)
        self.spider.validators = self.validators
        self.shared.dispatcher.owned[self.key] = self  # type: ignore[assignment]
        # Total time, not per read: a site trickling one byte a second is cut off here too.
        self.deadline = time.monotonic() + self.settings.source_timeout
        self.timer = reactor.callLater(  # type: ignore[attr-defined]
            self.settings.source_timeout, self.finish,
            f"crawl killed after {self.settings.source_timeout:g} s (time budget)")

        async def feed() -> None:
            async for request in self.spider.start():
                if self.done:
                    return
                request.meta[SOURCE] = self.key
                crawler.engine.crawl(request)

        def fed(outcome: Any) -> None:
            # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
            from twisted.python.failure import Failure

            if isinstance(outcome, Failure):
                self.crash = f"{type(outcome.value).__name__}: {outcome.value}"
            self.started_all = True

        deferred_from_coro(feed()).addBoth(fed)

    # -- what the shared crawler reports for this source

    def response_received(self, response: Any) -> None:
        self.collector.response_received(response)
        if self.collector.bytes > self.settings.max_source_bytes:
            self.finish(f"source byte budget of {self.settings.max_source_bytes} bytes spent")
        elif sum(self.collector.statuses.values()) >= self.settings.max_source_pages:
            self.finish(None, "closespider_pagecount")

    def item_scraped(self, item: Any) -> None:
        self.collector.item_scraped(item)
        if len(self.collector.records) >= self.settings.max_source_records:
            self.finish(None, "closespider_itemcount")

    # -- the end

    def finish(self, cut: str | None, reason: str = "finished") -> None:
        """The source ends: naturally, at a page or record budget (`reason`), or `cut` short.

        Its result goes out at once; requests of it still queued are dropped, those under
        way are ignored when they come back.
        """
        if self.done:
            return
        self.done = True
        self.cut, self.reason = cut, reason
        self.shared.dispatcher.owned.pop(self.key, None)
        self.shared.sources.pop(self.key, None)
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        # Its downloads under way end now, not at their read timeouts: the host is free.
        downloader = getattr(self.shared.crawler.engine, "downloader", None)
        cancel = getattr(downloader, "cancel_source", None)
        if callable(cancel):
            cancel(self.key)
        closed = getattr(self.spider, "closed", None)
        if cut is None and callable(closed):
            try:
                closed(reason)
            except Exception as exc:  # the spider's own summing-up failed: the source did
                self.crash = f"{type(exc).__name__}: {exc}"
        self.shared.worker.send({"id": self.key, "result": self.result()})
        self.shared.worker.jobs.pop(self.key, None)

    def result(self) -> dict[str, Any]:
        """The result as plain JSON, independent of the order the pages came in."""
        spider = self.spider
        fatal = list(getattr(spider, "fatal_errors", []))
        if self.crash:
            fatal.append(f"crawl crashed: {self.crash}")
        if self.cut:
            fatal.append(self.cut)
        warnings = list(getattr(spider, "page_errors", [])) + self.collector.parse_errors
        if self.reason.startswith("closespider_"):
            # A page or record budget reached: what was read stands, the health says so.
            warnings.append(f"budget reached ({self.reason.removeprefix('closespider_')})")
        seen = getattr(spider, "validators_seen", {})
        # In the order they came (a feed's own order); the flow sorts before storing.
        records = list(self.collector.records.values())
        return {
            "not_modified": bool(getattr(spider, "entry_not_modified", False)),
            "unchanged_keys": sorted(getattr(spider, "unchanged_keys", set())),
            "incremental": bool(getattr(spider, "incremental", False)),
            "gone_keys": sorted(getattr(spider, "gone_keys", set())),
            "validators": dict(sorted(seen.items())),
            "discovered": getattr(spider, "discovered", None),
            "ok": not fatal,
            "error": "; ".join(fatal) or None,
            "warnings": sorted(set(warnings)),
            "retry_after": getattr(spider, "retry_after", None),
            "records": [r.model_dump(mode="json") for r in records],
            "statuses": dict(sorted(self.collector.statuses.items())),
            "pages": sum(self.collector.statuses.values()),
            "bytes": self.collector.bytes,
        }


# A crawler with no source left is closed after this long (its robots.txt cache and
# duplicate filter go with it); a run's next sources usually come sooner.
IDLE_CLOSE_S = 2.0
# How often the shared crawler is asked which sources have nothing left under way.
POLL_S = 0.05


class _Shared:
    """One Scrapy crawler of this process running many sources: those of one crawler key."""

    def __init__(self, worker: Worker, key: tuple[Any, ...], settings: CrawlSettings) -> None:
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from scrapy import signals
        from scrapy.crawler import Crawler
        from twisted.internet import task

        # Our Scrapy components, likewise only inside a crawler process.
        from regiofeed.spiders.dispatch import Dispatcher
        from regiofeed.spiders.settings import scrapy_settings

        self.worker = worker
        self.key = key
        self.sources: dict[int, _Source] = {}
        self.waiting: list[_Source] = []
        self.open = False
        self.idle_since: float | None = None
        self.crawler = Crawler(Dispatcher, scrapy_settings(settings))
        self.dispatcher: Any = None
        for receiver, signal in (
            (self._opened, signals.spider_opened),
            (self._item_scraped, signals.item_scraped),
            (self._response_received, signals.response_received),
            (self._spider_error, signals.spider_error),
        ):
            self.crawler.signals.connect(receiver, signal=signal)
        self.crawler.crawl().addBoth(self._ended)
        self.poll = task.LoopingCall(self._poll)
        self.poll.start(POLL_S, now=False)

    def add(self, source: _Source) -> None:
        self.sources[source.key] = source
        self.idle_since = None
        if self.open:
            self._begin(source)
        else:
            self.waiting.append(source)

    def _begin(self, source: _Source) -> None:
        try:
            source.start()
        except Exception as exc:  # a spider that cannot start fails its source alone
            source.crash = f"{type(exc).__name__}: {exc}"
            source.finish(None)

    def _opened(self, spider: Any) -> None:
        self.dispatcher = spider
        self.open = True
        for source in self.waiting:
            self._begin(source)
        self.waiting.clear()

    def _source_of(self, message: Any) -> _Source | None:
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from regiofeed.spiders.dispatch import SOURCE

        key = _meta_of(message).get(SOURCE)
        return self.sources.get(key) if key is not None else None

    def _item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        source = self._source_of(response)
        if source is not None:
            source.item_scraped(item)

    def _response_received(self, response: Any, request: Any, spider: Any) -> None:
        # Our Scrapy components, only inside a crawler process.
        from regiofeed.spiders.dispatch import ROBOTS_FOR

        source = self._source_of(request) or self.sources.get(
            _meta_of(request).get(ROBOTS_FOR, -1))
        if source is not None:
            source.response_received(response)

    def _spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        source = self._source_of(response)
        if source is not None:
            source.collector.spider_error(failure, response)

    def _poll(self) -> None:
        """End each source that has nothing queued and nothing under way any more."""
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from regiofeed.spiders.dispatch import SOURCE

        if not self.open:
            return
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if slot is None:
            return
        busy = Counter(request.meta.get(SOURCE) for request in slot.inprogress)
        for source in list(self.sources.values()):
            if source.started_all and source.queued <= 0 and not busy[source.key]:
                source.finish(None)
        if self.sources:
            return
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        elif now - self.idle_since > IDLE_CLOSE_S:
            self.close()

    def close(self) -> None:
        """Stop this crawler; the worker makes a new one when sources of its key come again."""
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from scrapy.utils.defer import deferred_from_coro

        self.worker.crawlers.pop(self.key, None)
        if self.poll.running:
            self.poll.stop()
        for source in list(self.sources.values()):
            source.finish("crawler stopped")
        with contextlib.suppress(Exception):
            deferred_from_coro(self.crawler.stop_async()).addErrback(lambda _failure: None)

    def _ended(self, outcome: Any) -> None:
        """The crawler stopped (closed, or it crashed): sources still on it fail."""
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from twisted.python.failure import Failure

        why = (f"crawl crashed: {type(outcome.value).__name__}: {outcome.value}"
               if isinstance(outcome, Failure) else "crawler stopped")
        self.worker.crawlers.pop(self.key, None)
        if self.poll.running:
            self.poll.stop()
        for source in list(self.sources.values()) + self.waiting:
            source.finish(why)
        self.waiting.clear()


class Worker:
    """The reactor side: starts sources handed over by the stdin thread, writes their results."""

    def __init__(self) -> None:
        self.jobs: dict[int, _Source] = {}
        self.crawlers: dict[tuple[Any, ...], _Shared] = {}
        self._out = sys.stdout.buffer
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False, default=str).encode() + b"\n"
        with self._lock:
            self._out.write(line)
            self._out.flush()

    def start_job(self, job: dict[str, Any]) -> None:
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from regiofeed.spiders.settings import crawler_key

        try:
            settings = CrawlSettings.model_validate(job["crawl"])
            # A batch (a run) gets crawlers of its own: robots.txt is read anew every run.
            key = (job.get("batch"), *crawler_key(settings))
            shared = self.crawlers.get(key)
            if shared is None:
                shared = self.crawlers[key] = _Shared(self, key, settings)
            running = _Source(shared, job)
            self.jobs[running.key] = running
            shared.add(running)
        except Exception as exc:  # a bad job fails alone
            self.jobs.pop(job.get("id"), None)  # type: ignore[arg-type]
            self.send({"id": job.get("id"), "result": {
                "ok": False, "error": f"crawl could not start: {type(exc).__name__}: {exc}"}})

    def heartbeat(self) -> None:
        self.send({"hb": time.time(), "rss": _rss_bytes(), "jobs": len(self.jobs)})


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _read_jobs(worker: Worker) -> None:
    """The stdin thread: each line a job; end of input means the parent is gone."""
    # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
    from twisted.internet import reactor

    for line in sys.stdin.buffer:
        if line.strip():
            reactor.callFromThread(worker.start_job, json.loads(line))  # type: ignore[attr-defined]
    os._exit(0)  # no clean-up: the parent is gone or done, and a hung reactor must not hold us


def main() -> None:
    # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
    from twisted.internet import reactor, task

    # Warnings and errors only, to stderr; the parent keeps the last lines for its messages.
    logging.basicConfig(level=os.environ.get("REGIOFEED_CRAWL_LOG", "WARNING"),
                        stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    # Import every spider before saying ready: the first job must not pay for it.
    for kind in ("rss", "auto", "html", "ical", "jsonld", "sitemap"):
        spider_class(kind)
    worker = Worker()
    threading.Thread(target=_read_jobs, args=(worker,), daemon=True).start()
    beat = task.LoopingCall(worker.heartbeat)
    beat.start(HEARTBEAT_S, now=False)
    worker.send({"ready": True, "pid": os.getpid()})
    reactor.run(installSignalHandlers=False)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
