"""Scopes of the tree (root, per source, per municipality): slugs, paths, membership, clean-up."""

from __future__ import annotations

import copy
from pathlib import Path

import lxml.html
import pytest
from test_publish import HEALTH, ITEMS, SETTINGS, SOURCES, TODAY

from regiofeed.publish import publish_all
from regiofeed.publish.scopes import (
    CALENDAR,
    EVENTS_CSV,
    FEED_ATOM,
    FEED_JSON,
    FEED_RSS,
    ITEMS_CSV,
    ITEMS_JSON,
    STREAMS,
    Scope,
    items_by_scope,
    municipality_slug,
    scope_files,
    scopes,
)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Bad Belzig", "bad-belzig"),
        ("Wiesenburg/Mark", "wiesenburg-mark"),
        ("Görzke", "goerzke"),
        ("Mühlenfließ", "muehlenfliess"),
        ("Übigau-Wahrenbrück", "uebigau-wahrenbrueck"),
        ("Brück (Mark)", "brueck-mark"),
        ("  Borsdorf  ", "borsdorf"),
        ("Treuenbrietzen, Stadt", "treuenbrietzen-stadt"),
        ("Sankt Egidien — Süd", "sankt-egidien-sued"),
        ("Cöthen é", "coethen-e"),
    ],
)
def test_municipality_slug(name: str, slug: str) -> None:
    assert municipality_slug(name) == slug


def test_file_names_are_the_published_contract() -> None:
    assert (FEED_RSS, FEED_ATOM, FEED_JSON, CALENDAR) == (
        "feed.xml", "atom.xml", "feed.json", "events.ics")  # fmt: skip
    assert (ITEMS_JSON, ITEMS_CSV, EVENTS_CSV) == (
        "data/items.json", "data/items.csv", "data/events.csv")  # fmt: skip
    assert STREAMS == ("news", "events")
    scope = Scope("municipalities/bad-belzig/", "Bad Belzig", "municipality", "Bad Belzig")
    assert scope_files(scope) == [
        "municipalities/bad-belzig/feed.xml",
        "municipalities/bad-belzig/atom.xml",
        "municipalities/bad-belzig/feed.json",
        "municipalities/bad-belzig/events.ics",
        "municipalities/bad-belzig/data/items.json",
        "municipalities/bad-belzig/data/items.csv",
        "municipalities/bad-belzig/data/events.csv",
        "municipalities/bad-belzig/news/feed.xml",
        "municipalities/bad-belzig/news/atom.xml",
        "municipalities/bad-belzig/news/feed.json",
        "municipalities/bad-belzig/events/feed.xml",
        "municipalities/bad-belzig/events/atom.xml",
        "municipalities/bad-belzig/events/feed.json",
        "municipalities/bad-belzig/data/items-excel.csv",
        "municipalities/bad-belzig/data/events-excel.csv",
        "municipalities/bad-belzig/events.geojson",
    ]


def test_scopes_are_root_sources_then_municipalities() -> None:
    listed = scopes(SOURCES, ITEMS)
    assert [(s.path, s.kind, s.key, s.title) for s in listed] == [
        ("", "all", None, ""),
        ("sources/bad-belzig-aktuelles/", "source", "bad-belzig-aktuelles",
         "Stadt Bad Belzig – Aktuelles"),
        ("sources/kts-smart-cities/", "source", "kts-smart-cities", "KTS Smart Cities"),
        ("sources/wiesenburg-veranstaltungen/", "source", "wiesenburg-veranstaltungen",
         "Gemeinde Wiesenburg/Mark – Veranstaltungen"),
        ("municipalities/bad-belzig/", "municipality", "Bad Belzig", "Bad Belzig"),
        ("municipalities/wiesenburg-mark/", "municipality", "Wiesenburg/Mark", "Wiesenburg/Mark"),
    ]  # fmt: skip


def test_a_municipality_only_items_name_still_gets_a_scope() -> None:
    item = copy.deepcopy(ITEMS[0])
    item["_regiofeed"]["municipality"] = "Görzke"
    assert "municipalities/goerzke/" in [s.path for s in scopes(SOURCES, [item])]


def test_items_are_dealt_to_their_scopes_in_order() -> None:
    listed = scopes(SOURCES, ITEMS)
    dealt = items_by_scope(listed, ITEMS)
    ids = {scope.path: [item["id"] for item in dealt[scope]] for scope in listed}

    assert ids[""] == [item["id"] for item in ITEMS]
    # The Regionalkonferenz is in both of its sources' scopes.
    assert ids["sources/bad-belzig-aktuelles/"] == ["rf-news-buergerbuero", "rf-event-smart-cities"]
    assert ids["sources/kts-smart-cities/"] == ["rf-event-smart-cities"]
    assert ids["municipalities/bad-belzig/"] == ["rf-news-buergerbuero", "rf-event-smart-cities"]
    assert ids["municipalities/wiesenburg-mark/"] == ["rf-event-breitband", "rf-news-sperrung"]
    for scope in listed:  # Scope.matches agrees with the one-pass dealing
        assert dealt[scope] == [item for item in ITEMS if scope.matches(item)]


def test_gone_scopes_lose_the_files_publish_wrote_and_nothing_else(tmp_path: Path) -> None:
    publish_all(tmp_path, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    (tmp_path / "sources/kts-smart-cities/README.txt").write_text("mine", encoding="utf-8")

    remaining = [s for s in SOURCES if s["id"] != "kts-smart-cities"]
    items = [i for i in copy.deepcopy(ITEMS) if i["_regiofeed"].get("municipality") != "Bad Belzig"]
    report = publish_all(tmp_path, items, remaining, HEALTH, SETTINGS, today=TODAY)

    gone = tmp_path / "sources/kts-smart-cities"
    assert sorted(p.relative_to(gone).as_posix() for p in gone.rglob("*")) == ["README.txt"]
    assert (gone / "feed.xml") in report.removed
    # Bad Belzig is still configured (bad-belzig-aktuelles), so its scope stays.
    assert (tmp_path / "municipalities/bad-belzig/feed.xml").is_file()
    assert (tmp_path / "sources/wiesenburg-veranstaltungen/feed.xml").is_file()

    without = [s for s in remaining if s.get("municipality") != "Bad Belzig"]
    publish_all(tmp_path, items, without, HEALTH, SETTINGS, today=TODAY)
    assert not (tmp_path / "municipalities/bad-belzig").exists()
    assert not (tmp_path / "sources/bad-belzig-aktuelles").exists()


def page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def test_municipality_filter_links_to_pages_of_the_same_template(tmp_path: Path) -> None:
    publish_all(tmp_path, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    root = page(tmp_path / "index.html")

    (nav,) = root.xpath("//nav[@class='filter']")
    links = [(a.text_content(), a.get("href"), a.get("aria-current")) for a in nav.xpath(".//a")]
    assert links == [
        ("Alle Gemeinden", "index.html", "page"),
        ("Bad Belzig", "municipalities/bad-belzig/index.html", None),
        ("Wiesenburg/Mark", "municipalities/wiesenburg-mark/index.html", None),
    ]

    belzig = page(tmp_path / "municipalities/bad-belzig/index.html")
    assert belzig.get("lang") == "de"
    assert belzig.xpath("//h1")[0].text_content() == "Bad Belzig"
    assert belzig.xpath("//title")[0].text_content() == "Bad Belzig – Hoher Fläming aktuell"
    current = belzig.xpath("//nav[@class='filter']//a[@aria-current='page']")
    assert [a.text_content() for a in current] == ["Bad Belzig"]
    assert belzig.xpath("//nav[@class='filter']//a/@href")[0] == "../../index.html"
    titles = [a.text_content() for a in belzig.xpath("//main//h4/a")]
    assert titles == [
        "Regionalkonferenz Smart Cities in Bad Belzig",
        "Neue Öffnungszeiten im Bürgerbüro",
    ]
    # Its own feeds sit beside it; the catalogue is at the root.
    hrefs = set(belzig.xpath("//a/@href"))
    assert {"feed.xml", "events.ics", "news/atom.xml", "../../catalog.ttl"} <= hrefs
    sources = belzig.xpath("//section[h2[@id='quellen']]//tbody/tr/th/a[1]/text()")
    assert sources == [
        "Stadt Bad Belzig – Aktuelles",
        # not configured for Bad Belzig, but an item of each is there (the Burgfest is held
        # at Burg Eisenhardt in Bad Belzig)
        "Gemeinde Wiesenburg/Mark – Veranstaltungen",
        "KTS Smart Cities",
    ]


def test_root_page_links_every_scope_feed(tmp_path: Path) -> None:
    publish_all(tmp_path, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    hrefs = set(page(tmp_path / "index.html").xpath("//a/@href"))
    for scope in scopes(SOURCES, ITEMS)[1:]:
        for name in (FEED_RSS, FEED_ATOM, FEED_JSON, CALENDAR):
            assert scope.file(name) in hrefs
