"""atom.xml (RFC 4287) and the RSS provenance elements, read back with feedparser and lxml."""

from __future__ import annotations

import copy
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from test_publish import HEALTH, ITEMS, NEWEST_FIRST, SETTINGS, SOURCES, SPERRUNG, TODAY

from regiofeed.publish import PublishSettings, publish_all
from regiofeed.publish.atom import item_iri
from regiofeed.publish.context import PublishContext

ATOM = "{http://www.w3.org/2005/Atom}"
LICENCE_LABEL = "Datenlizenz Deutschland – Namensnennung – Version 2.0"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    publish_all(tmp_path, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    return tmp_path


def test_every_atom_and_rss_file_of_the_tree_parses_cleanly(out: Path) -> None:
    atoms = sorted(out.rglob("atom.xml"))
    rsses = sorted(out.rglob("feed.xml"))
    assert len(atoms) == len(rsses) == 6 * 3  # six scopes, each with all/news/events
    for path in atoms + rsses:
        feed = feedparser.parse(path.read_bytes())
        assert feed.bozo == 0, (path, feed.get("bozo_exception"))
        assert feed.version == ("atom10" if path.name == "atom.xml" else "rss20")


def test_atom_feed_has_the_required_elements_and_newest_items_first(out: Path) -> None:
    feed = feedparser.parse((out / "atom.xml").read_bytes())

    assert feed.feed.title == "Hoher Fläming aktuell"
    assert feed.feed.id == "https://daten.example.org/hoher-flaeming/atom.xml"
    assert feed.feed.updated_parsed[:6] == (2024, 8, 22, 5, 15, 0)  # newest change, not now
    assert feed.feed.language == "de"
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == ["https://daten.example.org/hoher-flaeming/atom.xml"]
    assert [entry.id for entry in feed.entries] == [item_iri(i) for i in NEWEST_FIRST]
    for entry in feed.entries:  # RFC 4287 4.1.2: id, title, updated; author via entry or feed
        assert entry.id and entry.title and entry.updated_parsed and entry.author


def test_atom_entry_says_where_it_comes_from_and_under_which_licence(out: Path) -> None:
    feed = feedparser.parse((out / "atom.xml").read_bytes())
    entry = next(e for e in feed.entries if e.title == SPERRUNG["title"])

    assert entry.link == SPERRUNG["url"]
    assert entry.published_parsed[:6] == (2024, 8, 21, 12, 30, 0)
    assert entry.updated_parsed[:6] == (2024, 8, 22, 5, 15, 0)
    assert entry.author == "Ordnungsamt Wiesenburg/Mark"
    assert entry.summary == SPERRUNG["summary"]
    assert "gesperrt &amp; wird über Reetz" in entry.content[0].value
    assert [tag.term for tag in entry.tags] == ["Verkehr", "Bauarbeiten"]
    assert entry.rights == f"© Gemeinde Wiesenburg/Mark · Lizenz: {LICENCE_LABEL} " + (
        "(http://dcat-ap.de/def/licenses/dl-by-de/2.0)"
    )
    assert entry.source.title == "Gemeinde Wiesenburg/Mark – Veranstaltungen"
    assert entry.source.link == "https://www.wiesenburgmark.de/veranstaltungen/"
    assert entry.source.rights == LICENCE_LABEL
    licence = [link.href for link in entry.source.links if link.rel == "license"]
    assert licence == ["http://dcat-ap.de/def/licenses/dl-by-de/2.0"]


def test_atom_entry_links_the_other_sites_that_carry_the_item(out: Path) -> None:
    feed = feedparser.parse((out / "atom.xml").read_bytes())
    entry = next(e for e in feed.entries if e.title.startswith("Regionalkonferenz"))
    related = [link.href for link in entry.links if link.rel == "related"]
    assert related == ["https://www.bad-belzig.de/aktuelles/regionalkonferenz"]
    assert "Do., 5. September 2024, 10:00–17:00 Uhr" in entry.content[0].value


def test_atom_ids_are_iris_and_stable(out: Path, tmp_path: Path) -> None:
    root = etree.parse(str(out / "atom.xml")).getroot()
    ids = [element.text for element in root.iter(f"{ATOM}id")]
    assert all(":" in value for value in ids)
    publish_all(tmp_path / "again", copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    assert (tmp_path / "again" / "atom.xml").read_bytes() == (out / "atom.xml").read_bytes()


def test_scope_and_stream_feeds_are_titled_and_filtered(out: Path) -> None:
    feed = feedparser.parse((out / "municipalities/wiesenburg-mark/events/atom.xml").read_bytes())
    assert feed.feed.title == "Hoher Fläming aktuell – Wiesenburg/Mark – Veranstaltungen"
    assert [entry.title for entry in feed.entries] == ["Online-Sprechstunde Breitbandausbau"]
    assert feed.feed.id.endswith("/municipalities/wiesenburg-mark/events/atom.xml")
    home = [link.href for link in feed.feed.links if link.rel == "alternate"]
    assert home == ["https://daten.example.org/hoher-flaeming/municipalities/wiesenburg-mark/"]


def test_empty_atom_feed_is_valid_and_stable(tmp_path: Path) -> None:
    from regiofeed.publish.atom import render

    ctx = PublishContext([], SOURCES, HEALTH, PublishSettings(), TODAY)
    first = render(ctx)
    feed = feedparser.parse(first)
    assert feed.bozo == 0
    assert feed.feed.updated_parsed[:3] == (1970, 1, 1)
    assert first == render(PublishContext([], SOURCES, HEALTH, PublishSettings(), TODAY))
    assert feed.feed.id.startswith("urn:uuid:")  # no base_url, still an IRI


def test_rss_items_carry_publisher_and_rights(out: Path) -> None:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    entry = next(e for e in feed.entries if e.id == "rf-news-sperrung")
    assert entry.publisher == "Gemeinde Wiesenburg/Mark"
    assert entry.rights.startswith("© Gemeinde Wiesenburg/Mark · Lizenz: " + LICENCE_LABEL)
    assert "Herausgeber" in feed.feed.rights  # the channel's <copyright>
    assert entry.source.href == "https://www.wiesenburgmark.de/veranstaltungen/"
