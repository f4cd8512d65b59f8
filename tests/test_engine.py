"""The crawl engine against hostile sites on 127.0.0.1: each bound holds, the rest publishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawl_settings import FAST as BASE
from hostile import HostileServer

from regiofeed.flows.demo.server import Reply, Request, SiteServer, redirect, slow
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import CrawlSettings, Source
from regiofeed.spiders.engine import CrawlEngine
from regiofeed.spiders.offhost import HostRule

FAST = BASE.model_copy(update={"timeout": 30, "source_timeout": 4})
# For crawls that must succeed on fresh crawler processes of a busy machine.
ROOMY = FAST.model_copy(update={"source_timeout": 120})
ROOT = Path(__file__).resolve().parent.parent

NESTED_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rss version="2.0"><channel><title>Bombe</title>
<item><title>&i;</title><link>http://example.org/1</link></item></channel></rss>
"""
# Quadratic blow-up: no nesting, one 50 kB entity referenced 20,000 times (1 GB expanded).
QUADRATIC_BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x "' + b"x" * 50_000 + b'">]>\n'
    b'<rss version="2.0"><channel><title>Bombe</title><item><title>'
    + b"&x;" * 20_000 + b"</title><link>http://example.org/1</link></item></channel></rss>"
)


def source(url: str, sid: str, kind: str = "rss", **extra: object) -> Source:
    return Source.model_validate({
        "id": sid, "name": sid, "publisher": "Stadt Musterstadt", "url": url, "kind": kind,
        "licence": "dl-by-de/2.0", **extra,
    })


@pytest.fixture(scope="module")
def engine() -> Iterator[CrawlEngine]:
    with CrawlEngine(workers=2) as running:
        yield running


def crawl_with_good(engine: CrawlEngine, site: SiteServer, bad: Source,
                    settings: CrawlSettings = FAST) -> tuple[CrawlResult, CrawlResult]:
    """Crawl `bad` next to a good feed; the good one must come through whole."""
    good = source(site.url("/feeds/rss.xml"), "good")
    # The good source has time to spare even on a busy machine; the bad one has `settings`.
    roomy = settings.model_copy(update={"source_timeout": 120})
    results = {r.source_id: r for r in engine.crawl_many([(bad, settings, None),
                                                          (good, roomy, None)])}
    assert results["good"].ok, results["good"].error
    assert {r.title for r in results["good"].records} == {
        "Sommerfest im Stadtpark", "Neue Öffnungszeiten der Stadtbibliothek"}
    return results[bad.id], results["good"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but not yet reaped by its parent.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_many_sources_in_one_batch_each_keep_their_own_results(
        engine: CrawlEngine, site: SiteServer, unreachable_url: str) -> None:
    sources = [source(site.url("/feeds/rss.xml"), "rss"),
               source(site.url("/feeds/atom.xml"), "atom", kind="atom"),
               source(site.url("/errors/500/"), "broken"),
               source(unreachable_url + "feed/", "unreachable")]
    roomy = FAST.model_copy(update={"source_timeout": 60})
    results = {r.source_id: r for r in engine.crawl_many((s, roomy, None) for s in sources)}
    assert set(results) == {"rss", "atom", "broken", "unreachable"}
    assert results["rss"].ok and results["atom"].ok
    assert all(r.source_id == "rss" for r in results["rss"].records)
    assert not results["broken"].ok and "HTTP 500" in results["broken"].error
    assert not results["unreachable"].ok and "refused" in results["unreachable"].error


def test_a_stalling_site_is_cut_off_by_the_time_budget(engine: CrawlEngine,
                                                       site: SiteServer) -> None:
    with HostileServer() as hostile:
        started = time.monotonic()
        bad, _ = crawl_with_good(engine, site, source(hostile.url("/stall"), "stall"))
    # The budget ended it (a download timeout, 30 s here, would say "timed out").
    assert not bad.ok and "killed after 4 s" in bad.error
    assert time.monotonic() - started < 60


def test_a_trickling_site_is_cut_off_although_every_read_is_quick(engine: CrawlEngine,
                                                                  site: SiteServer) -> None:
    with HostileServer() as hostile:
        bad, _ = crawl_with_good(engine, site, source(hostile.url("/trickle"), "trickle"))
    assert not bad.ok and "killed after 4 s" in bad.error


def test_an_endless_body_is_cut_at_the_response_size_limit(engine: CrawlEngine,
                                                            site: SiteServer) -> None:
    small = FAST.model_copy(update={"max_bytes": 1_000_000})
    with HostileServer() as hostile:
        started = time.monotonic()
        bad, _ = crawl_with_good(engine, site, source(hostile.url("/endless"), "endless"), small)
    assert not bad.ok and bad.records == []
    assert time.monotonic() - started < 60  # generous: the machine may be busy


@pytest.mark.parametrize("body", [NESTED_BOMB, QUADRATIC_BOMB], ids=["nested", "quadratic"])
def test_xml_entity_expansion_is_refused(engine: CrawlEngine, fresh_site: SiteServer,
                                         body: bytes) -> None:
    fresh_site.set_file("/bomb.xml", body)
    started = time.monotonic()
    bad, _ = crawl_with_good(engine, fresh_site, source(fresh_site.url("/bomb.xml"), "bomb"))
    assert not bad.ok and "entit" in bad.error
    assert bad.records == []
    assert time.monotonic() - started < 60  # generous: the machine may be busy


def test_a_redirect_off_the_host_is_refused_and_recorded(
        engine: CrawlEngine, fresh_site: SiteServer, serve_site) -> None:
    elsewhere = serve_site()
    # "localhost" is another host name than the source's 127.0.0.1, as any foreign site is.
    fresh_site.route("/away.xml", redirect(f"http://localhost:{elsewhere.port}/feeds/rss.xml"))
    fresh_site.route("/moved.xml", redirect("/feeds/rss.xml"))
    bad, _ = crawl_with_good(engine, fresh_site, source(fresh_site.url("/away.xml"), "away"))
    assert not bad.ok and "off the source's host (localhost)" in bad.error
    assert elsewhere.hits("/feeds/rss.xml") == 0
    moved, _ = crawl_with_good(engine, fresh_site, source(fresh_site.url("/moved.xml"), "moved"))
    assert moved.ok, moved.error


def test_a_list_entry_on_another_host_is_kept_but_not_fetched(
        engine: CrawlEngine, fresh_site: SiteServer, serve_site) -> None:
    elsewhere = serve_site()
    foreign = f"http://localhost:{elsewhere.port}/aktuelles/neuer-spielplatz-am-stadtpark/"
    fresh_site.set_file("/liste/index.html", f"""<html><body><div class="news">
        <div class="article"><h3><a href="{foreign}">Fremder Beitrag</a></h3>
          <time datetime="2024-05-06">6. Mai 2024</time></div>
        <div class="article"><h3><a href="mailto:presse@example.org">Mail</a></h3>
          <time datetime="2024-05-07">7. Mai 2024</time></div>
        <div class="article"><h3><a href="/aktuelles/neuer-spielplatz-am-stadtpark/">Eigener
          Beitrag</a></h3><time datetime="2024-05-08">8. Mai 2024</time></div>
        </div></body></html>""")
    selectors = {"item": "div.news div.article", "title": "h3", "link": "h3 a::attr(href)",
                 "date": "time::attr(datetime)", "content": "div.news-text-wrap"}
    page = source(fresh_site.url("/liste/"), "liste", kind="html", selectors=selectors)
    result, _ = crawl_with_good(engine, fresh_site, page)
    assert result.ok, result.error
    assert elsewhere.hits("/aktuelles/neuer-spielplatz-am-stadtpark/") == 0
    urls = {r.url for r in result.records}
    assert foreign in urls
    assert fresh_site.url("/aktuelles/neuer-spielplatz-am-stadtpark/") in urls
    # Named as the source's own host, the other host is fetched.
    named = page.model_copy(update={"hosts": [f"localhost:{elsewhere.port}"]})
    result, _ = crawl_with_good(engine, fresh_site, named)
    assert result.ok and elsewhere.hits("/aktuelles/neuer-spielplatz-am-stadtpark/") == 1


def test_the_host_rule() -> None:
    rule = HostRule("http://stadt.example/aktuelles/")
    assert rule.may_fetch("https://www.stadt.example/x")  # www. and http -> https
    assert rule.refuses("https://evil.example/") == "off the source's host (evil.example)"
    assert rule.refuses("mailto:a@stadt.example") == "not an http(s) URL"
    rule = HostRule("https://stadt.example/", ["10.0.0.5", "cms.example"])
    assert rule.may_fetch("https://cms.example/feed")
    assert rule.refuses("http://10.0.0.5/") == "private address (10.0.0.5)"
    assert HostRule("http://127.0.0.1:8000/").may_fetch("http://127.0.0.1:8000/a")


def test_retry_after_defers_the_source_without_retrying(engine: CrawlEngine,
                                                        fresh_site: SiteServer) -> None:
    fresh_site.route("/busy.xml", Reply(status=429, headers={"Retry-After": "3600"}))
    bad, _ = crawl_with_good(engine, fresh_site, source(fresh_site.url("/busy.xml"), "busy"))
    assert not bad.ok and "Retry-After 3600 s" in bad.error
    assert bad.retry_after == 3600
    assert fresh_site.hits("/busy.xml") == 1


def test_an_empty_response_is_no_success(engine: CrawlEngine, fresh_site: SiteServer) -> None:
    fresh_site.route("/empty.xml", Reply(body=b"", content_type="application/rss+xml"))
    bad, _ = crawl_with_good(engine, fresh_site, source(fresh_site.url("/empty.xml"), "empty"))
    assert not bad.ok and "empty response" in bad.error


def test_a_killed_crawler_process_fails_its_sources_only(site: SiteServer) -> None:
    with HostileServer() as hostile, CrawlEngine(workers=1) as engine:
        slow = FAST.model_copy(update={"source_timeout": 60})
        jobs = [(source(hostile.url("/stall"), "stall"), slow, None)]
        killed: list[int] = []
        killer = threading.Thread(target=_kill_when_busy, args=(hostile, engine, killed))
        killer.start()
        results = list(engine.crawl_many(jobs))
        killer.join()
        assert killed and len(results) == 1
        assert not results[0].ok and "crawler process died" in results[0].error
        # The engine replaces the process: the next crawl works (a new process on a busy
        # machine may take seconds to start: the time budget is not what is tested here).
        good = engine.crawl_many([(source(site.url("/feeds/rss.xml"), "good"), ROOMY, None)])
        assert next(iter(good)).ok
        assert killed[0] not in engine.pids()
        assert not alive(killed[0])


def _kill_when_busy(hostile: HostileServer, engine: CrawlEngine, killed: list[int]) -> None:
    """SIGKILL the crawler process once it is inside the crawl of the stalling site."""
    deadline = time.monotonic() + 60
    while hostile.hits.get("/stall", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = engine.pids()
    if pids:
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])


def test_a_process_past_its_memory_limit_is_killed_and_the_run_goes_on(
        site: SiteServer) -> None:
    # 64 MB is less than Scrapy itself needs: the watchdog kills the process as it starts.
    with CrawlEngine(workers=1, memory_mb=64) as engine:
        results = list(engine.crawl_many([(source(site.url("/feeds/rss.xml"), "a"), FAST, None)]))
        assert len(results) == 1 and not results[0].ok
        assert "grew past 64 MB" in results[0].error
        assert engine.killed


def test_a_run_cut_short_returns_what_finished(engine: CrawlEngine, site: SiteServer) -> None:
    slow = FAST.model_copy(update={"source_timeout": 60})
    with HostileServer() as hostile:
        jobs = [(source(hostile.url("/stall"), "stall"), slow, None),
                (source(site.url("/feeds/rss.xml"), "good"), slow, None)]
        started = time.monotonic()
        results = {r.source_id: r for r in engine.crawl_many(jobs, deadline=started + 6)}
    assert time.monotonic() - started < 60  # generous: the machine may be busy
    assert results["good"].ok
    assert not results["stall"].ok and "run cut off" in results["stall"].error
    # The engine stays usable: the replaced process crawls the next batch.
    again = engine.crawl_many([(source(site.url("/feeds/atom.xml"), "atom", kind="atom"),
                                FAST, None)])
    assert next(iter(again)).ok


def test_nothing_outlives_a_parent_killed_with_sigkill(tmp_path: Path) -> None:
    with HostileServer() as hostile:
        script = textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from regiofeed.spiders.engine import CrawlEngine
            from regiofeed.models.sources import CrawlSettings, Source
            engine = CrawlEngine(workers=2)
            src = Source(id="s", name="s", publisher="p", url={hostile.url("/stall")!r},
                         kind="rss", licence="dl-by-de/2.0")
            results = engine.crawl_many([(src, CrawlSettings(source_timeout=300), None)])
            import threading
            threading.Thread(target=lambda: list(results), daemon=True).start()
            while len(engine.pids()) < 2:
                time.sleep(0.1)
            print(" ".join(map(str, engine.pids())), flush=True)
            time.sleep(300)
        """)
        parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                  text=True, cwd=ROOT)
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(pid) for pid in pids)
        deadline = time.monotonic() + 60
        while hostile.hits.get("/stall", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids)


def test_closing_the_engine_leaves_no_process(site: SiteServer) -> None:
    engine = CrawlEngine(workers=2)
    assert next(iter(engine.crawl_many(
        [(source(site.url("/feeds/rss.xml"), "good"), ROOMY, None)]))).ok
    pids = engine.pids()
    assert len(pids) == 2
    engine.close()
    assert not any(alive(pid) for pid in pids)



def test_an_engine_released_after_its_crawl_lets_its_processes_go(site: SiteServer) -> None:
    """A one-shot run's crawler processes end with its crawl, before storing and publishing."""
    with CrawlEngine(workers=2) as engine:
        engine.release_after_crawl()
        engine.start()
        pids = engine.pids()
        assert len(pids) == 2
        results = list(engine.crawl_many(
            [(source(site.url("/feeds/rss.xml"), "good"), ROOMY, None)]))
        assert [r.ok for r in results] == [True]
        assert engine.pids() == []
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in pids)


LIST_SELECTORS = {"item": "div.news-list-view div.article", "title": "h3",
                  "link": "h3 a::attr(href)", "date": "time::attr(datetime)",
                  "content": "div.news-text-wrap", "next": "li.next a::attr(href)"}


def test_the_byte_budget_of_a_source_fails_it(engine: CrawlEngine, site: SiteServer) -> None:
    tight = FAST.model_copy(update={"max_source_bytes": 3000, "source_timeout": 60})
    page = source(site.url("/aktuelles/"), "liste", kind="html", selectors=LIST_SELECTORS)
    bad, _ = crawl_with_good(engine, site, page, tight)
    assert not bad.ok and "byte budget of 3000 bytes spent" in bad.error


def test_the_page_budget_keeps_what_was_read_and_says_so(engine: CrawlEngine,
                                                         site: SiteServer) -> None:
    tight = FAST.model_copy(update={"max_source_pages": 3, "source_timeout": 60})
    page = source(site.url("/aktuelles/"), "liste", kind="html", selectors=LIST_SELECTORS)
    result, _ = crawl_with_good(engine, site, page, tight)
    assert result.ok, result.error
    assert "budget reached (pagecount)" in result.warnings
    assert result.pages <= 3 + 2  # responses already under way when the budget closed it


def test_two_sources_on_one_host_share_its_download_slot(fresh_site: SiteServer) -> None:
    """Politeness per host, not per source: one robots.txt, one request at a time."""
    arrived: dict[str, float] = {}

    def timed(path: str) -> object:
        def route(request: Request) -> Reply:
            arrived[path] = time.monotonic()
            return slow(1.0, file=path)
        return route

    for path in ("/feeds/rss.xml", "/feeds/atom.xml"):
        fresh_site.route(path, timed(path))
    one_at_a_time = FAST.model_copy(update={"concurrency_per_domain": 1, "source_timeout": 60})
    jobs = [(source(fresh_site.url("/feeds/rss.xml"), "rss"), one_at_a_time, None),
            (source(fresh_site.url("/feeds/atom.xml"), "atom", kind="atom"), one_at_a_time,
             None)]
    # Two processes: the engine could have split the sources; it keeps a host in one.
    with CrawlEngine(workers=2, sources_per_worker=4) as engine:
        results = {r.source_id: r for r in engine.crawl_many(jobs)}
    assert results["rss"].ok and results["atom"].ok, [r.error for r in results.values()]
    assert len(results["rss"].records) == len(results["atom"].records) == 2
    assert fresh_site.hits("/robots.txt") == 1  # once for the host, not once per source
    # Each feed answers after a second; the second request waited for the first's answer.
    assert abs(arrived["/feeds/rss.xml"] - arrived["/feeds/atom.xml"]) >= 0.9


def test_a_source_cut_off_gives_its_host_to_the_next_source(engine: CrawlEngine) -> None:
    """A stalled download ends with its source's budget, not at the (long) read timeout."""
    stalled = FAST.model_copy(update={"timeout": 120, "source_timeout": 3,
                                      "concurrency_per_domain": 1})
    patient = stalled.model_copy(update={"source_timeout": 60})
    with HostileServer() as hostile:
        started = time.monotonic()
        results = {r.source_id: r for r in engine.crawl_many([
            (source(hostile.url("/stall"), "stall"), stalled, None),
            (source(hostile.url("/nachher.xml"), "nachher"), patient, None)])}
        waited = time.monotonic() - started
    assert "killed after 3 s" in results["stall"].error
    # The host's next source was fetched (the hostile server answers it with 404) long before
    # the stalled request's read timeout of 120 s, or its own budget of 60 s.
    assert "HTTP 404" in results["nachher"].error, results["nachher"].error
    assert waited < 45
