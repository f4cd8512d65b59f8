"""A long-lived crawler process: many sources at once in one Twisted reactor, jobs over pipes.

Started by spiders.engine as `python -m spiders.worker`. It reads one JSON job per line on
stdin ({"id", "source", "crawl", "validators"}) and writes one JSON line per event on stdout:
{"ready"} once, {"hb", "rss"} every second while the reactor is alive, {"id", "result"} as each
source's crawl ends. End of stdin (the parent closed it, or died, even by kill -9) ends the
process at once: nothing outlives the run.
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
    """Keeps one source's records; connected by bound method (Scrapy holds receivers weakly)."""

    def __init__(self) -> None:
        self.records: dict[str, Any] = {}
        self.statuses: Counter[str] = Counter()
        self.bytes = 0
        self.parse_errors: list[str] = []
        self.close_reason: str | None = None
        self.over_bytes: Any = None  # set by the job: called when the byte budget is spent

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, Record):
            # The same thing listed twice on a source (e.g. on two list pages) is one record.
            self.records.setdefault(item.key, item)

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        """A callback raised: the page could not be read; the health ledger counts it."""
        self.parse_errors.append(
            f"parse error: {type(failure.value).__name__}: {failure.value} at {response.url}")

    def response_received(self, response: Any) -> None:
        self.statuses[str(response.status)] += 1
        self.bytes += len(response.body)
        if self.over_bytes is not None:
            self.over_bytes(self.bytes)

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.close_reason = reason


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


class _Job:
    """One source's crawl inside this process, with its time and byte budgets."""

    def __init__(self, worker: Worker, job: dict[str, Any]) -> None:
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from scrapy import signals
        from scrapy.crawler import Crawler

        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from regiofeed.spiders.settings import scrapy_settings

        self.worker = worker
        self.id = job["id"]
        self.source = Source.model_validate(job["source"])
        self.settings = CrawlSettings.model_validate(job["crawl"])
        self.collector = _Collector()
        self.cut: str | None = None
        self.done = False
        options = scrapy_settings(self.settings, self.source.contact)
        options["REGIOFEED_VALIDATORS"] = job.get("validators", {})
        self.crawler = Crawler(spider_class(self.source.kind), options)
        for receiver, signal in (
            (self.collector.item_scraped, signals.item_scraped),
            (self.collector.response_received, signals.response_received),
            (self.collector.spider_error, signals.spider_error),
            (self.collector.spider_closed, signals.spider_closed),
        ):
            self.crawler.signals.connect(receiver, signal=signal)
        self.collector.over_bytes = self._check_bytes

    def start(self) -> None:
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from twisted.internet import reactor

        # Total time, not per read: a site trickling one byte a second is cut off here too.
        self.timer = reactor.callLater(  # type: ignore[attr-defined]
            self.settings.source_timeout, self._cut,
            f"crawl killed after {self.settings.source_timeout:g} s (time budget)")
        deferred = self.crawler.crawl(source=self.source)
        deferred.addBoth(self._ended)

    def _check_bytes(self, total: int) -> None:
        if total > self.settings.max_source_bytes and self.cut is None:
            self._cut(f"source byte budget of {self.settings.max_source_bytes} bytes spent")

    def _cut(self, reason: str) -> None:
        """Stop this source now: its result goes out at once, the crawler closes behind it."""
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from scrapy.utils.defer import deferred_from_coro

        if self.done:
            return
        self.cut = reason
        self._emit()
        # The crawler may not have started yet; its end is ignored anyway.
        with contextlib.suppress(Exception):
            deferred_from_coro(self.crawler.stop_async()).addErrback(lambda _failure: None)

    def _ended(self, outcome: Any) -> None:
        # Scrapy and Twisted only inside a crawler process, after its reactor is chosen.
        from twisted.python.failure import Failure

        if isinstance(outcome, Failure):
            self.crash = f"{type(outcome.value).__name__}: {outcome.value}"
        if self.timer.active():
            self.timer.cancel()
        self._emit()
        self.worker.jobs.pop(self.id, None)

    def _emit(self) -> None:
        if self.done:
            return
        self.done = True
        self.worker.send({"id": self.id, "result": self.result()})

    def result(self) -> dict[str, Any]:
        """The result as plain JSON, independent of the order the pages came in."""
        spider = self.crawler.spider
        fatal = list(getattr(spider, "fatal_errors", []))
        crash = getattr(self, "crash", None)
        if crash:
            fatal.append(f"crawl crashed: {crash}")
        if self.cut:
            fatal.append(self.cut)
        warnings = list(getattr(spider, "page_errors", [])) + self.collector.parse_errors
        reason = self.collector.close_reason or ""
        if reason.startswith("closespider_"):
            # A page or record budget reached: what was read stands, the health says so.
            warnings.append(f"budget reached ({reason.removeprefix('closespider_')})")
        conditional = getattr(self.crawler, "regiofeed_conditional", None)
        # In the order they came (a feed's own order); the flow sorts before storing.
        records = list(self.collector.records.values())
        return {
            "not_modified": bool(getattr(spider, "entry_not_modified", False)),
            "unchanged_keys": sorted(getattr(spider, "unchanged_keys", set())),
            "incremental": bool(getattr(spider, "incremental", False)),
            "gone_keys": sorted(getattr(spider, "gone_keys", set())),
            "validators": dict(sorted(conditional.seen.items())) if conditional else {},
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


class Worker:
    """The reactor side: starts jobs handed over by the stdin thread, writes their results."""

    def __init__(self) -> None:
        self.jobs: dict[int, _Job] = {}
        self._out = sys.stdout.buffer
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False, default=str).encode() + b"\n"
        with self._lock:
            self._out.write(line)
            self._out.flush()

    def start_job(self, job: dict[str, Any]) -> None:
        try:
            running = _Job(self, job)
            self.jobs[running.id] = running
            running.start()
        except Exception as exc:  # a bad job fails alone
            self.jobs.pop(job.get("id"), None)
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
