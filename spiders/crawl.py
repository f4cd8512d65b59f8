"""Crawl one source in a child process and return its records and what happened.

Each crawl runs in its own Python process (`python -m spiders.crawl`): Twisted's reactor can
then start fresh every time, so a long-lived Prefect worker can run any number of crawls, in
parallel, and a hostile site that hangs or bloats the crawl is killed without harming the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.records import Record
from regiofeed.models.sources import CrawlSettings, Source

_RECORDS = TypeAdapter(list[Record])


def crawl(
    source: Source,
    settings: CrawlSettings,
    validators: dict[str, dict[str, str]] | None = None,
) -> CrawlResult:
    """Crawl `source` in a child process; never raise for a failure of the site itself.

    `validators` ({url: {"etag", "last_modified"}}) from the last run make requests
    conditional. The child is killed after `settings.source_timeout` seconds.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="regiofeed-crawl-") as tmp:
        job = Path(tmp) / "job.json"
        out = Path(tmp) / "result.json"
        job.write_text(json.dumps({
            "source": source.model_dump(mode="json"),
            "crawl": settings.model_dump(mode="json"),
            "validators": validators or {},
        }))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "regiofeed.spiders.crawl", str(job), str(out)],
                capture_output=True,
                timeout=settings.source_timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return CrawlResult(
                source_id=source.id,
                ok=False,
                error=f"crawl killed after {settings.source_timeout:g} s",
                duration_s=time.monotonic() - started,
            )
        if proc.returncode != 0 or not out.exists():
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            return CrawlResult(
                source_id=source.id,
                ok=False,
                error=f"crawl process failed (exit {proc.returncode}): " + " | ".join(tail),
                duration_s=time.monotonic() - started,
            )
        data = json.loads(out.read_text())
    return CrawlResult(
        source_id=source.id,
        ok=data["ok"],
        records=_RECORDS.validate_python(data["records"]),
        error=data.get("error"),
        warnings=data.get("warnings", []),
        statuses=data.get("statuses", {}),
        not_modified=data.get("not_modified", False),
        unchanged_keys=data.get("unchanged_keys", []),
        validators=data.get("validators", {}),
        incremental=data.get("incremental", False),
        gone_keys=data.get("gone_keys", []),
        discovered=data.get("discovered"),
        pages=data.get("pages", 0),
        bytes=data.get("bytes", 0),
        duration_s=time.monotonic() - started,
    )


class _Collector:
    """Keeps scraped records; connected by bound method because Scrapy holds receivers weakly."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.statuses: Counter[str] = Counter()
        self.bytes = 0
        self.parse_errors: list[str] = []

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


def _spider_class(kind: str) -> type:
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


def _run_in_this_process(job_path: Path, out_path: Path) -> None:
    """The child's side: run the spider with a fresh reactor and write the result as JSON."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from regiofeed.spiders.settings import scrapy_settings

    job = json.loads(job_path.read_text())
    source = Source.model_validate(job["source"])
    settings = CrawlSettings.model_validate(job["crawl"])
    collector = _Collector()
    options = scrapy_settings(settings, source.contact)
    options["REGIOFEED_VALIDATORS"] = job.get("validators", {})
    process = CrawlerProcess(options, install_root_handler=True)
    crawler = process.create_crawler(_spider_class(source.kind))
    crawler.signals.connect(collector.item_scraped, signal=signals.item_scraped)
    crawler.signals.connect(collector.response_received, signal=signals.response_received)
    crawler.signals.connect(collector.spider_error, signal=signals.spider_error)
    process.crawl(crawler, source=source)
    process.start()
    spider = crawler.spider
    fatal = list(getattr(spider, "fatal_errors", []))
    conditional = getattr(crawler, "regiofeed_conditional", None)
    result = {
        "not_modified": bool(getattr(spider, "entry_not_modified", False)),
        "unchanged_keys": sorted(getattr(spider, "unchanged_keys", set())),
        "validators": conditional.seen if conditional is not None else {},
        "incremental": bool(getattr(spider, "incremental", False)),
        "gone_keys": sorted(getattr(spider, "gone_keys", set())),
        "discovered": getattr(spider, "discovered", None),
        "ok": not fatal,
        "error": "; ".join(fatal) or None,
        "warnings": list(getattr(spider, "page_errors", [])) + collector.parse_errors,
        "records": [r.model_dump(mode="json") for r in collector.records.values()],
        "statuses": dict(collector.statuses),
        "pages": sum(collector.statuses.values()),
        "bytes": collector.bytes,
    }
    out_path.write_text(json.dumps(result))


if __name__ == "__main__":
    _run_in_this_process(Path(sys.argv[1]), Path(sys.argv[2]))
