"""Crawl sources and return, per source, its records and what happened (`CrawlResult`).

The crawling itself happens in long-lived crawler processes, many sources at once in each
(spiders/engine.py, spiders/worker.py); this module keeps the contract the flows and tests use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import CrawlSettings, Source
from regiofeed.spiders.engine import shared_engine


def crawl(
    source: Source,
    settings: CrawlSettings,
    validators: dict[str, dict[str, str]] | None = None,
) -> CrawlResult:
    """Crawl `source` on this process's crawl engine; never raise for a failure of the site.

    `validators` ({url: {"etag", "last_modified"}}) from the last run make requests
    conditional. The source is cut off after `settings.source_timeout` seconds.
    """
    return next(iter(crawl_many([source], settings, [validators or {}])))


def crawl_many(
    sources: Sequence[Source],
    settings: CrawlSettings,
    validators: Sequence[dict[str, dict[str, str]] | None] | None = None,
    deadline: float | None = None,
    stop: threading.Event | None = None,
) -> Iterator[CrawlResult]:
    """Crawl many sources at once; yield each one's result as its crawl ends.

    Runs on the engine of this process (spiders/engine.py), whose crawler processes stay up
    for later calls. `deadline` (time.monotonic()) and `stop` cut the batch short.
    """
    known = list(validators) if validators is not None else [None] * len(sources)
    jobs = [(source, settings, v) for source, v in zip(sources, known, strict=True)]
    return shared_engine(settings).crawl_many(jobs, deadline=deadline, stop=stop)
