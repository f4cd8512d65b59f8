"""Crawl sources and return, per source, its records and what happened (`CrawlResult`).

The crawling itself happens in long-lived crawler processes, many sources at once in each
(spiders/engine.py, spiders/worker.py); this module keeps the contract the flows and tests use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from spiders.records import Record
from spiders.sources import CrawlSettings, Source


@dataclass
class CrawlResult:
    """What one source's crawl produced: records, or the reason it failed."""

    source_id: str
    ok: bool
    records: list[Record] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    # Conditional GET: the entry URL was not modified (every record unchanged), or these
    # records' pages were not; and the validators to send next time.
    not_modified: bool = False
    unchanged_keys: list[str] = field(default_factory=list)
    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    # What the spider found and read (auto-discovery), for health.json.
    discovered: str | None = None
    pages: int = 0
    bytes: int = 0
    duration_s: float = 0.0
    # 429/503 with Retry-After: the site asked to be left alone this many seconds.
    retry_after: float | None = None


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
    from spiders.engine import shared_engine

    known = list(validators) if validators is not None else [None] * len(sources)
    jobs = [(source, settings, v) for source, v in zip(sources, known, strict=True)]
    return shared_engine(settings).crawl_many(jobs, deadline=deadline, stop=stop)
