"""Lifecycle of records and items: gone after two good runs, never all of a source at once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.records import Record
from regiofeed.models.sources import parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow

BERLIN = ZoneInfo("Europe/Berlin")
SOURCES = parse_sources("""
[[source]]
id = "stadt"
name = "Stadt"
publisher = "Stadt Bad Belzig"
url = "https://stadt.example/"
kind = "rss"
licence = "dl-by-de/2.0"

[[source]]
id = "portal"
name = "Portal"
publisher = "Regionalportal"
url = "https://portal.example/"
kind = "rss"
licence = "dl-by-de/2.0"
""").sources
STORY = ("Die Stadtbibliothek im Haus am Springbach ist ab September auch samstags von 10 bis "
         "13 Uhr geöffnet. Dienstags und donnerstags schließt sie künftig erst um 19 Uhr, "
         "weil sich Berufstätige und Familien längere Öffnungszeiten gewünscht haben.")


def news(source: str, slug: str, title: str, text: str = STORY, day: int = 7) -> Record:
    url = f"https://{source}.example/{slug}"
    return Record(source_id=source, key=url, url=url, title=title, content_text=text,
                  date_published=datetime(2024, 8, day, 9, tzinfo=BERLIN))


def run(store: Store, source: str, records: list[Record], ok: bool = True):
    return store.apply_crawl(store.begin_run(), CrawlResult(
        source_id=source, ok=ok, records=records, error=None if ok else "HTTP 500"), utcnow())


@pytest.fixture
def store(db_url: str) -> Store:
    with Store(db_url) as opened:
        opened.sync_sources(SOURCES)
        yield opened


def test_a_source_that_shows_none_of_its_records_keeps_them_and_says_so(store: Store) -> None:
    old = [news("stadt", "a", "Sommerfest", "Ein Fest im Park mit Musik und Kuchen."),
           news("stadt", "b", "Bibliothek", STORY)]
    run(store, "stadt", old)
    # The site answers with other things each time (a redesign, the wrong page): none of what
    # it showed before is there, so nothing is marked missing.
    for n in range(3):
        wrong = [news("stadt", f"seite-{n}", f"Impressum {n}", f"Seite {n} des Impressums.")]
        assert run(store, "stadt", wrong).gone == 0
        health = store.health(["stadt"])["stadt"]
        assert any("suspicious" in w for w in health["warnings"])
    assert {"Sommerfest", "Bibliothek"} <= {i["title"] for i in store.items()}
    # A normal run again: what is missing from it goes after two such runs.
    assert run(store, "stadt", old[:1]).gone == 0
    assert run(store, "stadt", old[:1]).gone == 4  # "b" and the three wrong pages


def test_failed_runs_never_count_towards_gone(store: Store) -> None:
    a, b = news("stadt", "a", "A", "Erster Text über den Markt."), news("stadt", "b", "B")
    run(store, "stadt", [a, b])
    run(store, "stadt", [a])
    for _ in range(3):
        run(store, "stadt", [], ok=False)
    assert {i["title"] for i in store.items()} == {"A", "B"}
    assert run(store, "stadt", [a]).gone == 1


def test_item_stays_while_any_of_its_records_is_there_and_is_kept_in_the_store(
    store: Store
) -> None:
    keep = news("stadt", "keep", "Markttag", "Am Samstag ist wieder Markttag auf dem Platz.")
    town = news("stadt", "bib", "Neue Öffnungszeiten der Stadtbibliothek")
    copy = news("portal", "bib", "Bibliothek öffnet auch samstags", day=8)
    other = news("portal", "other", "Freibad", "Das Freibad bleibt bis September geöffnet.")
    run(store, "stadt", [keep, town])
    run(store, "portal", [copy, other])
    (item,) = [i for i in store.items() if len(i["_regiofeed"]["sources"]) == 2]
    for _ in range(2):
        run(store, "stadt", [keep])
    still = {i["id"]: i for i in store.items()}
    assert item["id"] in still
    assert still[item["id"]]["_regiofeed"]["sources"] == ["portal"]
    for _ in range(2):
        run(store, "portal", [other])
    assert item["id"] not in {i["id"] for i in store.items()}
    assert item["id"] in {i["id"] for i in store.items(include_gone=True)}
