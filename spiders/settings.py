"""Scrapy settings of a crawler process's shared crawler: polite defaults, limits, quiet logging.

One crawler runs many sources (spiders/dispatch.py); what differs per source (its contact,
timeouts, sizes, budgets) goes with each request or is kept by the worker (spiders/worker.py).
"""

from __future__ import annotations

from typing import Any

from regiofeed.models.sources import CrawlSettings

VERSION = "0.1"


def user_agent(contact: str) -> str:
    """Return the User-Agent that names regiofeed and where to reach its operator.

    >>> user_agent("https://example.org/kontakt")
    'regiofeed/0.1 (+https://example.org/kontakt)'
    """
    return f"regiofeed/{VERSION} (+{contact})"


def crawler_key(crawl: CrawlSettings) -> tuple[Any, ...]:
    """What sources must share to run in one crawler: the settings Scrapy keeps per crawler.

    >>> crawler_key(CrawlSettings(source_timeout=5)) == crawler_key(CrawlSettings())
    True
    """
    return (crawl.contact, crawl.obey_robots, crawl.delay, crawl.concurrency_per_domain,
            min(crawl.timeout, 20))


def scrapy_settings(crawl: CrawlSettings) -> dict[str, Any]:
    """Build the Scrapy settings of a shared crawler from the `[crawl]` table of sources.toml."""
    return {
        "BOT_NAME": "regiofeed",
        # robots.txt is asked with this one; a source's own contact goes with its requests.
        "USER_AGENT": user_agent(crawl.contact),
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        # Per download slot, which is a host (spiders/dispatch.py), across all its sources.
        "DOWNLOAD_DELAY": crawl.delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        # Hosts are limited per slot; the number of sources a process runs bounds the rest.
        "CONCURRENT_REQUESTS": 256,
        "SCHEDULER": "regiofeed.spiders.dispatch.SourceScheduler",
        "DOWNLOADER": "regiofeed.spiders.dispatch.HostDownloader",
        "DUPEFILTER_CLASS": "regiofeed.spiders.dispatch.SourceDupeFilter",
        # First come, first served: the sources of a host take its slot in the order they came
        # (Scrapy's default, last in first out, lets a later source go ahead of an earlier one).
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DNS_TIMEOUT": min(crawl.timeout, 20),
        "DOWNLOAD_MAXSIZE": crawl.max_bytes,
        "DOWNLOAD_WARNSIZE": min(crawl.max_bytes, 2_000_000),
        # Transient failures get two more tries; a 404 or a parse error none.
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_MAX_TIMES": 5,
        # Cookies are not needed to read public pages, and the middleware asks for the public
        # suffix list online (STACK.md).
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 opens a control server on localhost per crawl; nothing here uses it.
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "HTTPERROR_ALLOW_ALL": False,
        # 304 reaches the spider: it means "unchanged since the last run", not an error.
        "HTTPERROR_ALLOWED_CODES": [304],
        # The slot and the source's limits first; off-host refusal before robots.txt (100) is
        # asked; the guard sees a response before RetryMiddleware (550) would retry a 429/503
        # that says Retry-After.
        "DOWNLOADER_MIDDLEWARES": {
            # Scrapy's offsite filter allows everything for a spider without allowed_domains
            # (the dispatcher); OffHostMiddleware keeps each source on its own hosts.
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            # No source sends credentials: nothing sets HTTPAUTH_* or the http_user meta key.
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
            "regiofeed.spiders.dispatch.SourceRequestMiddleware": 40,
            "regiofeed.spiders.offhost.OffHostMiddleware": 50,
            "regiofeed.spiders.budget.ResponseGuardMiddleware": 560,
            "regiofeed.spiders.middlewares.ConditionalGetMiddleware": 580,
        },
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
            "application/rss+xml,application/atom+xml,application/feed+json,*/*;q=0.8",
            "Accept-Language": "de,en;q=0.5",
        },
        # MetaCopyDetectionMiddleware only warns about meta copied from a response; it
        # would add a layer to every request a callback yields.
        "SPIDER_MIDDLEWARES": {"regiofeed.spiders.dispatch.SourceStampMiddleware": 990,
                               "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware":
                               None},
        # The budgets of a source (time, bytes, pages, records) are kept per source by the
        # worker (spiders/worker.py), not by Scrapy's CloseSpider, which counts per crawler.
        # Many sources share one process: no per-crawler stats dumps or memory extension.
        "STATS_DUMP": False,
        "MEMUSAGE_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "DEPTH_LIMIT": 10,
        # Per-request costs nobody reads: the stats of a crawl are never dumped (the worker
        # keeps its own counts), and Scrapy's check of every callback's source for a
        # `return value` in a generator parses the callback's code with `ast` once per spider.
        "STATS_CLASS": "scrapy.statscollectors.DummyStatsCollector",
        "DOWNLOADER_STATS": False,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        # Scrapy starts this many asyncio tasks for every response's output, however little it
        # yields; our items go through no pipeline, so there is nothing to overlap.
        "CONCURRENT_ITEMS": 1,
    }
