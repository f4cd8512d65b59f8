"""The `aggregate` flow: crawl every source, store what was found, publish every format."""

from __future__ import annotations

import contextvars
import os
import queue
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
from regiofeed.flows.notify import Change, changes, notify
from regiofeed.models.berlin import BERLIN
from regiofeed.models.candidates import forget_features
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.pushed import push_health
from regiofeed.models.redact import has_credentials, redact_all
from regiofeed.models.sources import (
    CrawlSettings,
    Source,
    SourcesConfig,
    load_sources,
    select_sources,
)
from regiofeed.models.store import DEFAULT_DB, Store
from regiofeed.models.store_crawls import SourceRunSummary
from regiofeed.models.tables import utcnow
from regiofeed.spiders.crawl import crawl_many
from regiofeed.spiders.engine import host_key

# Sources stored in one transaction at most: long enough to pay one commit for many 304
# answers, short enough that the store lock is never held for long.
_STORE_BATCH = 200


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

    Storing runs on a thread of its own, so the crawl engine's loop (which hands sources to the
    crawler processes and reads their results) never waits for dedupe. Every result that is
    ready in order when the thread looks goes into one transaction: a batch of 304 answers
    costs one commit, not one per source.
    """

    def __init__(self, store: Store, run_id: str, due: list[Source]) -> None:
        self.store = store
        self.run_id = run_id
        self.order = {source.id: n for n, source in enumerate(due)}
        self.inbox: queue.Queue[tuple[CrawlResult, datetime] | None] = queue.Queue()
        self.waiting: dict[int, tuple[CrawlResult, datetime]] = {}
        self.next = 0
        self.summaries: list[SourceRunSummary] = []
        self.before: dict[str, Any] = {}
        self.error: BaseException | None = None
        self.logger = get_run_logger()
        # In the flow's context: its Prefect settings (the API this run reports to) and run.
        # Without them the thread's first log line would boot a Prefect server of its own.
        context = contextvars.copy_context()
        self.thread = threading.Thread(target=context.run, args=(self._run,),
                                       name="regiofeed-store", daemon=True)
        self.thread.start()

    def add(self, result: CrawlResult) -> None:
        if self.error is not None:
            raise self.error
        _log_crawl(self.logger, result)
        progress.current().advance("crawl", result.source_id)
        started = utcnow() - timedelta(seconds=result.duration_s)
        self.inbox.put((result, started))

    def close(self) -> list[SourceRunSummary]:
        """Store what is left, in order; return every summary (raise what storing raised)."""
        self.inbox.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.summaries

    def _run(self) -> None:
        try:
            # The sources' health before this run (for notifications), read here: the
            # crawl starts meanwhile.
            self.before = self.store.health(list(self.order))
            while self._take():
                self._store(self._ready())
            # The end, or the run was cut off: the rest goes in, still in order.
            self._store([self.waiting.pop(n) for n in sorted(self.waiting)])
            forget_features()
        except BaseException as exc:  # handed to the flow's thread by add() and close()
            self.error = exc

    def _take(self) -> bool:
        """Move every result that has come in to `waiting`; False once the crawl is over."""
        more = True
        entry = self.inbox.get()
        while True:
            if entry is None:
                more = False
            else:
                result = entry[0]
                # Within one source, too: records in key order, not in the order pages came.
                result.records.sort(key=lambda record: record.key)
                self.waiting[self.order[result.source_id]] = entry
            try:
                entry = self.inbox.get_nowait()
            except queue.Empty:
                return more

    def _ready(self) -> list[tuple[CrawlResult, datetime]]:
        ready = []
        while self.next in self.waiting and len(ready) < _STORE_BATCH:
            ready.append(self.waiting.pop(self.next))
            self.next += 1
        return ready

    def _store(self, batch: list[tuple[CrawlResult, datetime]]) -> None:
        for start in range(0, len(batch), _STORE_BATCH):
            for summary in self.store.apply_crawls(self.run_id,
                                                   batch[start:start + _STORE_BATCH]):
                progress.current().advance("store", summary.source_id)
                if summary.new or summary.changed or summary.gone:
                    self.logger.info("%s: %d new, %d changed, %d unchanged, %d gone",
                                     summary.source_id, summary.new, summary.changed,
                                     summary.unchanged, summary.gone)
                self.summaries.append(summary)


def _log_crawl(logger: Any, result: CrawlResult) -> None:
    if result.ok and result.not_modified:
        # Debug: a warm run of 1,000 sources would send 1,000 such lines to the Prefect API.
        logger.debug("%s: not modified since the last run", result.source_id)
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
def notify_changes(config: SourcesConfig, found: list[Change]) -> int:
    """Tell operators which sources broke or recovered in this run; return how many changed."""
    for change in found:
        get_run_logger().warning("%s", change.line())
    if notify(config.notify, found):
        raise RuntimeError("a notification could not be sent")  # retried by Prefect
    return len(found)


@task(name="publish_all", cache_policy=NO_CACHE)
def publish_store(db_url: str, out_dir: str, config: SourcesConfig,
                  source_health: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Write every published format from the store, atomically, skipping unchanged files.

    `source_health` is the health ledger of every source, as the run left it.
    """
    # Loaded once the crawl is under way, not before it starts (fixed cost of a run).
    from regiofeed.publish import PublishSettings, publish_all, unchanged

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
    today = datetime.now(BERLIN).date()
    out = Path(out_dir)
    # Read and write under one lock: two runs' publications never interleave.
    with Store(db_url) as store, store.lock("publish"):
        health = {"generated_by": "regiofeed", "sources": source_health}
        if pushes := push_health(store.engine):
            health["push"] = pushes  # the last push to each system (flows/push_sva.py)
        fingerprint = unchanged.input_fingerprint(store.publication_marker(), sources, health,
                                                  settings, today)
        last = unchanged.rendered_from(out)
        if last is not None and last.get("fingerprint") == fingerprint:
            # Nothing a page shows has changed: every file but health.json would come out
            # byte for byte as it is, so none is rendered and no item is read.
            wrote = unchanged.write_health(out, health)
            files = [str(out / name) for name in last.get("files", [])]
            health_file = str(out / unchanged.HEALTH)
            written = [health_file] if wrote else []
            kept = [name for name in files if name not in written]
            progress.current().advance("publish", "unchanged")
            get_run_logger().info("published %d files, %d unchanged (nothing else to render)",
                                  len(written), len(kept))
            return written, kept
        items = store.published_items(today)
        if any(has_credentials(s.url) for s in config.sources):  # rare: only then the cost
            items = redact_all(items)
        unchanged.forget(out)
        report = publish_all(out, items, sources, health, settings, today=today)
        unchanged.remember(out, fingerprint, [*report.written, *report.unchanged])
    progress.current().advance("publish", f"{len(items)} items")
    get_run_logger().info("published %d files, %d unchanged", len(report.written),
                          len(report.unchanged))
    return [str(p) for p in report.written], [str(p) for p in report.unchanged]


@task(name="push_sva", cache_policy=NO_CACHE)
def push_sva_task(config: SourcesConfig, db_url: str, out_dir: str) -> bool:
    """Push new, changed and gone items to the Smart Village App; a failure is logged, and the
    next run goes on from what was sent."""
    # Loaded only where a push is configured.
    from regiofeed.flows.push_sva import push_sva

    report = push_sva(config.push.sva, db_url, out_dir=out_dir)  # type: ignore[arg-type]
    logger = get_run_logger()
    logger.info("sva: %d created, %d updated, %d removed, %d unchanged", report.created,
                report.updated, report.removed, report.unchanged)
    if report.error:
        logger.warning("sva: push failed: %s", report.error)
    return report.error is None


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
        validators = store.validators_of([s.id for s in due])
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
            committer = _Committer(store, run_id, due)
            try:
                with _stop_on_sigterm() as stop:
                    for result in _crawl_results(due, config.crawl, validators, stop):
                        committer.add(result)
            finally:
                summaries = committer.close()
            # Once, for notifications and health.json alike.
            health = store.health([s.id for s in config.sources])
        if stop.is_set():
            logger.warning("SIGTERM: crawl cut short; publishing what finished")
        found = changes(committer.before, {i: health[i] for i in ids},
                        {s.id: s.name for s in config.sources})
        # Only a run where a source broke or recovered pays for a notification task.
        notified = notify_changes.submit(config, found) if found else None
        written, unchanged = publish_store(db_url, out_dir, config, health)
        if notified is not None:
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
