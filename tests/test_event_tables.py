"""Events listed in tables, lists and labelled groups without links: real crawls on 127.0.0.1,
with and without selectors. Each row is an event; the year comes from the page, not the clock."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl

BERLIN = ZoneInfo("Europe/Berlin")
EVENTS = Path(__file__).parent / "sites" / "events"
WHISKY = Path(__file__).parent / "realworld" / "events" / "whiskyverkostung-halle-termine"
TABLE_SELECTORS = {"item": "table.termine tbody tr", "title": "td.was",
                   "when": "td.wann::text, td.zeit::text", "location": "td.wo"}


def source(url: str, kind: str = "auto", **extra: object) -> Source:
    return Source.model_validate({"id": "termine", "name": "Musterdorf", "publisher": "Gemeinde",
                                  "url": url, "kind": kind, "licence": "dl-by-de/2.0", **extra})


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize("how", ["auto", "selectors"])
def test_each_table_row_is_an_event_with_the_year_of_its_heading(serve_site, how: str) -> None:
    server: SiteServer = serve_site(EVENTS)
    url = server.url("/termine/tabelle.html")
    src = source(url) if how == "auto" else source(url, "html", selectors=TABLE_SELECTORS)
    result = crawl(src, FAST)
    assert result.ok, result.error
    events = sorted((r for r in result.records if r.kind == "event"),
                    key=lambda r: r.event.start)
    assert len(result.records) == len(events) == 5
    assert [(r.title, r.event.start) for r in events] == [
        ("Laternenumzug", at(2025, 11, 8, 19)),
        ("Seniorenkaffee", at(2025, 11, 12, 15)),
        ("Seniorenkaffee", at(2025, 11, 26, 15)),
        ("Skatabend – fällt aus", at(2025, 11, 29, 20)),
        ("Neujahrsputz am Anger", at(2026, 1, 10, 10)),  # the second table's heading
    ]
    coffee = events[1]
    assert coffee.event.end == at(2025, 11, 12, 17)
    assert coffee.event.location.street == "Dorfstraße 3"
    assert events[3].event.status == "cancelled"
    # Two rows of one title on other days are two events; each is the page plus a fragment.
    assert len({r.key for r in events}) == 5
    assert all(r.url.startswith(url + "#") for r in events)


def test_each_list_item_is_an_event(serve_site) -> None:
    server: SiteServer = serve_site(EVENTS)
    result = crawl(source(server.url("/termine/liste.html")), FAST)
    assert result.ok, result.error
    events = sorted(result.records, key=lambda r: r.event.start)
    assert [(r.title, r.event.start, r.event.location.name) for r in events] == [
        ("Kartoffelfest", at(2024, 10, 5, 14), "Festwiese"),
        ("Herbstwanderung", at(2024, 10, 20, 10), "Treffpunkt Bahnhof"),
        ("Herbstwanderung", at(2024, 11, 3, 10), "Treffpunkt Bahnhof"),
    ]


def test_labelled_groups_of_a_real_page_are_one_event_each(serve_site) -> None:
    server: SiteServer = serve_site(WHISKY)
    result = crawl(source(server.url("/whiskyverkostung.com.halle.html")), FAST)
    assert result.ok, result.error
    events = sorted(result.records, key=lambda r: r.event.start)
    assert {r.kind for r in result.records} == {"event"}
    assert [r.event.start for r in events] == [
        at(2020, 2, 21, 19), at(2020, 2, 28, 18, 30), at(2020, 2, 29, 19), at(2020, 3, 6, 19),
        at(2020, 3, 27, 18, 30), at(2020, 5, 8, 19)]
    # The second rum tour repeats the first one's lines: it keeps its own title and place.
    assert events[4].title == "Rum – Tour mit der Hallunken – Schunkel"
    assert events[4].event.location.name == "Marktplatz Halle/Saale"
    assert events[3].event.location.postal_code == "06114"


@pytest.mark.parametrize("item_kind", [None, "event"])
def test_dated_lines_under_a_heading_are_one_event_each(serve_site, item_kind: str | None) -> None:
    # Paragraphs "Dienstag, 1. Oktober 13:45 – 15:30 Uhr" under a heading "Öffentlicher Lauf":
    # no link, no title of their own, no year (the intro names the season 2024 / 2025).
    server: SiteServer = serve_site(EVENTS)
    extra = {"item_kind": item_kind} if item_kind else {}
    result = crawl(source(server.url("/termine/laufzeiten.html"), **extra), FAST)
    assert result.ok, result.error
    events = sorted(((r.event.start, r.event.end, r.title, r.url) for r in result.records
                     if r.kind == "event"), key=lambda item: item[0])
    assert [(start, end, title) for start, end, title, _ in events] == [
        (at(2024, 10, 1, 13, 45), at(2024, 10, 1, 15, 30), "Öffentlicher Lauf"),
        (at(2024, 10, 2, 13, 45), at(2024, 10, 2, 15, 30), "Öffentlicher Lauf"),
        (at(2024, 10, 5, 19, 45), at(2024, 10, 5, 21, 30), "Eisdisco"),
        # "und": two sessions of one day, two events with two URLs.
        (at(2024, 10, 6, 9, 45), at(2024, 10, 6, 11, 30), "Öffentlicher Lauf"),
        (at(2024, 10, 6, 14), at(2024, 10, 6, 15, 45), "Öffentlicher Lauf"),
        (at(2024, 10, 12, 19), at(2024, 10, 12, 20, 45), "Eisdisco"),
    ]
    assert len({url for *_, url in events}) == len(events)
    # The intro's "Dienstag, den 1. Oktober, 13:45 Uhr!" is the first session, not another;
    # the discos stated in both lists are one each, the unnamed 12 October one the disco.
    assert all(r.kind == "event" for r in result.records)


@pytest.mark.parametrize("item_kind", [None, "event"])
def test_broken_lines_of_a_collection_calendar_are_one_event_each(
        serve_site, item_kind: str | None) -> None:
    # A waste collection calendar as Bremen's serves it: a cell per month, "<b>Dezember
    # 2025</b>" atop <br>-broken lines "03.12.&nbsp;Restmüll / Bioabfall", a Saturday written
    # "(Sa) 27.12."; the year turns with the January cell. The opening hours below are no
    # collection days.
    server: SiteServer = serve_site(EVENTS)
    extra = {"item_kind": item_kind} if item_kind else {}
    result = crawl(source(server.url("/termine/abfuhrkalender.html"), **extra), FAST)
    assert result.ok, result.error
    assert {r.kind for r in result.records} == {"event"}
    events = sorted((r.event.start, r.title, r.event.all_day) for r in result.records)
    assert events == [
        (date(2025, 11, 5), "Restmüll / Bioabfall", True),
        (date(2025, 11, 19), "Papier / Gelber Sack", True),
        (date(2025, 12, 3), "Restmüll / Bioabfall", True),
        (date(2025, 12, 27), "Restm. / Bioabf.", True),
        (date(2026, 1, 10), "Tannenbaumabfuhr", True),
        (date(2026, 1, 14), "Papier / Gelber Sack", True),
    ]
    assert len({r.url for r in result.records}) == 6
