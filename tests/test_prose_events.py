"""Events in running prose and in schema.org markup, through real crawls on 127.0.0.1 (auto):
an event page is one event item, a page of tips yields one event per section, a report of a
past event yields none; all-day schema.org events and HTML entities in their names."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.records import Record
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl

BERLIN = ZoneInfo("Europe/Berlin")
EVENTS = Path(__file__).parent / "sites" / "events"
REAL = Path(__file__).parent / "realworld" / "events"


def source(url: str) -> Source:
    return Source.model_validate({"id": "prosa", "name": "Musterdorf", "publisher": "Gemeinde",
                                  "url": url, "kind": "auto", "licence": "dl-by-de/2.0"})


def test_page_about_an_event_is_one_event_item_with_time_and_place(serve_site) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/prosa/dorffest.html")), FAST)
    assert result.ok, result.error
    assert len(result.records) == 1  # the event, not news plus the event
    fest = result.records[0]
    assert (fest.kind, fest.title) == ("event", "Dorffest 2025")
    assert fest.event.start == datetime(2025, 4, 12, 10, tzinfo=BERLIN)
    assert fest.event.end == datetime(2025, 4, 12, 16, tzinfo=BERLIN)
    assert "Gemeindehaus" in (fest.event.location.name or "")


def test_page_of_tips_yields_one_event_per_section(serve_site) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/prosa/tipps.html")), FAST)
    assert result.ok, result.error
    news = [r for r in result.records if r.kind == "news"]
    events = sorted((r for r in result.records if r.kind == "event"), key=lambda r: r.event.start)
    assert len(news) == 1
    assert [(r.title, r.event.start) for r in events] == [
        ("Laternenumzug der Kita", datetime(2024, 11, 1, 17, 30, tzinfo=BERLIN)),
        ("Kürbisfest auf dem Hof Meyer", datetime(2024, 11, 2, 11, tzinfo=BERLIN)),
        ("Konzert in der Dorfkirche", datetime(2024, 11, 3, 16, tzinfo=BERLIN)),
    ]
    assert events[1].event.end == datetime(2024, 11, 2, 17, tzinfo=BERLIN)
    assert all(r.announced_by == news[0].key for r in events)
    assert "Dorfkirche Musterdorf" in (events[2].event.location.name or "")


def test_report_of_a_past_event_yields_no_event(serve_site) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/prosa/bericht.html")), FAST)
    assert result.ok, result.error
    assert [r.kind for r in result.records] == ["news"]


def test_real_announcement_in_prose_takes_its_year_from_the_page(serve_site) -> None:
    server: SiteServer = serve_site(REAL / "piratenpartei-mv-demo")
    result = crawl(source(server.url("/piratenpartei-mv.de.grundeinkommen.html")), FAST)
    assert result.ok, result.error
    [demo] = [r for r in result.records if r.kind == "event"]
    # "am 14. September um 13 Uhr", the post of 12. September 2013.
    assert demo.event.start == datetime(2013, 9, 14, 13, tzinfo=BERLIN)


def test_schemaorg_event_from_midnight_to_23_59_is_all_day_and_its_name_decoded(
        serve_site) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/schema/sommerfest.html")), FAST)
    assert result.ok, result.error
    [fest] = [r for r in result.records if r.kind == "event"]
    assert fest.title == "Kinder- & Jugendfest"
    assert (fest.event.start, fest.event.end, fest.event.all_day) == (
        date(2025, 6, 6), date(2025, 6, 7), True)


def test_time_elements_from_and_to_are_the_event_not_its_publication(serve_site) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/prosa/vortrag.html")), FAST)
    assert result.ok, result.error
    [talk] = result.records
    assert talk.kind == "event"
    assert (talk.event.start, talk.event.end) == (datetime(2025, 3, 14, 19, tzinfo=BERLIN),
                                                  datetime(2025, 3, 14, 21, tzinfo=BERLIN))
    assert talk.date_published is None  # the first <time> was the start, not a publication
    assert talk.event.location.street == "Am Anger 2"


@pytest.mark.parametrize(("case", "page"), [
    # "Mo, 11:41 Uhr / 06.11.2023" atop the article, <meta name="date" 2023-11-06T11:41>.
    ("nnz-spielplatz-quantensprung", "nnz-online.de-Quantensprung.html"),
    # <time itemprop="datePublished"> twice, joined by a dash: no from–to pair.
    ("drk-glasgow", "drk.de-Glasgow.html"),
])
def test_a_news_page_stating_its_own_publication_time_yields_no_event(
        serve_site, case: str, page: str) -> None:
    server: SiteServer = serve_site(REAL / case)
    result = crawl(source(server.url(f"/{page}")), FAST)
    assert result.ok, result.error
    assert [r.kind for r in result.records] == ["news"]


@pytest.mark.parametrize("item_kind", [None, "event"])
def test_a_lead_that_announces_a_day_is_the_event_with_the_times_stated_later(
        serve_site, item_kind: str | None) -> None:
    # "Das Dorffest findet am Freitag, 6. und Samstag, 7. Juni 2025 auf dem Festplatz … statt";
    # the times follow two paragraphs later, one per day.
    [fest] = _records_of(serve_site(EVENTS), "/prosa/dorffest-ankuendigung.html", item_kind)
    assert (fest.kind, fest.title) == ("event", "Dorffest 2025")
    assert (fest.event.start, fest.event.end) == (datetime(2025, 6, 6, 18, tzinfo=BERLIN),
                                                  datetime(2025, 6, 7, 23, tzinfo=BERLIN))
    assert "Festplatz" in (fest.event.location.name or "")


def test_an_exhibition_that_opens_runs_to_the_day_it_ends(serve_site) -> None:
    # "öffnet am 14. März 2025 im Heimatmuseum …", "Bis zum 30. Juni 2025 ist die Schau …".
    [show] = _records_of(serve_site(EVENTS), "/prosa/ausstellung.html")
    assert show.kind == "event"
    assert (show.event.start, show.event.end, show.event.all_day) == (
        date(2025, 3, 14), date(2025, 6, 30), True)
    assert show.event.location.name == "Heimatmuseum Musterdorf"


def _records_of(server: SiteServer, path: str, item_kind: str | None = None) -> list[Record]:
    result = crawl(source(server.url(path)).model_copy(update={"item_kind": item_kind}), FAST)
    assert result.ok, result.error
    return result.records


@pytest.mark.parametrize("item_kind", [None, "event"])
def test_a_programme_states_where_it_begins_when_it_ends_and_a_timetable_the_start(
        serve_site, item_kind: str | None) -> None:
    # "Beginn 11 Uhr am Rathausplatz", "Abschluss um 14.30 Uhr vor dem Landratsamt".
    [ride] = _records_of(serve_site(EVENTS), "/prosa/sternfahrt.html", item_kind)
    assert (ride.event.start, ride.event.end) == (datetime(2025, 5, 10, 11, tzinfo=BERLIN),
                                                  datetime(2025, 5, 10, 14, 30, tzinfo=BERLIN))
    assert ride.event.location.name == "Rathausplatz"
    # "am 21. Juni" in the title, then "Frühschoppen 10:00 Uhr", "Kinderprogramm 14:00 Uhr" …
    [fest] = _records_of(serve_site(EVENTS), "/prosa/feuerwehrfest.html", item_kind)
    assert (fest.kind, fest.event.start, fest.event.end) == (
        "event", datetime(2025, 6, 21, 10, tzinfo=BERLIN), None)
    assert fest.event.location.name == "Gerätehaus Musterdorf"


@pytest.mark.parametrize("item_kind", [None, "event"])
def test_the_header_box_beside_the_h1_states_day_span_and_place(
        serve_site, item_kind: str | None) -> None:
    # "Freitag, 14. Februar 2025, 18:00 – 21:00 Uhr" and a place div above the h1; the
    # "Eingestellt 03.02.2025, 09:14 Uhr" stamp and the registration deadline are no event.
    [workshop] = _records_of(serve_site(EVENTS), "/prosa/workshop.html", item_kind)
    assert (workshop.kind, workshop.title) == ("event", "Fahrrad-Workshop")
    assert (workshop.event.start, workshop.event.end) == (
        datetime(2025, 2, 14, 18, tzinfo=BERLIN), datetime(2025, 2, 14, 21, tzinfo=BERLIN))
    assert workshop.event.location.street == "Dorfstraße 5"
