"""Scrapy settings for one source's crawl: polite defaults, limits, and quiet logging."""

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


def scrapy_settings(crawl: CrawlSettings, contact: str | None = None) -> dict[str, Any]:
    """Build the Scrapy settings for a crawl from the `[crawl]` table of sources.toml."""
    return {
        "BOT_NAME": "regiofeed",
        "USER_AGENT": user_agent(contact or crawl.contact),
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "DOWNLOAD_DELAY": crawl.delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "CONCURRENT_REQUESTS": max(4, crawl.concurrency_per_domain),
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
        # Off-host refusal before robots.txt (100) is asked; the guard sees a response before
        # RetryMiddleware (550) would retry a 429/503 that says Retry-After.
        "DOWNLOADER_MIDDLEWARES": {
            "regiofeed.spiders.offhost.OffHostMiddleware": 50,
            "regiofeed.spiders.budget.ResponseGuardMiddleware": 560,
            "regiofeed.spiders.middlewares.ConditionalGetMiddleware": 580,
        },
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
            "application/rss+xml,application/atom+xml,application/feed+json,*/*;q=0.8",
            "Accept-Language": "de,en;q=0.5",
        },
        # A hostile site cannot keep us for ever: page and record budgets besides the time and
        # byte budgets the worker keeps (spiders/worker.py).
        "CLOSESPIDER_PAGECOUNT": crawl.max_source_pages,
        "CLOSESPIDER_ITEMCOUNT": crawl.max_source_records,
        # Many sources share one process: no per-crawler stats dumps or memory extension.
        "STATS_DUMP": False,
        "MEMUSAGE_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "DEPTH_LIMIT": 10,
    }
