"""kind = "auto" through real crawls: every discovery path, what it reports, and its failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import Reply, SiteServer, render_demo_sources
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import Source, parse_sources
from regiofeed.spiders.crawl import crawl

AUTO = Path(__file__).parent / "sites" / "auto"


def auto(url: str, **extra: object) -> Source:
    return Source.model_validate({
        "id": "test-auto", "name": "Musterdorf", "publisher": "Gemeinde Musterdorf",
        "url": url, "kind": "auto", "licence": "dl-by-de/2.0", **extra,
    })


def by_key(result: CrawlResult) -> dict:
    return {record.key: record for record in result.records}


@pytest.fixture
def server(serve_site) -> Iterator:
    """serve_site for one of tests/sites/auto/<name>/."""
    yield lambda name, routes=None: serve_site(AUTO / name, routes)


def test_advertised_feed_is_read_and_the_comments_feed_is_not(server) -> None:
    site: SiteServer = server("advertised")
    result = crawl(auto(site.url("/")), FAST)
    assert result.ok, result.error
    assert [r.title for r in result.records] == ["Backofenfest am Dorfanger",
                                                 "Neue Bänke am Rundweg"]
    assert result.records[0].key == site.url("/?p=12")
    assert result.discovered == (
        f"RSS feed {site.url('/feed/')} (advertised in <link rel=alternate>), 2 items")
    assert site.hits("/comments/feed/") == 0


def test_source_url_that_is_a_feed_is_read_as_one(server) -> None:
    site: SiteServer = server("advertised")
    result = crawl(auto(site.url("/feed/")), FAST)
    assert result.ok, result.error
    assert len(result.records) == 2
    assert result.discovered == f"RSS feed {site.url('/feed/')} (the source URL itself), 2 items"


def test_feed_linked_in_the_page_wins_over_its_list(server) -> None:
    site: SiteServer = server("linked")
    result = crawl(auto(site.url("/aktuelles/")), FAST)
    assert result.ok, result.error
    assert {r.key: r.title for r in result.records} == {
        site.url("/aktuelles/schulweg.html"): "Sicherer Schulweg",
        site.url("/aktuelles/wasser.html"): "Trinkwasser wieder frei",
    }
    assert result.discovered == (
        f"RSS feed {site.url('/aktuelles/rss.xml')} (linked in the page), 2 items")
    assert site.hits("/aktuelles/schulweg.html") == 0  # the feed says it all


def _calendar(start: datetime) -> bytes:
    stamp = start.strftime("%Y%m%dT%H%M%S")
    end = (start + timedelta(hours=8)).strftime("%Y%m%dT%H%M%S")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Amt Musterdorf//Termine//DE\r\n"
        "BEGIN:VEVENT\r\nUID:termin-7@musterdorf.example\r\nDTSTAMP:20240601T080000Z\r\n"
        f"DTSTART;TZID=Europe/Berlin:{stamp}\r\nDTEND;TZID=Europe/Berlin:{end}\r\n"
        "SUMMARY:Sommerfest am Amtshaus\r\n"
        "LOCATION:Amtshaus Musterdorf\\, Hauptstraße 1\\, 14827 Musterdorf\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_calendar_linked_as_ical_gives_its_events(server) -> None:
    # A calendar's events are read in a window around today: the event is next month's.
    start = datetime.combine(date.today() + timedelta(days=30), datetime.min.time()).replace(
        hour=14)
    site: SiteServer = server("linked", {"/termine/kalender.ics": Reply(
        body=_calendar(start), content_type="text/calendar; charset=utf-8")})
    result = crawl(auto(site.url("/termine/")), FAST)
    assert result.ok, result.error
    [event] = result.records
    assert (event.kind, event.title) == ("event", "Sommerfest am Amtshaus")
    assert event.event.start.replace(tzinfo=None) == start
    assert event.event.location.locality == "Musterdorf"
    assert result.discovered == (
        f"iCalendar {site.url('/termine/kalender.ics')} (linked in the page), 1 item")


def test_schema_org_events_on_the_page(server) -> None:
    site: SiteServer = server("structured")
    result = crawl(auto(site.url("/veranstaltungen/")), FAST)
    assert result.ok, result.error
    records = by_key(result)
    konzert = records[site.url("/veranstaltungen/sommerkonzert/")]
    assert konzert.kind == "event"
    assert konzert.event.start.isoformat() == "2024-06-22T19:00:00+02:00"
    assert konzert.event.end.isoformat() == "2024-06-22T21:00:00+02:00"
    assert konzert.event.location.street == "Kirchweg 2"
    lesung = records[site.url("/veranstaltungen/lesung/")]
    assert (lesung.event.start, lesung.event.all_day) == (date(2024, 7, 5), True)
    assert len(records) == 2
    assert result.discovered == (
        f"schema.org data on {site.url('/veranstaltungen/')} (2 events); 1 page")


def test_home_page_without_feeds_reads_the_news_pages_of_its_sitemap(server) -> None:
    site: SiteServer = server("sitemap")
    result = crawl(auto(site.url("/")), FAST)
    assert result.ok, result.error
    records = by_key(result)
    assert {key: r.title for key, r in records.items()} == {
        site.url("/aktuelles/meldung-eins/"): "Glasfaser für alle Ortsteile",
        site.url("/aktuelles/meldung-zwei/"): "Neuer Ortswehrführer",
    }
    assert records[site.url("/aktuelles/meldung-eins/")].date_published.isoformat() == (
        "2024-06-04T10:00:00+02:00")
    assert result.discovered == (
        f"2 news and events pages of the sitemap {site.url('/sitemap.xml')}")
    assert site.hits("/impressum/") == 0


def test_repeated_blocks_are_followed_to_details_and_further_pages(server) -> None:
    site: SiteServer = server("blocks")
    result = crawl(auto(site.url("/nachrichten/")), FAST)
    assert result.ok, result.error
    records = by_key(result)
    titles = {key.removeprefix(site.url("/nachrichten/")): r.title for key, r in records.items()}
    assert titles == {
        "neue-kita-eroeffnet/": "Neue Kita in Lübnitz eröffnet",
        "dorffest-2024/": "Dorffest 2024: Helfer gesucht",
        "dorffest-2024/#event": "Dorffest 2024: Helfer gesucht",
        # "21.05.2024: Sanierung …" in the list: the date left the title.
        "strassensanierung/": "Sanierung der Dorfstraße beginnt",
        "ortsbeirat-gewaehlt/": "Ortsbeirat neu gewählt",  # from page 2
    }
    kita = records[site.url("/nachrichten/neue-kita-eroeffnet/")]
    assert (kita.kind, kita.date_published) == ("news", date(2024, 6, 4))
    assert "40 Kindern Platz" in kita.content_text
    assert records[site.url("/nachrichten/strassensanierung/")].date_published == date(2024, 5, 21)
    # A news page that announces an event: the event is its own record.
    fest = records[site.url("/nachrichten/dorffest-2024/") + "#event"]
    assert fest.event.start.isoformat() == "2024-07-13T14:00:00+02:00"
    assert fest.event.location.street == "Hauptstraße 5"
    assert result.discovered == (
        "list of 4 blocks ul.newslist > li with title a, date span.datum; 2 pages")
    assert site.hits("/impressum/") == 0


def test_a_list_of_termine_is_read_as_events(server) -> None:
    site: SiteServer = server("blocks")
    result = crawl(auto(site.url("/termine/")), FAST)
    assert result.ok, result.error
    records = by_key(result)
    assert set(records) == {site.url("/termine/kinderfest/"), site.url("/termine/orgelkonzert/")}
    kinderfest = records[site.url("/termine/kinderfest/")]
    assert kinderfest.kind == "event"
    assert kinderfest.event.start.isoformat() == "2024-06-15T14:00:00+02:00"
    assert kinderfest.event.end.isoformat() == "2024-06-15T18:00:00+02:00"
    assert "Hüpfburg" in kinderfest.content_text
    orgel = records[site.url("/termine/orgelkonzert/")]
    assert orgel.event.start.isoformat() == "2024-06-23T17:00:00+02:00"
    assert orgel.event.location.name == "Dorfkirche Musterdorf"
    assert result.discovered == (
        "events list of 2 blocks table.termine > tr with title td a, date td; 1 page")


def test_a_single_article_page_is_one_record(server) -> None:
    site: SiteServer = server("blocks")
    url = site.url("/aktuelles/haushalt-beschlossen/")
    result = crawl(auto(url), FAST)
    assert result.ok, result.error
    [record] = result.records
    assert (record.key, record.title) == (url, "Haushalt 2024 beschlossen")
    assert record.date_published == date(2024, 6, 3)
    assert result.discovered == f"a single article page {url}"


def test_a_page_with_nothing_usable_fails_the_source(server) -> None:
    site: SiteServer = server("blocks")
    url = site.url("/impressum/")
    result = crawl(auto(url), FAST)
    assert not result.ok
    assert result.error.startswith(f"auto found no news or events at {url}")
    assert result.records == []


def test_an_unreachable_source_fails_as_any_other(unreachable_url: str) -> None:
    result = crawl(auto(unreachable_url), FAST)
    assert not result.ok
    assert "refused" in result.error


def _demo_source(demo_sites: dict[str, str], source_id: str) -> Source:
    return parse_sources(render_demo_sources(demo_sites)).get(source_id)


def _items(result: CrawlResult) -> set[tuple]:
    return {(r.kind, r.title, r.url, r.event.start if r.event else None)
            for r in result.records}


@pytest.mark.parametrize("source_id,list_path", [
    ("bad-belzig-aktuelles", "/aktuelles/"),
    ("mitarbeit-seminare", "/veranstaltungen/seminare/"),
    ("smart-city-dialog", "/aktuelles/"),
])
def test_auto_finds_what_the_demo_configuration_finds(
    demo_sites: dict[str, str], source_id: str, list_path: str
) -> None:
    configured = _demo_source(demo_sites, source_id)
    site = configured.url.split("/", 3)[:3]
    url = "/".join(site) + list_path
    expected = crawl(configured, FAST)
    found = crawl(auto(url, item_kind=configured.item_kind), FAST)
    assert expected.ok and found.ok, (expected.error, found.error)
    assert _items(found) == _items(expected)
    assert found.discovered


def test_home_page_without_feed_or_sitemap_goes_to_its_news_section(
    demo_sites: dict[str, str]
) -> None:
    home = demo_sites["bad-belzig"].rstrip("/")
    result = crawl(auto(home + "/"), FAST)
    assert result.ok, result.error
    assert {r.title for r in result.records if r.kind == "news"} == {
        "16. Regionalkonferenz für Smart Cities in Bad Belzig",
        "Bad Belzig 2030 - Meine Stadt der Zukunft",
    }
    # The TYPO3 site was asked for its tx_news RSS view first (spiders.probes): not there.
    assert result.discovered == (
        f"section {home}/aktuelles/: list of 2 blocks div.news-list-view > div.article "
        "with title div.header h3 a, date time[datetime]; 2 pages; not used: "
        f"RSS feed {home}/?type=9818 (CMS probe: TYPO3, tx_news RSS view, type=9818): no feed; "
        f"RSS feed {home}/aktuelles/?type=9818 (CMS probe: TYPO3, tx_news RSS view, "
        "type=9818): no feed")
