"""A news page that announces an event yields the news and the event, each its own record."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl

SITE = Path(__file__).parent / "sites" / "kinds" / "news"
BERLIN = ZoneInfo("Europe/Berlin")
SELECTORS = {"item": "div.news-list div.article", "title": "h3", "link": "h3 a::attr(href)",
             "date": "time::attr(datetime)", "summary": "p.teaser", "content": "div.news-text"}


def source(url: str, kind: str = "rss", **extra: object) -> Source:
    return Source.model_validate({
        "id": "test-news", "name": "Musterstadt", "publisher": "Stadt Musterstadt",
        "url": url, "kind": kind, "licence": "dl-by-de/2.0", **extra})


def test_feed_entry_announcing_an_event_yields_news_and_event(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    result = crawl(source(server.url("/feed.xml")), FAST)
    assert result.ok, result.error
    records = {r.key: r for r in result.records}
    assert set(records) == {"musterstadt-news-201", "musterstadt-news-201#event",
                            "musterstadt-news-202"}
    news, event = records["musterstadt-news-201"], records["musterstadt-news-201#event"]
    assert (news.kind, news.event, news.announced_by) == ("news", None, None)
    assert (event.kind, event.announced_by) == ("event", "musterstadt-news-201")
    assert event.title == news.title == "Digitalworkshop für Vereine"
    assert event.content_text == news.content_text
    assert event.url == news.url
    assert event.event.start == datetime(2021, 3, 15, 17, tzinfo=BERLIN)
    assert event.event.online is True
    assert records["musterstadt-news-202"].kind == "news"


def test_event_source_yields_only_the_event(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    result = crawl(source(server.url("/feed.xml"), item_kind="event"), FAST)
    assert result.ok, result.error
    records = {r.key: r for r in result.records}
    assert set(records) == {"musterstadt-news-201", "musterstadt-news-202"}
    assert records["musterstadt-news-201"].kind == "event"
    assert records["musterstadt-news-201"].announced_by is None
    # item_kind = "event" makes every item an event: its date is the start (issue 10).
    opening = records["musterstadt-news-202"]
    assert opening.kind == "event"
    assert opening.event.start == datetime(2021, 3, 2, 9, tzinfo=BERLIN)
    assert opening.date_published is None


def test_html_detail_with_schemaorg_event_names_the_event(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    result = crawl(source(server.url("/meldungen/"), "html", item_kind="news",
                          selectors=SELECTORS), FAST)
    assert result.ok, result.error
    records = {r.key: r for r in result.records}
    page = server.url("/meldungen/tag-der-offenen-tuer/")
    assert set(records) == {page, page + "#event", server.url("/meldungen/neuer-radweg/")}
    news, event = records[page], records[page + "#event"]
    assert (news.kind, news.title, news.event) == ("news", "Rathaus öffnet seine Türen", None)
    assert (event.kind, event.announced_by) == ("event", page)
    assert event.title == "Tag der offenen Tür im Rathaus"  # the schema.org name
    assert event.event.start == datetime(2024, 9, 7, 10, tzinfo=BERLIN)
    assert event.event.end == datetime(2024, 9, 7, 16, tzinfo=BERLIN)
    assert event.event.location.street == "Marktplatz 1"
    assert (event.event.organizer, event.event.offers) == ("Stadt Musterstadt", "kostenlos")
    assert "Bürgermeisterin" in event.content_text


def test_unchanged_news_page_keeps_its_event(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    news_source = source(server.url("/meldungen/"), "html", item_kind="news", selectors=SELECTORS)
    first = crawl(news_source, FAST)
    # The list page changes (so it is read), its detail pages do not (they answer 304).
    server.set_file("/meldungen/index.html",
                    (SITE / "meldungen/index.html").read_text().replace("05.08.", "06.08."))
    second = crawl(news_source, FAST, validators=first.validators)
    assert second.ok, second.error
    page = server.url("/meldungen/tag-der-offenen-tuer/")
    assert {page, page + "#event"} <= set(second.unchanged_keys)
