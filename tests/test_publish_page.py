"""What people and machines expect of the events page and the files beside it: subscribing,
single events, JSON-LD, OpenGraph, search index, map data, OPML and CSV for German Excel."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import icalendar
import lxml.etree
import lxml.html
import pytest
import realistic_tree as region

from regiofeed.publish import PublishSettings, publish_all

SETTINGS = PublishSettings(
    title="Hoher Fläming aktuell",
    base_url="https://daten.example.org/hoher-flaeming/",
    imprint_url="https://www.example.org/impressum",
    privacy_url="https://www.example.org/datenschutz",
    accessibility_url="https://www.example.org/barrierefreiheit",
)


def publish(root: Path, settings: PublishSettings = SETTINGS, days_later: int = 0) -> Path:
    publish_all(root, region.items(), region.SOURCES, region.health(), settings,
                today=region.TODAY + timedelta(days=days_later))  # fmt: skip
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish(tmp_path_factory.mktemp("page") / "public")


def page_of(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def events_section(page: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    return page.xpath("//section[@aria-labelledby='veranstaltungen']")[0]


def test_coming_events_are_grouped_by_day_heute_and_morgen_first(tree: Path) -> None:
    events = events_section(page_of(tree / "index.html"))
    days = [h.text_content() for h in events.xpath(".//h3")]
    assert days[:2] == ["Heute, So., 1. September 2024", "Morgen, Mo., 2. September 2024"]
    assert len(days) == len(set(days)) >= 30
    # Every event names its municipality.
    sources = [p.text_content() for p in events.xpath(".//p[@class='source']")]
    assert all(" · Quelle: " in text for text in sources)


def test_without_coming_events_the_latest_past_ones_show_marked_as_past(tmp_path: Path) -> None:
    events = events_section(page_of(publish(tmp_path, days_later=200) / "index.html"))
    assert events.xpath("./h2")[0].text_content() == "Zuletzt stattgefundene Veranstaltungen"
    entries = events.xpath(".//li")
    assert len(entries) == 10
    marks = [li.xpath(".//p[@class='meta']/span[@class='past-mark']") for li in entries]
    assert all(mark and mark[0].text_content() == "Vergangen:" for mark in marks)
    assert not events.xpath(".//li//p[@class='add']")  # over: nothing to add to a calendar
    assert "keine Veranstaltungen angekündigt" in events.text_content()


def test_an_announced_event_is_shown_once(tree: Path) -> None:
    page = page_of(tree / "index.html")
    titles = [a.text_content() for a in page.xpath("//main//h4/a")]
    assert titles.count("Görzker Töpfermarkt am Wochenende") == 1
    assert "Görzker Töpfermarkt am Wochenende" in events_section(page).text_content()


def test_each_event_can_be_added_to_a_calendar(tree: Path) -> None:
    events = events_section(page_of(tree / "index.html"))
    konferenz = events.xpath(".//li[.//h4/a[contains(., 'Regionalkonferenz')]]")[0]
    ics, google, outlook = konferenz.xpath(".//p[@class='add']/a/@href")
    calendar = icalendar.Calendar.from_ical((tree / ics).read_bytes())
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == "rf-event-smart-cities@regiofeed"
    assert vevent["DTSTART"].dt.isoformat() == "2024-09-05T10:00:00+02:00"
    query = parse_qs(urlsplit(google).query)
    assert query["dates"] == ["20240905T080000Z/20240905T150000Z"]
    assert query["text"] == ["Regionalkonferenz Smart Cities in Bad Belzig"]
    assert "Weitzgrunder Str. 4" in query["location"][0]
    query = parse_qs(urlsplit(outlook).query)
    assert query["startdt"] == ["2024-09-05T10:00:00+02:00"]
    assert query["subject"] == ["Regionalkonferenz Smart Cities in Bad Belzig"]


def test_calendar_subscriptions_use_webcal_google_and_outlook(tree: Path) -> None:
    page = page_of(tree / "municipalities" / "bad-belzig" / "index.html")
    hrefs = page.xpath("//a/@href")
    url = "https://daten.example.org/hoher-flaeming/municipalities/bad-belzig/events.ics"
    assert "webcal://daten.example.org/hoher-flaeming/municipalities/bad-belzig/events.ics" in hrefs
    google = [h for h in hrefs if h.startswith("https://calendar.google.com/calendar/r?cid=")]
    assert parse_qs(urlsplit(google[0]).query)["cid"] == ["webcal" + url[len("https"):]]
    outlook = [h for h in hrefs if "addfromweb" in h]
    assert parse_qs(urlsplit(outlook[0]).query)["url"] == [url]


def test_head_names_every_feed_canonical_and_opengraph(tree: Path) -> None:
    page = page_of(tree / "municipalities" / "bad-belzig" / "index.html")
    base = "https://daten.example.org/hoher-flaeming/municipalities/bad-belzig/"
    assert page.xpath("//link[@rel='canonical']/@href") == [base]
    og = {m.get("property"): m.get("content") for m in page.xpath("//meta[@property]")}
    assert og["og:url"] == base and og["og:locale"] == "de_DE"
    assert og["og:title"] == "Bad Belzig – Hoher Fläming aktuell"
    alternates = {link.get("type"): link.get("href")
                  for link in page.xpath("//link[@rel='alternate']")}  # fmt: skip
    assert alternates["text/calendar"] == "events.ics"
    assert alternates["application/atom+xml"] == "atom.xml"
    assert alternates["text/x-opml"] == "../../feeds.opml"
    for href in alternates.values():
        assert (tree / "municipalities" / "bad-belzig" / href).resolve().is_file(), href


def test_every_event_on_the_page_is_a_schema_org_event(tree: Path) -> None:
    page = page_of(tree / "index.html")
    (script,) = page.xpath("//script[@type='application/ld+json']")
    graph = json.loads(script.text)["@graph"]
    shown = events_section(page).xpath(".//h4")
    assert len(graph) == len(shown) >= 30
    assert {event["@type"] for event in graph} == {"Event"}
    konferenz = next(e for e in graph if e["name"].startswith("Regionalkonferenz"))
    assert konferenz["startDate"] == "2024-09-05T10:00:00+02:00"
    assert konferenz["location"]["address"]["postalCode"] == "14806"
    assert konferenz["location"]["geo"]["latitude"] == 52.1419
    assert konferenz["eventAttendanceMode"].endswith("OfflineEventAttendanceMode")
    cancelled = [e for e in graph if e["eventStatus"].endswith("EventCancelled")]
    assert cancelled
    # "<" in a title cannot end the script element early.
    assert "<Offen>" not in script.text and "\\u003cOffen>" in script.text


def test_footer_links_imprint_privacy_and_accessibility(tree: Path) -> None:
    page = page_of(tree / "sources" / "naturpark" / "index.html")
    links = page.xpath("//footer//nav[@aria-label='Rechtliches']//a")
    assert [(a.text_content(), a.get("href")) for a in links] == [
        ("Impressum", SETTINGS.imprint_url),
        ("Datenschutz", SETTINGS.privacy_url),
        ("Barrierefreiheit", SETTINGS.accessibility_url),
    ]
    assert page.get("lang") == "de"


def test_search_index_holds_every_item_with_title_and_address(tree: Path) -> None:
    index = json.loads((tree / "search.json").read_text("utf-8"))
    assert len(index) == len(region.items())
    konferenz = next(e for e in index if e["t"].startswith("Regionalkonferenz"))
    assert konferenz["k"] == "event" and konferenz["m"] == "Bad Belzig"
    assert konferenz["w"] == "Do., 5. September 2024, 10:00–17:00 Uhr"
    page = page_of(tree / "municipalities" / "goerzke" / "index.html")
    assert page.xpath("//form[@role='search']/@data-index") == ["../../search.json"]


def test_events_geojson_has_the_events_with_coordinates(tree: Path) -> None:
    data = json.loads((tree / "events.geojson").read_text("utf-8"))
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert len(features) >= 20
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        assert 5.8 < lon < 15.1 and 47.2 < lat < 55.1  # RFC 7946: longitude first, Germany
    konferenz = next(f for f in features if f["id"] == "rf-event-smart-cities")
    assert konferenz["geometry"]["coordinates"] == [12.5953, 52.1419]
    assert konferenz["properties"]["when"] == "Do., 5. September 2024, 10:00–17:00 Uhr"
    online = [f for f in features if "online" in f["properties"]["place"]]
    assert not online  # online-only events have no place on a map


def test_opml_lists_every_feed_of_the_tree(tmp_path: Path) -> None:
    tree = publish(tmp_path, PublishSettings(title="Hoher Fläming aktuell"))  # relative links
    opml = lxml.etree.parse(tree / "feeds.opml")
    assert opml.getroot().get("version") == "2.0"
    feeds = opml.xpath("//outline[@type='rss']")
    assert len(feeds) == 3 * (1 + 9 + 5)  # all, news, events of the region and every scope
    for outline in feeds:
        parsed = feedparser.parse((tree / outline.get("xmlUrl")).read_bytes())
        assert not parsed.bozo and parsed.version == "rss20", outline.get("xmlUrl")
        assert (tree / outline.get("htmlUrl")).is_file()


def test_csv_for_german_excel_has_bom_and_semicolons_and_the_same_rows(tree: Path) -> None:
    for plain, excel in (("items.csv", "items-excel.csv"), ("events.csv", "events-excel.csv")):
        raw = (tree / "data" / excel).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
        text = (tree / "data" / plain).read_text("utf-8")
        assert rows == list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) > 30
