"""Other projects' test data through our ingestion path: no crash, no hang, errors recorded.

Every file of the feedparser, W3C Feed Validator and python-icalendar test suites is served
over HTTP and read in-process by the functions the spiders call (records_from_feed,
records_from_ical); a sample of each goes through a real crawl in a child process.
"""

from __future__ import annotations

import signal
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from crawl_settings import CORPUS as CRAWL
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from shared import SHARED

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl
from regiofeed.spiders.feed import NotAFeed, records_from_feed
from regiofeed.spiders.ical import NotACalendar, records_from_ical

CORPORA = SHARED / "corpora"
FEED_CORPORA = ("feedparser", "w3c-feedvalidator")
ICAL_CORPORA = ("icalendar",)
NOT_DATA = {"README.md", "LICENSE.txt", "LICENSE", ".gitattributes"}
# Seconds one file may take to parse; far above the few milliseconds a file needs.
FILE_SECONDS = 10
# Each real crawl is a fresh Python process (~3 s of CPU for imports and the reactor): eight
# files per corpus keep the test within two minutes on two cores; the in-process pass covers
# every file.
SAMPLE_PER_CORPUS = 8
# The calendars' events lie between 1997 and 2026; windows around these days reach most of
# them, so that the event code runs on them, not just the parser.
ICAL_TODAYS = (None, date(1997, 9, 1), date(2005, 1, 1), date(2013, 1, 1), date(2021, 1, 1))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPORA.is_dir(), reason=f"shared corpora not found at {CORPORA}"),
]


class FileTimeout(Exception):
    """A file took longer than FILE_SECONDS to read."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (SIGALRM: main thread, Unix; what pytest runs in)."""
    def expire(_signum: int, _frame: object) -> None:
        raise FileTimeout(f"more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def corpus_files(names: tuple[str, ...]) -> list[Path]:
    return sorted(path for name in names for path in (CORPORA / name).rglob("*")
                  if path.is_file() and path.name not in NOT_DATA)


def kind_of(path: Path) -> str:
    if path.suffix in (".ics", ".jcal"):
        return "ical"
    return "jsonfeed" if path.suffix == ".json" else "rss"


def source_for(path: Path, url: str) -> Source:
    return Source(id="corpus", name="Korpus", publisher="Test", url=url, kind=kind_of(path),
                  licence="cc-zero")


def url_of(server: SiteServer, path: Path) -> str:
    return server.url(quote(path.relative_to(CORPORA).as_posix()))


def fetch(url: str) -> Response:
    """GET a URL as a Scrapy Response of the class Scrapy would choose (Html/Xml/Text)."""
    with urllib.request.urlopen(url, timeout=10) as reply:  # 127.0.0.1 only
        body, headers = reply.read(), dict(reply.headers.items())
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url=url, body=body, headers=headers, status=200)


def ingest(path: Path, response: Response) -> int:
    """Run the spider's parse path on one response; return the number of records."""
    source = source_for(path, response.url)
    if source.kind == "ical":
        return sum(len(records_from_ical(response.body, source, response.url, today=today))
                   for today in ICAL_TODAYS)
    return len(records_from_feed(response, source))


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[SiteServer]:
    with SiteServer(CORPORA) as server:
        yield server


@pytest.mark.parametrize("names", [FEED_CORPORA, ICAL_CORPORA], ids=["feeds", "icalendar"])
def test_every_corpus_file_is_read_or_refused_in_process(
    corpus_server: SiteServer, names: tuple[str, ...]
) -> None:
    counts: Counter[str] = Counter()
    crashes: list[str] = []
    for path in corpus_files(names):
        counts["files"] += 1
        response = fetch(url_of(corpus_server, path))
        try:
            with time_limit(FILE_SECONDS):
                found = ingest(path, response)
        except (NotAFeed, NotACalendar):
            counts["errors"] += 1  # what the spider records as the source's error
            continue
        except FileTimeout as exc:
            crashes.append(f"{path.relative_to(CORPORA)}: hangs ({exc})")
            continue
        except Exception as exc:  # the point of this test: nothing else may escape
            crashes.append(f"{path.relative_to(CORPORA)}: {type(exc).__name__}: {exc}")
            continue
        counts["records"] += found
        counts["with records" if found else "empty"] += 1
    print(f"{'+'.join(names)}: {counts['files']} files, {counts['records']} records from "
          f"{counts['with records']} files, {counts['empty']} readable but empty, "
          f"{counts['errors']} recorded errors")
    assert not crashes, "\n".join(crashes[:20])
    assert counts["files"] == counts["with records"] + counts["empty"] + counts["errors"]
    assert counts["with records"] > 0 and counts["errors"] > 0


def _sample(names: tuple[str, ...]) -> list[Path]:
    files = corpus_files(names)
    step = max(1, len(files) // SAMPLE_PER_CORPUS)
    return files[::step][:SAMPLE_PER_CORPUS]


def test_a_sample_of_each_corpus_survives_a_real_crawl(corpus_server: SiteServer) -> None:
    sample = [path for names in (("feedparser",), ("w3c-feedvalidator",), ICAL_CORPORA)
              for path in _sample(names)]

    def run(path: Path) -> tuple[Path, CrawlResult]:
        url = url_of(corpus_server, path)
        return path, crawl(source_for(path, url), CRAWL)

    # Each crawl is its own process; a few at a time keep two cores busy.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, sample))
    counts: Counter[str] = Counter()
    for path, result in results:
        where = path.relative_to(CORPORA)
        assert result.error is None or not result.error.startswith(
            ("crawl process failed", "crawl killed")), f"{where}: {result.error}"
        assert result.ok or result.error, f"{where}: failed without a recorded error"
        counts["records"] += len(result.records)
        counts["ok" if result.ok else "errors"] += 1
    print(f"real crawls: {len(results)} files, {counts['ok']} read "
          f"({counts['records']} records), {counts['errors']} recorded errors")
    assert len(results) >= 3 * SAMPLE_PER_CORPUS - 3
