"""The `aggregate` flow: crawl every source, store what was found, publish every format."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from regiofeed.flows import progress
from regiofeed.flows.notify import changes, notify
from regiofeed.models.berlin import BERLIN
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.pushed import push_health
from regiofeed.models.redact import has_credentials, redact_all
from regiofeed.models.sources import CrawlSettings, Source, SourcesConfig, is_due, load_sources
from regiofeed.models.store import DEFAULT_DB, Store
from regiofeed.models.store_crawls import SourceRunSummary
from regiofeed.models.tables import utcnow
from regiofeed.publish import PublishSettings, publish_all
from regiofeed.spiders.crawl import crawl


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


@task(name="crawl_source", task_run_name="crawl_source-{source.id}", cache_policy=NO_CACHE)
def crawl_source(
    source: Source, settings: CrawlSettings, validators: dict[str, dict[str, str]]
) -> tuple[CrawlResult, datetime]:
    """Crawl one source; a broken site comes back as a failed result, never as an exception."""
    logger = get_run_logger()
    started = utcnow()
    result = crawl(source, settings, validators)
    progress.current().advance("crawl", source.id)
    if result.ok and result.not_modified:
        logger.info("%s: not modified since the last run", source.id)
    elif result.ok:
        logger.info("%s: fetched %d pages, %d records in %.1f s", source.id, result.pages,
                    len(result.records), result.duration_s)
    else:
        logger.warning("%s: failed: %s", source.id, result.error)
    return result, started


@task(name="store_records", cache_policy=NO_CACHE)
def store_records(db_url: str, run_id: str, crawled: list[tuple[CrawlResult, datetime]]
                  ) -> tuple[list[SourceRunSummary], dict[str, Any], dict[str, Any]]:
    """Store every crawl's records: new ones, revisions of changed ones, gone marks.

    Returns the summaries and the crawled sources' health before and after.
    """
    logger = get_run_logger()
    summaries = []
    ids = [result.source_id for result, _ in crawled]
    with Store(db_url) as store:
        before = store.health(ids)
        for result, started in crawled:
            summary = store.apply_crawl(run_id, result, started)
            progress.current().advance("store", result.source_id)
            logger.info("%s: %d new, %d changed, %d unchanged, %d gone", summary.source_id,
                        summary.new, summary.changed, summary.unchanged, summary.gone)
            summaries.append(summary)
        after = store.health(ids)
    return summaries, before, after


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
    from regiofeed.flows.push_sva import push_sva

    report = push_sva(config.push.sva, db_url, out_dir=out_dir)  # type: ignore[arg-type]
    logger = get_run_logger()
    logger.info("sva: %d created, %d updated, %d removed, %d unchanged", report.created,
                report.updated, report.removed, report.unchanged)
    if report.error:
        logger.warning("sva: push failed: %s", report.error)
    return report.error is None


def _outcome(source: Source, future: Any) -> tuple[CrawlResult, datetime]:
    """A crawl task that crashed (a bug, not a site) still fails alone."""
    started = utcnow()
    try:
        return future.result()
    except Exception as exc:  # isolate: every other source still publishes
        get_run_logger().error("%s: crawl task crashed: %r", source.id, exc)
        return CrawlResult(source_id=source.id, ok=False, error=f"crawl crashed: {exc!r}"), started


def select_sources(config: SourcesConfig, last_attempts: dict[str, datetime],
                   force: bool, only: list[str] | None) -> list[Source]:
    """The sources this run crawls: those named in `only`, else all (force) or the due ones."""
    if only:
        unknown = sorted(set(only) - {s.id for s in config.sources})
        if unknown:
            raise ValueError(f"no such source in the sources file: {', '.join(unknown)}")
        return [s for s in config.sources if s.id in only]
    now = utcnow()
    return [s for s in config.sources
            if force or is_due(s, last_attempts.get(s.id), now)]


def crawl_task_runner() -> Any:
    """Where crawl tasks run: a Dask cluster when REGIOFEED_DASK_ADDRESS names its scheduler
    (workers on several machines, each with regiofeed installed), else threads here.

    Only the mapped crawl tasks go through the runner; storing and publishing are called
    directly and run in the flow's own process, next to the published tree.
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
    """One run: load the sources, crawl each due one as its own task, store, publish.

    `force` crawls every source whatever its schedule; `only` names the sources to crawl.
    """
    logger = get_run_logger()
    config = load_sources_task(sources_file)
    with Store(db_url) as store:
        store.sync_sources(config.sources)
        due = select_sources(config, store.last_attempts(), force, only)
        validators = [store.validators(s.id) for s in due]
        run_id = store.begin_run()
    try:
        for stage, total in (("crawl", len(due)), ("store", len(due)), ("publish", 1)):
            progress.current().stage(stage, total)
        skipped = len(config.sources) - len(due)
        if skipped:
            logger.info("%d of %d sources not due yet", skipped, len(config.sources))
        futures = crawl_source.map(due, settings=unmapped(config.crawl), validators=validators)
        crawled = [_outcome(source, future) for source, future in zip(due, futures, strict=True)]
        summaries, before, after = store_records(db_url, run_id, crawled)
        notified = notify_changes.submit(config, before, after)
        written, unchanged = publish_store(db_url, out_dir, config)
        notified.wait()  # a notification that failed after its retries is logged, not fatal
        if config.push.sva is not None:
            push_sva_task(config, db_url, out_dir)
        with Store(db_url) as store:
            store.finish_run(run_id, "ok" if all(s.ok for s in summaries) else "partial")
        return RunReport(run_id, summaries, written, unchanged)
    except BaseException:  # a crash, SIGTERM or Ctrl-C: the run says so in the store
        with Store(db_url) as store:
            store.finish_run(run_id, "failed")
        raise
