"""Feeds of events through real crawls: item = event, its date the start, times, places and state
from the text and title; an event without a publication date is not published "now"."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.records import EventInfo, Record
from regiofeed.models.sources import Source, parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow
from regiofeed.publish.items import newest_first
from regiofeed.spiders.crawl import crawl

BERLIN = ZoneInfo("Europe/Berlin")
EVENTS = Path(__file__).parent / "sites" / "events"
BIRKENWERDER = Path(__file__).parent / "realworld" / "events" / "birkenwerder-veranstaltungen-rss"


def source(url: str, kind: str, **extra: object) -> Source:
    return Source.model_validate({"id": "termine", "name": "Musterdorf", "publisher": "Gemeinde",
                                  "url": url, "kind": kind, "licence": "dl-by-de/2.0", **extra})


@pytest.mark.parametrize("kind", ["rss", "auto"])
def test_town_event_feed_gives_one_event_per_item_with_times_and_state(serve_site,
                                                                       kind: str) -> None:
    server: SiteServer = serve_site(BIRKENWERDER)
    result = crawl(source(server.url("/veranstaltungen.rss"), kind), FAST)
    assert result.ok, result.error
    assert {r.kind for r in result.records} == {"event"}
    assert len(result.records) == 7  # no news twin of any event
    by_key = {r.key: r for r in result.records}
    cancelled = by_key["news-6217"]
    assert cancelled.event.status == "cancelled"
    assert (cancelled.event.start, cancelled.event.end) == (
        datetime(2021, 1, 5, 16, tzinfo=BERLIN), datetime(2021, 1, 5, 18, tzinfo=BERLIN))
    assert cancelled.date_published is None  # the item's date is the start
    assert by_key["news-6191"].event.status == "postponed"
    assert by_key["news-6340"].event.online is True
    assert by_key["news-6313"].event.status is None


@pytest.mark.parametrize("extra", [{}, {"item_kind": "event"}])
def test_feed_of_events_is_recognised_by_its_items(serve_site, extra: dict) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/feed/termine.xml"), "auto", **extra), FAST)
    assert result.ok, result.error
    by_title = {r.title: r for r in result.records}
    assert {r.kind for r in result.records} == {"event"}
    lantern = by_title["Laternenumzug"].event
    assert lantern.start == datetime(2024, 11, 8, 17, 30, tzinfo=BERLIN)
    assert lantern.location.name == "Kirchplatz"
    assert by_title["Herbstbasar fällt aus"].event.status == "cancelled"
    advent = by_title["Adventsmarkt"].event
    assert (advent.start, advent.all_day) == (date(2024, 12, 1), True)


def test_news_feed_mentioning_dates_stays_news(serve_site) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/feed/meldungen.xml"), "auto"), FAST)
    assert result.ok, result.error
    assert {r.kind for r in result.records} == {"news"}
    assert all(r.date_published is not None for r in result.records)


SOURCES = parse_sources("""
[[source]]
id = "termine"
name = "Termine"
publisher = "Gemeinde Musterdorf"
url = "https://musterdorf.example/termine.rss"
kind = "rss"
licence = "dl-by-de/2.0"
""").sources


def test_event_without_publication_date_sorts_by_its_start_not_as_published_now(
        db_url: str) -> None:
    store = Store(db_url)
    try:
        store.sync_sources(SOURCES)
        records = [
            Record(source_id="termine", key=f"e{day}", url=f"https://musterdorf.example/e{day}",
                   title=f"Termin am {day}.", kind="event",
                   event=EventInfo(start=datetime(2024, 11, day, 19, tzinfo=BERLIN)))
            for day in (8, 20)
        ] + [Record(source_id="termine", key="n", url="https://musterdorf.example/n",
                    title="Meldung", date_published=datetime(2024, 11, 10, tzinfo=BERLIN))]
        run_id = store.begin_run()
        store.apply_crawl(run_id, CrawlResult(source_id="termine", ok=True, records=records),
                          utcnow())
        items = store.items()
        events = [item for item in items if item["_regiofeed"]["kind"] == "event"]
        assert events and all("date_published" not in item for item in events)
        assert [item["title"] for item in newest_first(items)] == [
            "Termin am 20.", "Meldung", "Termin am 8."]
    finally:
        store.close()
