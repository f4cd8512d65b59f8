"""End-to-end tests of publish_all: every format written, read back with the clients users use."""

import copy
import json
import os
from datetime import date
from pathlib import Path

import feedparser
import lxml.html
import pytest

from regiofeed.publish import PublishSettings, municipalities, publish_all
from regiofeed.publish.context import PublishContext
from regiofeed.publish.rss import render as render_rss
from regiofeed.publish.scopes import INDEX_HTML, scope_files, scopes

TODAY = date(2024, 9, 1)
OLD = 1_000_000_000  # an mtime far in the past, so any touch is visible
LICENCE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"

SOURCES = [
    {
        "id": "bad-belzig-aktuelles",
        "name": "Stadt Bad Belzig – Aktuelles",
        "publisher": "Stadt Bad Belzig",
        "municipality": "Bad Belzig",
        "url": "https://www.bad-belzig.de/aktuelles/",
        "kind": "auto",
        "licence": LICENCE,
    },
    {
        "id": "wiesenburg-veranstaltungen",
        "name": "Gemeinde Wiesenburg/Mark – Veranstaltungen",
        "publisher": "Gemeinde Wiesenburg/Mark",
        "municipality": "Wiesenburg/Mark",
        "url": "https://www.wiesenburgmark.de/veranstaltungen/",
        "kind": "html",
        "licence": LICENCE,
    },
    {
        "id": "kts-smart-cities",
        "name": "KTS Smart Cities",
        "publisher": "Koordinierungs- und Transferstelle Modellprojekte Smart Cities",
        "url": "https://www.smart-city-dialog.de/",
        "kind": "rss",
        "licence": "http://dcat-ap.de/def/licenses/cc-by/4.0",
    },
]

NEWS = {
    "id": "rf-news-buergerbuero",
    "url": "https://www.bad-belzig.de/aktuelles/buergerbuero",
    "title": "Neue Öffnungszeiten im Bürgerbüro",
    "content_text": "Ab Montag gelten neue Öffnungszeiten.",
    "content_html": "<p>Ab Montag gelten neue Öffnungszeiten.</p>",
    "date_published": "2024-08-12T09:00:00+02:00",
    "date_modified": "2024-08-12T09:00:00+02:00",
    "tags": ["Verwaltung"],
    "_regiofeed": {
        "kind": "news",
        "sources": ["bad-belzig-aktuelles"],
        "publisher": "Stadt Bad Belzig",
        "municipality": "Bad Belzig",
        "licence": LICENCE,
    },
}

KONFERENZ = {
    "id": "rf-event-smart-cities",
    "url": "https://www.smart-city-dialog.de/regionalkonferenz-bad-belzig",
    "title": "Regionalkonferenz Smart Cities in Bad Belzig",
    "content_text": "Die Modellprojekte stellen sich vor.",
    "content_html": "<p>Die Modellprojekte stellen sich vor.</p>",
    "date_published": "2024-08-07T00:00:00+02:00",
    "date_modified": "2024-08-09T12:00:00+02:00",
    "tags": ["Smart City"],
    "_regiofeed": {
        "kind": "event",
        "sources": ["kts-smart-cities", "bad-belzig-aktuelles"],
        "publisher": "Koordinierungs- und Transferstelle Modellprojekte Smart Cities",
        "municipality": "Bad Belzig",
        "also_at": ["https://www.bad-belzig.de/aktuelles/regionalkonferenz"],
        "licence": LICENCE,
        "event": {
            "start": "2024-09-05T10:00:00+02:00",
            "end": "2024-09-05T17:00:00+02:00",
            "all_day": False,
            "online": False,
            "location": {
                "name": "Kulturzentrum Bad Belzig",
                "street": "Weitzgrunder Str. 4",
                "postal_code": "14806",
                "locality": "Bad Belzig",
            },
        },
    },
}

BURGFEST = {
    "id": "rf-event-burgfest",
    "url": "https://www.wiesenburgmark.de/veranstaltungen/burgfest",
    "title": "Burgfest auf Burg Eisenhardt",
    "content_text": "Zwei Tage Mittelalter.",
    "content_html": "<p>Zwei Tage Mittelalter.</p>",
    "date_published": "2023-07-01T10:00:00+02:00",
    "date_modified": "2023-07-01T10:00:00+02:00",
    "tags": [],
    "_regiofeed": {
        "kind": "event",
        "sources": ["wiesenburg-veranstaltungen"],
        "publisher": "Gemeinde Wiesenburg/Mark",
        "licence": LICENCE,
        "event": {
            "start": "2023-08-25",
            "end": "2023-08-26",
            "all_day": True,
            "online": False,
            "location": {"name": "Burg Eisenhardt", "locality": "Bad Belzig"},
        },
    },
}

SPRECHSTUNDE = {
    "id": "rf-event-breitband",
    "url": "https://www.wiesenburgmark.de/veranstaltungen/breitband",
    "title": "Online-Sprechstunde Breitbandausbau",
    "content_text": "Fragen zum Glasfaseranschluss.",
    "content_html": "<p>Fragen zum Glasfaseranschluss.</p>",
    "date_published": "2024-08-20T08:00:00+02:00",
    "date_modified": "2024-08-20T08:00:00+02:00",
    "tags": ["Breitband"],
    "_regiofeed": {
        "kind": "event",
        "sources": ["wiesenburg-veranstaltungen"],
        "publisher": "Gemeinde Wiesenburg/Mark",
        "municipality": "Wiesenburg/Mark",
        "licence": LICENCE,
        "event": {
            "start": "2024-09-10T18:00:00+02:00",
            "end": "2024-09-10T19:30:00+02:00",
            "all_day": False,
            "online": True,
        },
    },
}

SPERRUNG = {
    "id": "rf-news-sperrung",
    "url": "https://www.wiesenburgmark.de/aktuelles/sperrung",
    "title": "Straßensperrung „Am Schloß“ & Umleitung",
    "summary": "Vollsperrung für Bauarbeiten; Umleitung über Reetz.",
    "content_text": "Die Straße „Am Schloß“ ist gesperrt & wird über Reetz umgeleitet.",
    "content_html": "<p>Die Straße „Am Schloß“ ist gesperrt &amp; wird über Reetz umgeleitet.</p>",
    "date_published": "2024-08-21T14:30:00+02:00",
    "date_modified": "2024-08-22T07:15:00+02:00",
    "tags": ["Verkehr", "Bauarbeiten"],
    "image": "https://www.wiesenburgmark.de/bilder/sperrung.jpg",
    "authors": [{"name": "Ordnungsamt Wiesenburg/Mark"}],
    "_regiofeed": {
        "kind": "news",
        "sources": ["wiesenburg-veranstaltungen"],
        "publisher": "Gemeinde Wiesenburg/Mark",
        "municipality": "Wiesenburg/Mark",
        "licence": LICENCE,
    },
}

ITEMS = [NEWS, KONFERENZ, BURGFEST, SPRECHSTUNDE, SPERRUNG]
# What the feeds carry on TODAY, newest first: the Burgfest (August 2023) is over, so only
# data/ keeps it.
NEWEST_FIRST = [
    "rf-news-sperrung",
    "rf-event-breitband",
    "rf-news-buergerbuero",
    "rf-event-smart-cities",
]

HEALTH = {
    "generated_by": "regiofeed",
    "sources": {
        "bad-belzig-aktuelles": {
            "last_attempt": "2024-09-01T06:00:00+02:00",
            "last_success": "2024-09-01T06:00:00+02:00",
            "last_change": "2024-09-01T06:00:00+02:00",
            "status": "ok",
            "items": 2,
            "records_seen": 12,
            "new": 1,
            "changed": 0,
            "unchanged": 11,
            "gone": 0,
            "duration_s": 1.8,
        },
        "wiesenburg-veranstaltungen": {
            "last_attempt": "2024-09-01T06:00:00+02:00",
            "last_success": "2024-08-30T06:00:00+02:00",
            "status": "failed",
            "items": 3,
            "records_seen": 0,
            "new": 0,
            "changed": 0,
            "unchanged": 0,
            "gone": 0,
            "error": "HTTP 503 <Service Unavailable> & retry later",
            "duration_s": 30.0,
        },
    },
}

SETTINGS = PublishSettings(
    title="Hoher Fläming aktuell",
    description="Nachrichten und Veranstaltungen aus dem Hohen Fläming",
    base_url="https://daten.example.org/hoher-flaeming",
)


@pytest.fixture
def items() -> list[dict]:
    """A fresh deep copy of the sample items, free to be changed by a test."""
    return copy.deepcopy(ITEMS)


@pytest.fixture
def out(tmp_path: Path, items: list[dict]) -> Path:
    """A tree published once from the sample data."""
    publish_all(tmp_path, items, SOURCES, HEALTH, SETTINGS, today=TODAY)
    return tmp_path


def published_paths(root: Path) -> set[Path]:
    """Every file in the tree (catalog* files are publish.dcat's, tested there)."""
    return {path for path in root.rglob("*") if path.is_file()}


def without_catalogue(paths: list[Path] | set[Path], root: Path) -> set[Path]:
    return {path for path in paths if not path.relative_to(root).parts[0].startswith("catalog")}


SCOPE_FILES = [
    "feed.xml", "atom.xml", "feed.json", "events.ics",
    "data/items.json", "data/items.csv", "data/events.csv",
    "data/items-excel.csv", "data/events-excel.csv", "events.geojson",
    "news/feed.xml", "news/atom.xml", "news/feed.json",
    "events/feed.xml", "events/atom.xml", "events/feed.json",
    "index.html",
]  # fmt: skip
SCOPE_FOLDERS = [
    "",
    "sources/bad-belzig-aktuelles/",
    "sources/kts-smart-cities/",
    "sources/wiesenburg-veranstaltungen/",
    "municipalities/bad-belzig/",
    "municipalities/wiesenburg-mark/",
]


def test_publish_all_writes_every_format_in_every_scope(tmp_path: Path, items: list[dict]) -> None:
    report = publish_all(tmp_path, items, SOURCES, HEALTH, SETTINGS, today=TODAY)

    root_only = ["health.json", "feeds.opml", "search.json",
                 # one calendar per event of events.ics (the Burgfest of 2023 is long over)
                 "calendar/rf-event-smart-cities.ics", "calendar/rf-event-breitband.ics"]
    expected = {tmp_path / name for name in root_only} | {
        tmp_path / f"{folder}{name}" for folder in SCOPE_FOLDERS for name in SCOPE_FILES
    }
    assert without_catalogue(report.written, tmp_path) == expected
    assert without_catalogue(published_paths(tmp_path), tmp_path) == expected
    assert report.unchanged == []
    assert report.changed
    # The path scheme publish.scopes tells other writers (the DCAT catalogue) is the one built.
    listed = {
        tmp_path / path
        for scope in scopes(SOURCES, items)
        for path in [*scope_files(scope), scope.file(INDEX_HTML)]
    }
    assert listed == expected - {tmp_path / name for name in root_only}


def test_publish_all_does_not_change_its_input(tmp_path: Path, items: list[dict]) -> None:
    publish_all(tmp_path, items, SOURCES, HEALTH, SETTINGS, today=TODAY)
    assert items == ITEMS


# --- RSS 2.0 ---------------------------------------------------------------------------------


def test_rss_parses_cleanly_with_items_newest_first(out: Path) -> None:
    feed = feedparser.parse((out / "feed.xml").read_bytes())

    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "Hoher Fläming aktuell"
    assert feed.feed.language == "de"
    assert [entry.id for entry in feed.entries] == NEWEST_FIRST
    assert all(entry.guidislink is False for entry in feed.entries)


def test_rss_item_fields(out: Path) -> None:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    entry = next(e for e in feed.entries if e.id == "rf-news-sperrung")

    assert entry.title == "Straßensperrung „Am Schloß“ & Umleitung"
    assert entry.link == SPERRUNG["url"]
    assert entry.published_parsed[:6] == (2024, 8, 21, 12, 30, 0)  # UTC
    assert [tag.term for tag in entry.tags] == ["Verkehr", "Bauarbeiten"]
    assert "gesperrt &amp; wird über Reetz" in entry.description
    assert entry.source == {
        "href": "https://www.wiesenburgmark.de/veranstaltungen/",
        "title": "Gemeinde Wiesenburg/Mark – Veranstaltungen",
    }


def test_rss_event_date_is_its_publication_date(out: Path) -> None:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    entry = next(e for e in feed.entries if e.id == "rf-event-smart-cities")

    assert entry.published_parsed[:3] == (2024, 8, 6)  # 2024-08-07T00:00+02:00 in UTC
    # The event's own date and place are in the text, where readers see them.
    assert "Do., 5. September 2024, 10:00–17:00 Uhr" in entry.description
    assert "Kulturzentrum Bad Belzig" in entry.description


def test_rss_last_build_date_is_the_newest_change_not_the_build_time(out: Path) -> None:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.feed.updated_parsed[:6] == (2024, 8, 22, 5, 15, 0)  # SPERRUNG modified, UTC


def test_rss_self_link_only_with_base_url(tmp_path: Path, items: list[dict]) -> None:
    publish_all(tmp_path / "abs", items, SOURCES, HEALTH, SETTINGS, today=TODAY)
    publish_all(tmp_path / "rel", items, SOURCES, HEALTH, PublishSettings(), today=TODAY)

    absolute = feedparser.parse((tmp_path / "abs" / "feed.xml").read_bytes())
    self_links = [link.href for link in absolute.feed.links if link.rel == "self"]
    assert self_links == ["https://daten.example.org/hoher-flaeming/feed.xml"]
    assert absolute.feed.link == "https://daten.example.org/hoher-flaeming/"

    relative = feedparser.parse((tmp_path / "rel" / "feed.xml").read_bytes())
    assert relative.bozo == 0
    assert not [link for link in relative.feed.links if link.rel == "self"]


def test_rss_feed_size_limits_items(tmp_path: Path, items: list[dict]) -> None:
    settings = PublishSettings(feed_size=2)
    publish_all(tmp_path, items, SOURCES, HEALTH, settings, today=TODAY)
    feed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert [entry.id for entry in feed.entries] == NEWEST_FIRST[:2]


def test_empty_rss_has_no_last_build_date() -> None:
    ctx = PublishContext(items=[], sources=SOURCES, health=HEALTH, settings=SETTINGS, today=TODAY)
    xml = render_rss(ctx)
    assert b"lastBuildDate" not in xml
    assert feedparser.parse(xml).bozo == 0


def test_rss_ties_on_date_are_ordered_by_id(tmp_path: Path) -> None:
    twins = [dict(copy.deepcopy(NEWS), id=name) for name in ("b", "a", "c")]
    publish_all(tmp_path, twins, SOURCES, HEALTH, SETTINGS, today=TODAY)
    feed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert [entry.id for entry in feed.entries] == ["a", "b", "c"]


# --- JSON Feed 1.1 ---------------------------------------------------------------------------


def test_json_feed_is_version_1_1_with_item_objects(out: Path) -> None:
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))

    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Hoher Fläming aktuell"
    assert feed["home_page_url"] == "https://daten.example.org/hoher-flaeming/"
    assert feed["feed_url"] == "https://daten.example.org/hoher-flaeming/feed.json"
    assert feed["language"] == "de"
    assert [item["id"] for item in feed["items"]] == NEWEST_FIRST
    by_id = {item["id"]: item for item in ITEMS}
    for item in feed["items"]:
        assert item == by_id[item["id"]]  # _regiofeed and everything else, unchanged


def test_json_feed_holds_at_most_feed_size_items(tmp_path: Path, items: list[dict]) -> None:
    publish_all(tmp_path, items, SOURCES, HEALTH, PublishSettings(feed_size=3), today=TODAY)
    feed = json.loads((tmp_path / "feed.json").read_text(encoding="utf-8"))

    assert [item["id"] for item in feed["items"]] == NEWEST_FIRST[:3]
    assert "feed_url" not in feed  # no base_url, no absolute address to give


# --- data/items.json and health.json --------------------------------------------------------


def test_items_json_round_trips_every_item_ordered_by_id(out: Path) -> None:
    raw = (out / "data" / "items.json").read_bytes()

    # Every item as given, with the municipalities of its place and sources added.
    expected = municipalities.assign(copy.deepcopy(ITEMS), SOURCES)
    assert json.loads(raw) == sorted(expected, key=lambda item: item["id"])
    burgfest = next(item for item in json.loads(raw) if item["id"] == "rf-event-burgfest")
    assert burgfest["_regiofeed"]["municipalities"] == ["Bad Belzig", "Wiesenburg/Mark"]
    assert "Straßensperrung „Am Schloß“".encode() in raw  # not \u-escaped
    assert raw.endswith(b"]\n")
    assert b'\n  {\n    "id": ' in raw  # indent 2, id first as in DESIGN.md


def test_items_json_bytes_do_not_depend_on_key_order(tmp_path: Path, items: list[dict]) -> None:
    shuffled = [dict(reversed(list(item.items()))) for item in items]
    publish_all(tmp_path / "a", items, SOURCES, HEALTH, SETTINGS, today=TODAY)
    publish_all(tmp_path / "b", shuffled, SOURCES, HEALTH, SETTINGS, today=TODAY)
    for name in ("data/items.json", "feed.json", "feed.xml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_health_json_is_the_health_dict_with_sorted_keys(out: Path) -> None:
    text = (out / "health.json").read_text(encoding="utf-8")

    assert json.loads(text) == HEALTH
    assert text == json.dumps(HEALTH, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- index.html ------------------------------------------------------------------------------


def section(page: lxml.html.HtmlElement, heading_id: str) -> lxml.html.HtmlElement:
    (found,) = page.xpath(f'//section[h2[@id="{heading_id}"]]')
    return found


def test_index_html_is_german_semantic_and_works_without_scripts(out: Path) -> None:
    page = lxml.html.fromstring((out / "index.html").read_bytes())

    assert page.get("lang") == "de"
    assert page.xpath("//head/meta[@charset='utf-8']")
    assert page.xpath("//meta[@name='viewport']")
    assert page.xpath("//header/h1")[0].text_content() == "Hoher Fläming aktuell"
    headings = [h.text_content() for h in page.xpath("//main/section/h2")]
    assert headings == [
        "Kommende Veranstaltungen",
        "Aktuelle Nachrichten",
        "Vergangene Veranstaltungen",
        "Quellen",
        "Abonnieren und herunterladen",
    ]
    assert page.xpath("//a[@class='skip']/@href") == ["#inhalt"]
    assert page.xpath("//main/@id") == ["inhalt"]
    # Scripts only add: the events as JSON-LD, and the search box, hidden until a script runs.
    assert page.xpath("//script/@type") == ["application/ld+json"]
    assert len(page.xpath("//script")) == 2
    assert page.xpath("//form[@role='search']")[0].get("hidden") is not None
    hrefs = set(page.xpath("//a/@href"))
    assert {
        "feed.xml", "atom.xml", "feed.json", "events.ics", "news/feed.xml", "events/atom.xml",
        "data/items.json", "data/items.csv", "data/events.csv", "health.json",
        "catalog.ttl", "catalog.rdf", "catalog.jsonld",
    } <= hrefs  # fmt: skip
    assert "webcal://daten.example.org/hoher-flaeming/events.ics" in hrefs
    alternates = page.xpath("//link[@rel='alternate']/@href")
    assert alternates == ["feed.xml", "atom.xml", "feed.json", "news/feed.xml", "events/feed.xml",
                          "events.ics", "events.geojson", "feeds.opml"]  # fmt: skip


def test_every_link_of_every_page_into_the_tree_resolves(out: Path) -> None:
    pages = sorted(out.rglob("index.html"))
    assert len(pages) == len(SCOPE_FOLDERS)
    for page_path in pages:
        page = lxml.html.fromstring(page_path.read_bytes())
        for href in page.xpath("//a/@href | //link/@href"):
            if href.startswith(("#", "https:", "http:", "webcal:")) or "catalog" in href:
                continue
            target = (page_path.parent / href).resolve()
            assert target.is_file(), f"{page_path.relative_to(out)} links to missing {href}"
            assert out.resolve() in target.parents


def test_index_html_lists_upcoming_events_soonest_first(out: Path) -> None:
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    upcoming = section(page, "veranstaltungen")

    # Grouped by day, each day with its heading (and anchor), soonest first.
    assert [h.text_content() for h in upcoming.xpath(".//h3")] == [
        "Do., 5. September 2024", "Di., 10. September 2024"]  # fmt: skip
    assert upcoming.xpath(".//h3/@id") == ["tag-2024-09-05", "tag-2024-09-10"]
    titles = [a.text_content() for a in upcoming.xpath(".//h4/a")]
    assert titles == [
        "Regionalkonferenz Smart Cities in Bad Belzig",
        "Online-Sprechstunde Breitbandausbau",
    ]
    text = upcoming.text_content()
    assert "Do., 5. September 2024, 10:00–17:00 Uhr" in text
    assert "Kulturzentrum Bad Belzig, Weitzgrunder Str. 4, 14806 Bad Belzig" in text
    assert "Di., 10. September 2024, 18:00–19:30 Uhr" in text
    assert "online" in text
    link = upcoming.xpath(".//h4/a")[0]
    assert link.get("href") == KONFERENZ["url"]
    assert upcoming.xpath(".//time/@datetime")[0] == "2024-09-05T10:00:00+02:00"


def test_index_html_puts_past_events_apart(out: Path) -> None:
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    past = section(page, "vergangen")

    assert "Burgfest auf Burg Eisenhardt" in past.text_content()
    assert "Fr., 25. – Sa., 26. August 2023" in past.text_content()
    assert "Burgfest" not in section(page, "veranstaltungen").text_content()


def test_running_multi_day_event_is_still_upcoming(tmp_path: Path, items: list[dict]) -> None:
    publish_all(tmp_path, items, SOURCES, HEALTH, SETTINGS, today=date(2023, 8, 26))
    page = lxml.html.fromstring((tmp_path / "index.html").read_bytes())
    assert "Burgfest auf Burg Eisenhardt" in section(page, "veranstaltungen").text_content()


def test_index_html_lists_news_newest_first_with_escaped_text(out: Path) -> None:
    raw = (out / "index.html").read_text(encoding="utf-8")
    page = lxml.html.fromstring(raw)
    news = section(page, "nachrichten")

    titles = [a.text_content() for a in news.xpath(".//h4/a")]
    assert titles == [  # municipality groups in alphabetical order
        "Neue Öffnungszeiten im Bürgerbüro",
        "Straßensperrung „Am Schloß“ & Umleitung",
    ]
    assert "Straßensperrung „Am Schloß“ &amp; Umleitung" in raw
    assert "21. August 2024" in news.text_content()
    assert "Vollsperrung für Bauarbeiten" in news.text_content()  # the summary
    assert "Gemeinde Wiesenburg/Mark" in news.text_content()


def test_index_html_shows_source_health(out: Path) -> None:
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    rows = section(page, "quellen").xpath(".//tbody/tr")

    assert len(rows) == len(SOURCES)
    cells = [[" ".join(cell.text_content().split()) for cell in row] for row in rows]
    assert cells[0][0].startswith("Stadt Bad Belzig – Aktuelles")
    assert "Lizenz: Datenlizenz Deutschland – Namensnennung – Version 2.0" in cells[0][0]
    assert cells[0][1:4] == ["in Ordnung", "So., 1. September 2024, 06:00 Uhr", "2"]
    assert cells[1][1] == "fehlgeschlagen HTTP 503 <Service Unavailable> & retry later"
    assert cells[2][1:4] == ["noch nicht abgerufen", "–", "–"]
    pages = section(page, "quellen").xpath(".//a[contains(., 'Seite und Feeds')]/@href")
    assert pages == [f"sources/{source['id']}/index.html" for source in SOURCES]


def test_index_html_escapes_markup_from_sources(tmp_path: Path, items: list[dict]) -> None:
    items[0]["title"] = '<script>alert("x")</script> Gemeinderat'
    publish_all(tmp_path, items, SOURCES, HEALTH, SETTINGS, today=TODAY)
    page = lxml.html.fromstring((tmp_path / "index.html").read_bytes())

    # Scripts only add: the events as JSON-LD, and the search box, hidden until a script runs.
    assert page.xpath("//script/@type") == ["application/ld+json"]
    assert len(page.xpath("//script")) == 2
    assert page.xpath("//form[@role='search']")[0].get("hidden") is not None
    assert '<script>alert("x")</script> Gemeinderat' in page.text_content()


def test_index_html_without_items_says_so(tmp_path: Path) -> None:
    publish_all(tmp_path, [], SOURCES, HEALTH, SETTINGS, today=TODAY)
    page = lxml.html.fromstring((tmp_path / "index.html").read_bytes())
    assert "keine Veranstaltungen" in section(page, "veranstaltungen").text_content()
    assert not page.xpath('//section[h2[@id="vergangen"]]')


# --- idempotence -----------------------------------------------------------------------------


def test_second_publish_with_same_input_writes_nothing(out: Path, items: list[dict]) -> None:
    before = {path: path.read_bytes() for path in published_paths(out)}
    for path in before:
        os.utime(path, (OLD, OLD))

    report = publish_all(out, copy.deepcopy(items), SOURCES, HEALTH, SETTINGS, today=TODAY)

    assert report.written == []
    assert not report.changed
    assert set(report.unchanged) == set(before)
    for path, data in before.items():
        assert path.stat().st_mtime == OLD
        assert path.read_bytes() == data
    assert not [path for path in out.rglob("*") if path.name.startswith(".")]  # no temp files
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        "events-excel.csv",
        "events.csv",
        "items-excel.csv",
        "items.csv",
        "items.json",
    ]


def test_changed_news_item_rewrites_only_the_files_that_carry_it(
    out: Path, items: list[dict]
) -> None:
    items[0]["title"] = "Geänderte Öffnungszeiten im Bürgerbüro"
    items[0]["date_modified"] = "2024-08-30T10:00:00+02:00"

    report = publish_all(out, items, SOURCES, HEALTH, SETTINGS, today=TODAY)

    # NEWS is a news item of bad-belzig-aktuelles in Bad Belzig: its three scopes' news files.
    carriers = ["", "sources/bad-belzig-aktuelles/", "municipalities/bad-belzig/"]
    news_files = [
        "feed.xml", "atom.xml", "feed.json", "news/feed.xml", "news/atom.xml", "news/feed.json",
        "data/items.json", "data/items.csv", "data/items-excel.csv", "index.html",
    ]  # fmt: skip
    assert without_catalogue(report.written, out) == {
        out / f"{folder}{name}" for folder in carriers for name in news_files
    } | {out / "feeds.opml", out / "search.json"}  # the root's OPML date and search index
    assert out / "health.json" in report.unchanged
    assert out / "events.ics" in report.unchanged
    assert out / "data/events.csv" in report.unchanged
    assert out / "municipalities/wiesenburg-mark/feed.xml" in report.unchanged
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert "Geänderte Öffnungszeiten im Bürgerbüro" in [entry.title for entry in feed.entries]
    assert feed.feed.updated_parsed[:4] == (2024, 8, 30, 8)


def test_next_day_only_rewrites_the_pages_it_changes(out: Path, items: list[dict]) -> None:
    report = publish_all(out, items, SOURCES, HEALTH, SETTINGS, today=date(2024, 9, 6))
    # The Regionalkonferenz (5 September) is now past on the pages that show it and leaves the
    # feeds of its scopes; the calendar still carries it (it ended less than
    # calendar_past_days ago) and data/ keeps it.
    folders = ("", "sources/bad-belzig-aktuelles/", "sources/kts-smart-cities/",
               "municipalities/bad-belzig/")
    feeds = ("feed.xml", "atom.xml", "feed.json",
             "events/feed.xml", "events/atom.xml", "events/feed.json")
    assert without_catalogue(report.written, out) == {
        out / f"{folder}{name}" for folder in folders for name in ("index.html", *feeds)
    }
    assert "rf-event-smart-cities" in (out / "data/items.json").read_text()
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    assert "Regionalkonferenz" in section(page, "vergangen").text_content()
