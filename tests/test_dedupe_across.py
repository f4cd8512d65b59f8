"""One thing, one item across kinds (issue 10): a news page that republishes an event joins it,
by its link to the original or by the same occurrence; notices that share their words but name
other places or other file numbers stay apart. Real crawls of tests/sites/dedupe_across/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crawl_settings import PATIENT

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import Source
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow
from regiofeed.spiders.crawl import crawl

SITES = Path(__file__).parent / "sites" / "dedupe_across"
SOURCES = {
    # The town's calendar, the local paper's feed, the district's gazette.
    "stadt": ("Stadt Bad Belzig – Veranstaltungen", "/stadt/termine.ics", "ical"),
    "zeitung": ("Fläming-Anzeiger – Lokales", "/zeitung/feed.xml", "rss"),
    "amtsblatt": ("Amtsblatt Hoher Fläming", "/amtsblatt/feed.xml", "rss"),
}


def _sources(server: SiteServer) -> list[Source]:
    return [Source.model_validate({
        "id": sid, "name": name, "publisher": name, "url": server.url(path), "kind": kind,
        "licence": "dl-by-de/2.0", **({"item_kind": "event"} if kind == "ical" else {}),
    }) for sid, (name, path, kind) in SOURCES.items()]


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with SiteServer(SITES) as server:
        yield server


@pytest.fixture(scope="module")
def crawled(site: SiteServer) -> dict[str, CrawlResult]:
    results = {s.id: crawl(s, PATIENT) for s in _sources(site)}
    for result in results.values():
        assert result.ok, result.error
    return results


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as opened:
        yield opened


def _items(store: Store, site: SiteServer, crawled: dict[str, CrawlResult],
           order: list[str]) -> dict[str, dict]:
    """Store the crawls in `order`; return the items by the paths of their records."""
    store.sync_sources(_sources(site))
    run_id = store.begin_run()
    for sid in order:
        store.apply_crawl(run_id, crawled[sid], utcnow())
    found: dict[str, dict] = {}
    for item in store.items():
        for url in [item["url"], *item["_regiofeed"].get("also_at", [])]:
            path = url.split("/", 3)[3].strip("/")
            assert path not in found, f"{path} published twice"
            found[path] = item
    return found


@pytest.mark.parametrize("order", [["stadt", "zeitung", "amtsblatt"],
                                   ["amtsblatt", "zeitung", "stadt"]])
def test_a_news_page_that_republishes_an_event_is_that_event(
    store: Store, site: SiteServer, crawled: dict[str, CrawlResult], order: list[str]
) -> None:
    items = _items(store, site, crawled, order)
    # "Quelle: Stadt Bad Belzig" links the paper's short retelling (another title, its own
    # words) to the calendar's event.
    lantern = items["stadt/laternenumzug"]
    assert items["zeitung/laternenumzug-belzig"]["id"] == lantern["id"]
    # No link: the same concert in other words, announced a week before it.
    concert = items["stadt/adventskonzert"]
    assert items["zeitung/adventskonzert-kammerchor"]["id"] == concert["id"]
    for item in (lantern, concert):
        # Whichever came first, the item is the event, told by the calendar.
        assert item["_regiofeed"]["kind"] == "event"
        assert item["url"].endswith(("/stadt/laternenumzug/", "/stadt/adventskonzert/"))
        assert item["_regiofeed"]["event"]["start"].startswith(("2024-11-08T18:00",
                                                                "2024-12-08T16:00"))
        assert sorted(item["_regiofeed"]["sources"]) == ["stadt", "zeitung"]


@pytest.mark.parametrize("order", [["stadt", "zeitung", "amtsblatt"],
                                   ["amtsblatt", "zeitung", "stadt"]])
def test_shared_words_with_other_places_or_file_numbers_stay_apart(
    store: Store, site: SiteServer, crawled: dict[str, CrawlResult], order: list[str]
) -> None:
    items = _items(store, site, crawled, order)
    apart = [
        # The same council boilerplate and title, another town's session (Drucksache).
        ("stadt/svv-november", "zeitung/svv-treuenbrietzen"),
        # The same notice of street cleaning, for two villages named in the titles.
        ("zeitung/strassenreinigung-reetz", "amtsblatt/strassenreinigung-schmerwitz"),
        # The same wording for two development plans (Bebauungsplan Nr. 12 and Nr. 14).
        ("amtsblatt/bplan-12", "zeitung/bplan-14"),
    ]
    for one, other in apart:
        assert items[one]["id"] != items[other]["id"], (one, other)
        assert len(items[one]["_regiofeed"]["sources"]) == 1
    assert items["stadt/svv-november"]["_regiofeed"]["kind"] == "event"
    assert items["zeitung/svv-treuenbrietzen"]["_regiofeed"]["kind"] == "news"
