"""Spiders through real crawls of the fixture sites on 127.0.0.1, on the crawl engine."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl

LIST_SELECTORS = {
    "item": "div.news-list-view div.article",
    "title": "h3",
    "link": "h3 a::attr(href)",
    "date": "time::attr(datetime)",
    "summary": "p.teaser",
    "content": "div.news-text-wrap",
    "next": "li.next a::attr(href)",
}


def source(url: str, kind: str = "rss", **extra: object) -> Source:
    return Source.model_validate({
        "id": f"test-{kind}", "name": "Musterstadt", "publisher": "Stadt Musterstadt",
        "url": url, "kind": kind, "licence": "dl-by-de/2.0", **extra,
    })


def by_title(result: CrawlResult) -> dict:
    return {record.title: record for record in result.records}


@pytest.mark.parametrize("kind,path", [
    ("rss", "/feeds/rss.xml"), ("atom", "/feeds/atom.xml"), ("jsonfeed", "/feeds/feed.json"),
])
def test_feed_kinds_give_the_same_two_records(site: SiteServer, kind: str, path: str) -> None:
    result = crawl(source(site.url(path), kind), FAST)
    assert result.ok, result.error
    records = by_title(result)
    assert set(records) == {"Sommerfest im Stadtpark", "Neue Öffnungszeiten der Stadtbibliothek"}
    fest = records["Sommerfest im Stadtpark"]
    assert fest.url == site.url("/meldungen/sommerfest-im-stadtpark/")
    assert isinstance(fest.date_published, datetime)
    assert fest.date_published.utcoffset().total_seconds() == 2 * 3600  # CEST
    assert "Sommerfest" in (fest.content_text or "")
    assert all(record.source_id == f"test-{kind}" for record in result.records)


def test_rss_guid_is_the_key_and_html_is_sanitised(site: SiteServer) -> None:
    result = crawl(source(site.url("/feeds/rss.xml")), FAST)
    fest = by_title(result)["Sommerfest im Stadtpark"]
    assert fest.key == "musterstadt-101"
    assert fest.tags == ["Veranstaltungen"]
    assert fest.author == "Pressestelle"
    assert "<p>" in fest.content_html and "<script" not in fest.content_html
    library = by_title(result)["Neue Öffnungszeiten der Stadtbibliothek"]
    assert library.key == site.url("/meldungen/neue-oeffnungszeiten-der-stadtbibliothek/")
    assert library.content_text == (
        "Die Stadtbibliothek ist ab Juni auch samstags von 10 bis 13 Uhr geöffnet.")


def test_html_list_follows_details_and_pagination_and_obeys_robots(fresh_site: SiteServer) -> None:
    result = crawl(source(fresh_site.url("/aktuelles/"), "html", selectors=LIST_SELECTORS), FAST)
    assert result.ok, result.error
    records = by_title(result)
    assert "Stadtputz 2024: Danke an alle Helfer" in records  # from page 2
    assert "Neuer Spielplatz am Stadtpark eröffnet" in records
    # robots.txt forbids /private/: never fetched, the list entry alone is kept.
    assert fresh_site.hits("/private/entwurf-haushalt/") == 0
    assert fresh_site.hits("/robots.txt") == 1
    spielplatz = records["Neuer Spielplatz am Stadtpark eröffnet"]
    assert spielplatz.date_published == date(2024, 5, 6)
    assert spielplatz.key == fresh_site.url("/aktuelles/neuer-spielplatz-am-stadtpark/")
    paragraphs = [p for p in spielplatz.content_text.split("\n\n") if p.strip()]
    assert len(paragraphs) == len(set(paragraphs)) >= 1  # the page carries each one twice
    sprechstunde = records["Bürgersprechstunde im Rathaus"]
    assert sprechstunde.kind == "event"
    assert sprechstunde.event.start.isoformat() == "2024-05-21T16:00:00+02:00"
    assert sprechstunde.event.end.isoformat() == "2024-05-21T18:00:00+02:00"
    assert sprechstunde.event.location.postal_code == "12345"


def test_requests_name_regiofeed_and_a_contact(fresh_site: SiteServer) -> None:
    crawl(source(fresh_site.url("/feeds/rss.xml")), FAST)
    agents = {request.headers.get("user-agent") for request in fresh_site.requests}
    assert agents == {"regiofeed/0.1 (+https://example.org/regiofeed-test)"}


def test_server_error_fails_the_source_with_the_status(site: SiteServer) -> None:
    result = crawl(source(site.url("/errors/500/"), "html", selectors=LIST_SELECTORS), FAST)
    assert not result.ok
    assert "HTTP 500" in result.error
    assert result.records == []


def test_timeout_fails_the_source(site: SiteServer) -> None:
    result = crawl(source(site.url("/errors/slow.xml")), FAST.model_copy(update={"timeout": 1}))
    assert not result.ok
    assert "timed out" in result.error


def test_garbage_fails_the_source(site: SiteServer) -> None:
    result = crawl(source(site.url("/errors/garbage.xml")), FAST)
    assert not result.ok
    assert "not a readable feed" in result.error or "not a feed" in result.error


def test_unreachable_host_fails_the_source(unreachable_url: str) -> None:
    result = crawl(source(unreachable_url + "feed/"), FAST)
    assert not result.ok
    assert "refused" in result.error


def test_hanging_crawl_is_killed(site: SiteServer) -> None:
    # The download timeout would allow 30 s; the process limit stops it at 2.
    slow = FAST.model_copy(update={"timeout": 30, "source_timeout": 2})
    result = crawl(source(site.url("/errors/slow.xml")), slow)
    assert not result.ok
    assert "killed after 2 s" in result.error


def test_oversized_response_is_refused(site: SiteServer) -> None:
    tiny = FAST.model_copy(update={"max_bytes": 200})
    result = crawl(source(site.url("/feeds/rss.xml")), tiny)
    assert not result.ok
    assert result.records == []
