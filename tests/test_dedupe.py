"""One item per real-world thing: clusters over two and three sources, and every trap."""

from __future__ import annotations

import dedupe_fixtures as fx
import pytest

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.store import Store

# The module-scoped fixtures of dedupe_fixtures: one crawl of the five sites per module.
dedupe_site = fx.dedupe_site
crawled = fx.crawled

EXPECTED_NEWS = {
    # Republished a day later with a new title, linking to its source.
    frozenset({"stadt/hauptstrasse-gesperrt", "portal/vollsperrung-belzig"}),
    # The same story in other words, no link.
    frozenset({"stadt/bibliothek-oeffnungszeiten", "portal/bibliothek-samstag"}),
    # Three sources, three wordings.
    frozenset({"stadt/regionalkonferenz-smart-cities", "portal/smart-city-konferenz",
               "smartcity/regionalkonferenz-news"}),
    # The follow-up a week later stays its own item.
    frozenset({"stadt/hauptstrasse-sperrung-verlaengert"}),
    frozenset({"stadt/stadtputz-danke"}),
    frozenset({"portal/freibad-saison"}),
    frozenset({"smartcity/sprechstunde"}),
}
SENIOREN_JOINED = {"09", "10", "11"}
EXPECTED_EVENTS = {
    # Three sources announce the conference.
    frozenset({"stadt/termin-regionalkonferenz", "smartcity/regionalkonferenz-termin",
               "kreis/regionalkonferenz"}),
    # The district calendar lists the village's concert, in other words.
    frozenset({"kreis/chorkonzert-schmerwitz", "dorf/chorkonzert"}),
    # Two events at one place on one day stay two, each found on two sites.
    frozenset({"kreis/herbstbasar-reetz", "dorf/herbstbasar"}),
    frozenset({"kreis/tanzabend-reetz", "dorf/tanzabend"}),
    # A yearly event: 2024 and 2025 are two items.
    frozenset({"kreis/osterfeuer-2024"}),
    frozenset({"kreis/osterfeuer-2025", "dorf/osterfeuer"}),
    # A monthly event with one title is twelve items; three months are on the village site too.
    *(frozenset({f"kreis/seniorennachmittag-{m}", f"dorf/senioren-{m}"})
      for m in sorted(SENIOREN_JOINED)),
    *(frozenset({f"kreis/seniorennachmittag-{m:02d}"}) for m in range(1, 13)
      if f"{m:02d}" not in SENIOREN_JOINED),
}


@pytest.fixture
def store(db_url: str) -> Store:
    with Store(db_url) as opened:
        yield opened


def _sync(store: Store, site: object) -> None:
    from dedupe_fixtures import dedupe_sources

    store.sync_sources(dedupe_sources(site))  # type: ignore[arg-type]


@pytest.mark.parametrize("order", ["original first", "copies first"])
def test_records_of_several_sources_make_exactly_the_expected_items(
    store: Store, dedupe_site: object, crawled: dict[str, CrawlResult], order: str
) -> None:
    _sync(store, dedupe_site)
    names = ["stadt", "portal", "smartcity", "kreis", "dorf"]
    if order == "copies first":
        names.reverse()
    fx.store_all(store, [crawled[n] for n in names])
    items = store.items()
    assert fx.clusters(items, "event") == EXPECTED_EVENTS
    # The stories of the news sites must cluster exactly, whatever else is there.
    stories = {path for cluster in EXPECTED_NEWS for path in cluster}
    news = fx.clusters(items, "news")
    assert {c for c in news if c & stories} == EXPECTED_NEWS
    # A page about an event is that event, not news plus the event (issue 10): the monthly
    # announcements of the calendar are twelve event items and no news items.
    assert not {c for c in news if any("kreis/seniorennachmittag" in p for p in c)}


def test_item_takes_fields_from_the_original_and_lists_every_place(
    store: Store, dedupe_site: object, crawled: dict[str, CrawlResult]
) -> None:
    _sync(store, dedupe_site)
    fx.store_all(store, [crawled[n] for n in ("portal", "dorf", "kreis", "smartcity", "stadt")])
    by_path = {(i["_regiofeed"]["kind"], i["url"].split("/", 3)[3].strip("/")): i
               for i in store.items()}
    # The portal's copy came first but links to the town's page: the town's record speaks.
    closure = by_path["news", "stadt/hauptstrasse-gesperrt"]
    assert closure["title"] == "Hauptstraße ab Montag voll gesperrt"
    assert closure["_regiofeed"]["sources"] == ["stadt", "portal"]
    assert closure["_regiofeed"]["publisher"] == "Stadt Bad Belzig"
    assert [u.split("/", 3)[3] for u in closure["_regiofeed"]["also_at"]] == [
        "portal/vollsperrung-belzig/"]
    # No link: the earliest published is the original.
    conference = by_path["news", "stadt/regionalkonferenz-smart-cities"]
    assert conference["_regiofeed"]["sources"] == ["stadt", "smartcity", "portal"]
    # Events: the most complete record fills what the first lacks.
    concert = next(i for (kind, p), i in by_path.items()
                   if kind == "event" and "chorkonzert" in p)
    assert concert["_regiofeed"]["event"]["location"]["street"] == "Dorfstraße 12"
    assert sorted(concert["_regiofeed"]["sources"]) == ["dorf", "kreis"]


def test_second_run_keeps_every_item_id(
    store: Store, dedupe_site: object, crawled: dict[str, CrawlResult]
) -> None:
    _sync(store, dedupe_site)
    fx.store_all(store, list(crawled.values()))
    first = {i["id"]: i for i in store.items()}
    summaries = fx.store_all(store, list(crawled.values()))
    assert all(s.new == 0 and s.changed == 0 for s in summaries)
    assert {i["id"]: i for i in store.items()} == first
