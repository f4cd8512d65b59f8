"""A feature with a tour box beside it: the article is news, each concert of the box an event
it announces; a real crawl on 127.0.0.1 (spiders.tour_box)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl

EVENTS = Path(__file__).parent / "sites" / "events"


@pytest.mark.parametrize("item_kind", [None, "news"])
def test_a_tour_box_beside_an_article_gives_the_article_and_each_concert(
        serve_site, item_kind: str | None) -> None:
    # "Die Fensterbänder: LIVE 2025" atop "21. 11. Köln, Gebäude 9" and two more rows: no time,
    # no act in the rows; the act is the box's, the year its heading's.
    server: SiteServer = serve_site(EVENTS)
    extra = {"item_kind": item_kind} if item_kind else {}
    source = Source.model_validate({"id": "magazin", "name": "Musikmagazin",
                                    "publisher": "Musikmagazin", "kind": "auto",
                                    "url": server.url("/magazin/tour.html"),
                                    "licence": "dl-by-de/2.0", **extra})
    result = crawl(source, FAST)
    assert result.ok, result.error
    news = [r for r in result.records if r.kind == "news"]
    events = sorted((r for r in result.records if r.kind == "event"), key=lambda r: r.event.start)
    assert len(news) == 1 and "Fensterbänder" in news[0].title
    assert [(r.title, r.event.start, r.event.all_day, r.event.location.name,
             r.event.location.locality) for r in events] == [
        ("Die Fensterbänder", date(2025, 11, 21), True, "Gebäude 9", "Köln"),
        ("Die Fensterbänder", date(2025, 11, 22), True, "Knust", "Hamburg"),
        ("Die Fensterbänder", date(2025, 11, 25), True, "Lido", "Berlin"),
    ]
    assert {r.announced_by for r in events} == {news[0].key}
    assert len({r.key for r in events}) == 3
