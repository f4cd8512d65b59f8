"""The `aggregate` flow: crawl every source, store what was found, publish every format."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from regiofeed.flows import progress
from regiofeed.flows.notify import changes, notify
from regiofeed.flows.push_sva import push_sva
from regiofeed.models.berlin import BERLIN
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.pushed import push_health
from regiofeed.models.redact import has_credentials, redact_all
from regiofeed.models.sources import CrawlSettings, Source, SourcesConfig, is_due, load_sources
from regiofeed.models.store import DEFAULT_DB, Store
from regiofeed.models.store_crawls import SourceRunSummary
from regiofeed.models.tables import utcnow
from regiofeed.publish import PublishSettings, publish_all
from regiofeed.spiders.crawl import crawl_many
from regiofeed.spiders.engine import host_key


@dataclass
class RunReport:
    """What one run did: per-source summaries and the published files."""

    run_id: str
    sources: list[SourceRunSummary]
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [s.source_id for s in self.sources if not s.ok]


@task(name="load_sources", cache_policy=NO_CACHE)
def load_sources_task(sources_file: str) -> SourcesConfig:
    return load_sources(sources_file)


@task(name="crawl_sources", cache_policy=NO_CACHE)
def crawl_sources(
    sources: list[Source], settings: CrawlSettings, validators: list[dict[str, dict[str, str]]],
    seconds_left: float | None = None,
) -> list[CrawlResult]:
    """Crawl a batch of sources on this worker's crawl engine (a Dask worker keeps its
    crawler processes between runs); a broken site comes back as a failed result."""
    deadline = time.monotonic() + seconds_left if seconds_left is not None else None
    return list(crawl_many(sources, settings, validators, deadline=deadline))


class _Committer:
    """Stores crawl results as they come, in the order of the sources, not of their ends.

    Dedupe gives a new record the item of the first matching record stored, so the order of
    storing decides item ids: it follows the sources' order, whatever order crawls end in.
    A result is stored as soon as every source before it is stored; at the end (or when the run
    is cut off) the rest goes in, still in order.
    """

    def __init__(self, store: Store, run_id: str, due: list[Source]) -> None:
        self.store = store
        self.run_id = run_id
        self.order = {source.id: n for n, source in enumerate(due)}
        self.waiting: dict[int, tuple[CrawlResult, datetime]] = {}
        self.next = 0
        self.summaries: list[SourceRunSummary] = []
        self.logger = get_run_logger()

    def add(self, result: CrawlResult) -> None:
        _log_crawl(self.logger, result)
        progress.current().advance("crawl", result.source_id)
        started = utcnow() - timedelta(seconds=result.duration_s)
        # Within one source, too: records in key order, not in the order pages came in.
        result.records.sort(key=lambda record: record.key)
        self.waiting[self.order[result.source_id]] = (result, started)
        while self.next in self.waiting:
            self._store(*self.waiting.pop(self.next))
            self.next += 1

    def flush(self) -> None:
        for index in sorted(self.waiting):
            self._store(*self.waiting.pop(index))

    def _store(self, result: CrawlResult, started: datetime) -> None:
        summary = self.store.apply_crawl(self.run_id, result, started)
        progress.current().advance("store", result.source_id)
        self.logger.info("%s: %d new, %d changed, %d unchanged, %d gone", summary.source_id,
                         summary.new, summary.changed, summary.unchanged, summary.gone)
        self.summaries.append(summary)


def _log_crawl(logger: Any, result: CrawlResult) -> None:
    if result.ok and result.not_modified:
        logger.info("%s: not modified since the last run", result.source_id)
    elif result.ok:
        logger.info("%s: fetched %d pages, %d records in %.1f s", result.source_id,
                    result.pages, len(result.records), result.duration_s)
    else:
        logger.warning("%s: failed: %s", result.source_id, result.error)


def _uses_dask() -> bool:
    context = FlowRunContext.get()
    runner = getattr(context, "task_runner", None)
    return type(runner).__name__ == "DaskTaskRunner"


def _batches(due: list[Source], validators: list[dict[str, dict[str, str]]], size: int
             ) -> list[tuple[list[Source], list[dict[str, dict[str, str]]]]]:
    """Sources in batches of about `size`; one host's sources stay in one batch, so its
    politeness holds across the cluster."""
    by_host: dict[str, list[int]] = {}
    for n, source in enumerate(due):
        by_host.setdefault(host_key(source.url), []).append(n)
    batches: list[tuple[list[Source], list[dict[str, dict[str, str]]]]] = []
    current: list[int] = []
    for indices in by_host.values():
        current += indices
        if len(current) >= size:
            batches.append(([due[n] for n in current], [validators[n] for n in current]))
            current = []
    if current:
        batches.append(([due[n] for n in current], [validators[n] for n in current]))
    return batches


def _crawl_results(due: list[Source], settings: CrawlSettings,
                   validators: list[dict[str, dict[str, str]]], stop: threading.Event
                   ) -> Iterator[CrawlResult]:
    """Each due source's result as its crawl ends: here on this process's crawl engine, or in
    batches on Dask workers. Cut off by `run_timeout` or `stop` (SIGTERM)."""
    deadline = (time.monotonic() + settings.run_timeout) if settings.run_timeout else None
    if not _uses_dask():
        yield from crawl_many(due, settings, validators, deadline=deadline, stop=stop)
        return

    size = int(os.environ.get("REGIOFEED_CRAWL_BATCH", "50"))
    batches = _batches(due, validators, size)
    futures = [crawl_sources.submit(sources, settings, known, settings.run_timeout)
               for sources, known in batches]
    done: set[str] = set()
    try:
        for future in as_completed(futures, timeout=settings.run_timeout):
            try:
                results = future.result()
            except Exception as exc:  # isolate: a crashed batch fails its own sources only
                get_run_logger().error("a crawl batch crashed: %r", exc)
                continue
            for result in results:
                done.add(result.source_id)
                yield result
    except TimeoutError:
        get_run_logger().warning("run_timeout reached: the sources not crawled yet fail")
    for source in due:
        if source.id not in done:
            yield CrawlResult(source_id=source.id, ok=False,
                              error="crawl batch did not finish in this run")


@contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """SIGTERM during the crawl cuts it short: what finished is stored and published."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


@task(name="notify_changes", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def notify_changes(config: SourcesConfig, before: dict[str, Any], after: dict[str, Any]) -> int:
    """Tell operators which sources broke or recovered in this run; return how many changed."""
    found = changes(before, after, {s.id: s.name for s in config.sources})
    for change in found:
        get_run_logger().warning("%s", change.line())
    if notify(config.notify, found):
        raise RuntimeError("a notification could not be sent")  # retried by Prefect
    return len(found)


@task(name="publish_all", cache_policy=NO_CACHE)
def publish_store(db_url: str, out_dir: str, config: SourcesConfig) -> tuple[list[str], list[str]]:
    """Write every published format from the store, atomically, skipping unchanged files."""
    # No credentials of a source URL (user:password@) in any published file.
    sources = redact_all([
        {**s.model_dump(mode="json", exclude_none=True, exclude={"selectors", "max_pages"}),
         "licence": s.licence_uri}
        for s in config.sources
    ])
    options = config.publish.model_dump()
    # The environment wins, so one sources file can be published under several URLs.
    options["base_url"] = os.environ.get("REGIOFEED_BASE_URL") or options["base_url"]
    settings = PublishSettings(**options)
    # Read and write under one lock: two runs' publications never interleave.
    with Store(db_url) as store, store.lock("publish"):
        items = store.published_items(datetime.now(BERLIN).date())
        if any(has_credentials(s.url) for s in config.sources):  # rare: only then the cost
            items = redact_all(items)
        health = {
            "generated_by": "regiofeed",
            "sources": store.health([s.id for s in config.sources]),
        }
        if pushes := push_health(store.engine):
            health["push"] = pushes  # the last push to each system (flows/push_sva.py)
        report = publish_all(Path(out_dir), items, sources, health, settings)
    progress.current().advance("publish", f"{len(items)} items")
    get_run_logger().info("published %d files, %d unchanged", len(report.written),
                          len(report.unchanged))
    return [str(p) for p in report.written], [str(p) for p in report.unchanged]


@task(name="push_sva", cache_policy=NO_CACHE)
def push_sva_task(config: SourcesConfig, db_url: str, out_dir: str) -> bool:
    """Push new, changed and gone items to the Smart Village App; a failure is logged, and the
    next run goes on from what was sent."""
    report = push_sva(config.push.sva, db_url, out_dir=out_dir)  # type: ignore[arg-type]
    logger = get_run_logger()
    logger.info("sva: %d created, %d updated, %d removed, %d unchanged", report.created,
                report.updated, report.removed, report.unchanged)
    if report.error:
        logger.warning("sva: push failed: %s", report.error)
    return report.error is None


def select_sources(config: SourcesConfig, last_attempts: dict[str, datetime],
                   force: bool, only: list[str] | None,
                   deferred: dict[str, datetime] | None = None) -> list[Source]:
    """The sources this run crawls: those named in `only`, else all (force) or the due ones.

    A source whose server asked for a pause (`deferred`: Retry-After on 429/503) waits until
    then, even with `force`; naming it in `only` is the operator's explicit override.
    """
    if only:
        unknown = sorted(set(only) - {s.id for s in config.sources})
        if unknown:
            raise ValueError(f"no such source in the sources file: {', '.join(unknown)}")
        return [s for s in config.sources if s.id in only]
    now = utcnow()
    deferred = deferred or {}
    return [s for s in config.sources if s.id not in deferred
            and (force or is_due(s, last_attempts.get(s.id), now))]


def crawl_task_runner() -> Any:
    """Where crawl batches run: a Dask cluster when REGIOFEED_DASK_ADDRESS names its scheduler
    (workers on several machines, each with regiofeed installed), else threads here, where
    the flow crawls on its own process's crawl engine and only small tasks use them.

    Storing and publishing run in the flow's own process, next to the published tree.
    """
    address = os.environ.get("REGIOFEED_DASK_ADDRESS")
    if address:
        from prefect_dask import DaskTaskRunner  # the optional "cluster" extra

        return DaskTaskRunner(address=address)
    return ThreadPoolTaskRunner(max_workers=int(os.environ.get("REGIOFEED_CRAWLERS", "4")))


@flow(name="aggregate", task_runner=crawl_task_runner())
def aggregate(
    sources_file: str = "sources.toml",
    db_url: str = DEFAULT_DB,
    out_dir: str = "public",
    force: bool = False,
    only: list[str] | None = None,
) -> RunReport:
    """One run: load the sources, crawl the due ones on the crawl engine, store each source as
    its crawl ends (in source order), publish, and push where configured.

    `force` crawls every source whatever its schedule; `only` names the sources to crawl.
    """
    logger = get_run_logger()
    config = load_sources_task(sources_file)
    with Store(db_url) as store:
        store.sync_sources(config.sources)
        deferred = store.deferred(utcnow())
        due = select_sources(config, store.last_attempts(), force, only, deferred)
        validators = [store.validators(s.id) for s in due]
        run_id = store.begin_run()
    try:
        for stage, total in (("crawl", len(due)), ("store", len(due)), ("publish", 1)):
            progress.current().stage(stage, total)
        skipped = len(config.sources) - len(due)
        crawled = {source.id for source in due}
        for source_id, until in sorted(deferred.items()):
            if source_id not in crawled:
                logger.info("%s: deferred until %s (Retry-After)", source_id,
                            until.astimezone(BERLIN).isoformat(timespec="minutes"))
        if skipped:
            logger.info("%d of %d sources not due yet", skipped, len(config.sources))
        ids = [source.id for source in due]
        with Store(db_url) as store:
            before = store.health(ids)
            committer = _Committer(store, run_id, due)
            with _stop_on_sigterm() as stop:
                for result in _crawl_results(due, config.crawl, validators, stop):
                    committer.add(result)
            committer.flush()
            summaries = committer.summaries
            after = store.health(ids)
        if stop.is_set():
            logger.warning("SIGTERM: crawl cut short; publishing what finished")
        notified = notify_changes.submit(config, before, after)
        written, unchanged = publish_store(db_url, out_dir, config)
        notified.wait()  # a notification that failed after its retries is logged, not fatal
        if config.push.sva is not None:
            push_sva_task(config, db_url, out_dir)
        with Store(db_url) as store:
            store.finish_run(run_id, "ok" if all(s.ok for s in summaries) else "partial")
        return RunReport(run_id, summaries, written, unchanged)
    except BaseException:  # a crash, or Ctrl-C: the run says so in the store
        with Store(db_url) as store:
            store.finish_run(run_id, "failed")
        raise
