"""The crawl engine: long-lived crawler processes, each crawling many sources in one reactor.

`CrawlEngine.crawl_many` hands sources to worker processes (spiders/worker.py) and yields each
source's `CrawlResult` as its crawl ends. Politeness is per host across the whole run: the
sources of one host run in one process, whose crawler has one download slot for that host (its
delay, concurrency and robots.txt, across sources: spiders/dispatch.py).
The watchdog is here, outside: a process that grows past its memory limit, stops sending
heartbeats, or keeps a source past its time budget is killed and replaced; the sources it had
fail, every other source goes on. A process never outlives its parent: it exits at the end of
its stdin, which the kernel closes when the parent dies, even by kill -9.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.records import Record
from regiofeed.models.sources import CrawlSettings, Source

_RECORDS = TypeAdapter(list[Record])
# A process gets this long to import Scrapy and the spiders before it counts as stalled.
STARTUP_S = 120.0
# A source may overrun its own time budget by this much before the process is deemed hung.
GRACE_S = 15.0
# A line of a Python warning on stderr ("…: ScrapyDeprecationWarning: …"); the next line is the
# source line it quotes.
WARNING_LINE = re.compile(r"\b\w*Warning: ")

Job = tuple[Source, CrawlSettings, dict[str, dict[str, str]] | None]


def host_key(url: str) -> str:
    """The politeness key of a URL: host without `www.`, and port.

    >>> host_key("https://www.Example.org/a") == host_key("https://example.org:443/b")
    True
    """
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        return url
    return f"{(parts.hostname or '').removeprefix('www.')}:{port}"


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


class _Hosts:
    """Which process crawls each host now, and for how many sources."""

    def __init__(self) -> None:
        self._by_host: dict[str, tuple[_Process, int]] = {}

    def where(self, host: str) -> _Process | None:
        entry = self._by_host.get(host)
        return entry[0] if entry is not None and not entry[0].dead else None

    def add(self, host: str, process: _Process) -> None:
        _known, count = self._by_host.get(host, (process, 0))
        self._by_host[host] = (process, count + 1)

    def discard(self, host: str) -> None:
        entry = self._by_host.get(host)
        if entry is None:
            return
        if entry[1] <= 1:
            del self._by_host[host]
        else:
            self._by_host[host] = (entry[0], entry[1] - 1)


@dataclass
class _Running:
    index: int
    source: Source
    settings: CrawlSettings
    host: str
    started: float


class _Process:
    """One worker process and the threads that read its output."""

    def __init__(self, number: int, inbox: queue.Queue[tuple[int, dict[str, Any] | None]]
                 ) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.number = number
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "regiofeed.spiders.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        self.started = time.monotonic()
        self.last_seen = self.started
        self.ready = False
        self.ready_at = 0.0
        self.rss = 0
        self.jobs: dict[int, _Running] = {}
        self.stderr: deque[str] = deque(maxlen=20)
        self.dead = False
        threading.Thread(target=self._read_out, args=(inbox,), daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self, inbox: queue.Queue[tuple[int, dict[str, Any] | None]]) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            # Arrival time, here: the consumer may be busy storing while messages queue up.
            self.last_seen = time.monotonic()
            try:
                inbox.put((self.number, json.loads(line)))
            except ValueError:
                self.stderr.append(line.decode("utf-8", "replace").strip()[:300])
        inbox.put((self.number, None))  # end of output: the process is gone

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace").rstrip()[:300])

    def send(self, message: dict[str, Any]) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def rss_now(self) -> int:
        """Resident memory read from /proc, not from the process (which may be hung)."""
        try:
            with open(f"/proc/{self.proc.pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return self.rss

    def kill(self) -> None:
        self.dead = True
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin,):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass

    def end_input(self) -> None:
        """End of stdin ends the process (after the job it has, if any)."""
        self.dead = True
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass

    def close(self, wait: float = 5.0) -> None:
        """End of stdin ends the process; kill it if it does not go."""
        self.end_input()
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self) -> str:
        """The last lines the process wrote that say why it ended: errors, not warnings.

        Libraries warn on stderr (Scrapy's deprecation notices, with the source line they
        quote); an operator reading health.json needs the error, not those.
        """
        lines = [line for line in self.stderr if line.strip()]
        previous = ["", *lines[:-1]] if lines else []
        kept = [line for line, before in zip(lines, previous, strict=True)
                if not WARNING_LINE.search(line) and not WARNING_LINE.search(before)]
        return " | ".join(kept[-3:])


def _exit_text(proc: subprocess.Popen[bytes]) -> str:
    """How a process ended, in words: "exit 1", "killed by SIGKILL"."""
    try:
        code = proc.wait(5)
    except subprocess.TimeoutExpired:
        return "no exit status"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit {code}"


class CrawlEngine:
    """A pool of crawler processes; `crawl_many` runs one batch of sources at a time."""

    def __init__(self, workers: int = 0, sources_per_worker: int = 32,
                 memory_mb: int = 1024, stall_s: float = 60.0) -> None:
        self.workers = workers or default_workers()
        self.sources_per_worker = sources_per_worker
        self.memory_bytes = memory_mb * 1024 * 1024
        self.stall_s = stall_s
        self._inbox: queue.Queue[tuple[int, dict[str, Any] | None]] = queue.Queue()
        self._procs: dict[int, _Process] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._job_ids = 0
        self._batch = 0  # each crawl_many call: a crawler process starts a fresh crawler for it
        self.killed: list[str] = []  # why processes were killed, for logs and tests
        self._release = False
        self._leaving: list[_Process] = []

    @classmethod
    def from_settings(cls, settings: CrawlSettings) -> CrawlEngine:
        return cls(settings.workers, settings.sources_per_worker, settings.worker_memory_mb,
                   settings.worker_stall)

    # -- processes -----------------------------------------------------------------------

    def _spawn(self) -> _Process:
        self._count += 1
        process = _Process(self._count, self._inbox)
        self._procs[process.number] = process
        return process

    def start(self) -> None:
        """Start the crawler processes now, without waiting for them: they import Scrapy while
        the caller does other work (a run boots Prefect meanwhile). Busy engines are left be."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            live = [p for p in self._procs.values() if not p.dead]
            while len(live) < self.workers:
                live.append(self._spawn())
        finally:
            self._lock.release()

    def pids(self) -> list[int]:
        return [p.proc.pid for p in self._procs.values() if not p.dead]

    def release_after_crawl(self) -> None:
        """Let the crawler processes end as soon as a batch of sources is crawled.

        A one-shot `regiofeed run` stores and publishes after its crawl; the crawler
        processes' memory (about 120 MB each) is better left to that than kept idle for a
        crawl that will not come. Long-lived workers keep theirs warm (the default).
        """
        self._release = True

    def close(self) -> None:
        for process in [*self._leaving, *self._procs.values()]:
            process.close()
        self._procs.clear()
        self._leaving.clear()

    def _let_go(self) -> None:
        """End of input ends each idle crawler process; reaped by close() (at exit)."""
        for process in self._procs.values():
            process.end_input()
            self._leaving.append(process)
        self._procs.clear()

    def __enter__(self) -> CrawlEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- crawling ------------------------------------------------------------------------

    def crawl_many(self, jobs: Iterable[Job], deadline: float | None = None,
                   stop: threading.Event | None = None) -> Iterator[CrawlResult]:
        """Crawl every job's source; yield each result as its crawl ends.

        `deadline` (time.monotonic()) or `stop` cut the run short: sources not finished by
        then come back failed ("run cut off"), and the processes that had them are replaced.
        """
        with self._lock:
            yield from self._crawl_many(list(jobs), deadline, stop)

    def _crawl_many(self, jobs: list[Job], deadline: float | None,
                    stop: threading.Event | None) -> Iterator[CrawlResult]:
        self._batch += 1
        pending: deque[tuple[int, Job]] = deque(enumerate(jobs))
        busy_hosts = _Hosts()
        owner: dict[int, _Process] = {}  # job index -> process
        try:
            yield from self._loop(pending, busy_hosts, owner, len(jobs), deadline, stop)
            if self._release:
                self._let_go()
        finally:
            # The caller stopped reading (or the run was cut): nothing of this batch may run
            # on into the next one.
            for process in {id(p): p for p in owner.values()}.values():
                process.kill()
                process.jobs.clear()
                self._procs.pop(process.number, None)

    def _loop(self, pending: deque[tuple[int, Job]], busy_hosts: _Hosts,
              owner: dict[int, _Process], left: int, deadline: float | None,
              stop: threading.Event | None) -> Iterator[CrawlResult]:
        while left:
            if (deadline is not None and time.monotonic() > deadline) or (
                    stop is not None and stop.is_set()):
                yield from self._cut_off(pending, owner)
                return
            self._dispatch(pending, busy_hosts, owner)
            finished: list[CrawlResult] = []
            try:
                messages = [self._inbox.get(timeout=0.25)]
            except queue.Empty:
                messages = []
            # Everything that has come in, before the watchdog judges anyone late.
            while True:
                try:
                    messages.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            for number, message in messages:
                finished += self._handle(number, message, owner, busy_hosts)
            finished += self._watchdog(owner, busy_hosts)
            for result in finished:
                left -= 1
                yield result

    def _handle(self, number: int, message: dict[str, Any] | None,
                owner: dict[int, _Process], busy_hosts: _Hosts) -> list[CrawlResult]:
        process = self._procs.get(number)
        if process is None:
            return []  # a process already replaced; its sources were failed then
        if message is None:
            return self._lost(process, owner, busy_hosts,
                              f"crawler process died ({_exit_text(process.proc)})")
        if message.get("ready"):
            process.ready = True
            process.ready_at = time.monotonic()
        elif "hb" in message:
            process.rss = int(message.get("rss") or 0)
        elif "result" in message:
            running = process.jobs.pop(message["id"], None)
            if running is not None:
                owner.pop(running.index, None)
                busy_hosts.discard(running.host)
                return [_result(running, message["result"])]
        return []

    def _dispatch(self, pending: deque[tuple[int, Job]], busy_hosts: _Hosts,
                  owner: dict[int, _Process]) -> None:
        """Hand waiting sources to processes with room, all sources of one host to one process."""
        live = [p for p in self._procs.values() if not p.dead]
        while len(live) < self.workers and pending:
            live.append(self._spawn())
        if not pending:
            return
        skipped: list[tuple[int, Job]] = []
        while pending:
            room = [p for p in live if len(p.jobs) < self.sources_per_worker]
            if not room:
                break
            index, (source, settings, validators) = pending.popleft()
            host = host_key(source.url)
            # The sources of one host go to one process, whose crawler keeps one download slot
            # (delay, concurrency, robots.txt) for that host across them.
            process = busy_hosts.where(host) or min(room, key=lambda p: len(p.jobs))
            if process not in room:
                skipped.append((index, (source, settings, validators)))
                continue
            self._job_ids += 1
            sent = process.send({
                "id": self._job_ids,
                "source": source.model_dump(mode="json"),
                "crawl": settings.model_dump(mode="json"),
                "validators": validators or {},
                "batch": self._batch,
            })
            if not sent:  # the process is gone; its end-of-output message will follow
                skipped.append((index, (source, settings, validators)))
                process.dead = True
                live.remove(process)
                continue
            process.jobs[self._job_ids] = _Running(index, source, settings, host,
                                                   time.monotonic())
            owner[index] = process
            busy_hosts.add(host, process)
        pending.extendleft(reversed(skipped))

    def _watchdog(self, owner: dict[int, _Process], busy_hosts: _Hosts) -> list[CrawlResult]:
        """Kill processes that grew too big, went silent, or hold a source past its budget."""
        failed: list[CrawlResult] = []
        now = time.monotonic()
        for process in list(self._procs.values()):
            if process.dead:
                continue
            why = None
            rss = process.rss_now()
            if rss > self.memory_bytes:
                why = f"crawler process grew past {self.memory_bytes // 2**20} MB"
            elif now - process.last_seen > (self.stall_s if process.ready else STARTUP_S):
                why = f"crawler process stopped answering for {self.stall_s:g} s"
            else:
                # A source's time counts from when the process could start it.
                late = [r for r in process.jobs.values() if process.ready and now - max(
                    r.started, process.ready_at) > r.settings.source_timeout + GRACE_S]
                if late:
                    why = (f"crawler process hung: {late[0].source.id} past its "
                           f"{late[0].settings.source_timeout:g} s budget")
            if why is not None:
                self.killed.append(why)
                process.kill()
                failed += self._lost(process, owner, busy_hosts, why)
        return failed

    def _lost(self, process: _Process, owner: dict[int, _Process], busy_hosts: _Hosts,
              why: str) -> list[CrawlResult]:
        """The process is gone: each source it had fails with the reason."""
        process.dead = True
        if process.proc.poll() is None:
            process.kill()
        self._procs.pop(process.number, None)
        tail = process.tail()
        failed = []
        for running in sorted(process.jobs.values(), key=lambda r: r.index):
            owner.pop(running.index, None)
            busy_hosts.discard(running.host)
            failed.append(CrawlResult(
                source_id=running.source.id, ok=False,
                error=why + (f": {tail}" if tail and "exit" in why else ""),
                duration_s=time.monotonic() - running.started))
        process.jobs.clear()
        return failed

    def _cut_off(self, pending: deque[tuple[int, Job]],
                 owner: dict[int, _Process]) -> Iterator[CrawlResult]:
        """The run's time is up: unfinished sources fail, their processes are replaced."""
        for process in {id(p): p for p in owner.values()}.values():
            self.killed.append("run cut off")
            process.kill()
            self._procs.pop(process.number, None)
        running = sorted((r for p in set(owner.values()) for r in p.jobs.values()),
                         key=lambda r: r.index)
        for process in set(owner.values()):
            process.jobs.clear()
        for item in running:
            yield CrawlResult(source_id=item.source.id, ok=False,
                              error="run cut off before this source finished",
                              duration_s=time.monotonic() - item.started)
        for _index, (source, _settings, _validators) in pending:
            yield CrawlResult(source_id=source.id, ok=False,
                              error="run cut off before this source started")


def _result(running: _Running, data: dict[str, Any]) -> CrawlResult:
    return CrawlResult(
        source_id=running.source.id,
        ok=bool(data.get("ok")),
        records=_RECORDS.validate_python(data.get("records", [])),
        error=data.get("error"),
        warnings=data.get("warnings", []),
        statuses=data.get("statuses", {}),
        not_modified=data.get("not_modified", False),
        unchanged_keys=data.get("unchanged_keys", []),
        incremental=data.get("incremental", False),
        gone_keys=data.get("gone_keys", []),
        validators=data.get("validators", {}),
        discovered=data.get("discovered"),
        pages=data.get("pages", 0),
        bytes=data.get("bytes", 0),
        duration_s=time.monotonic() - running.started,
        retry_after=data.get("retry_after"),
    )


_shared: CrawlEngine | None = None
_shared_lock = threading.Lock()


def shared_engine(settings: CrawlSettings | None = None) -> CrawlEngine:
    """The engine of this process, started on first use and closed at exit: a Prefect or Dask
    worker, or a test session, keeps its crawler processes warm across runs."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CrawlEngine.from_settings(settings or CrawlSettings())
            atexit.register(_close_shared)
        return _shared


def _close_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None
