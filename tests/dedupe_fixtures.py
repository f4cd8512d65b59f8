"""Dedupe fixtures: five sites of one region served from tests/sites/dedupe/, crawled for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crawl_settings import PATIENT as FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import Source
from regiofeed.models.store import Store
from regiofeed.models.store_crawls import SourceRunSummary
from regiofeed.models.tables import utcnow
from regiofeed.spiders.crawl import crawl

DEDUPE_SITES = Path(__file__).parent / "sites" / "dedupe"
NAMES = {
    "stadt": ("Stadt Bad Belzig – Aktuelles", "Stadt Bad Belzig", "Bad Belzig"),
    "portal": ("Regionalportal Hoher Fläming", "Regionalportal Hoher Fläming", None),
    "smartcity": ("Smart City Bad Belzig+Wiesenburg", "Modellprojekt Smart City", "Bad Belzig"),
    "kreis": ("Veranstaltungskalender", "Landkreis Potsdam-Mittelmark", None),
    "dorf": ("Dorfverein Reetz – Termine", "Dorfverein Reetz e. V.", "Wiesenburg/Mark"),
}


def dedupe_sources(server: SiteServer) -> list[Source]:
    return [Source.model_validate({
        "id": sid, "name": name, "publisher": publisher, "municipality": municipality,
        "url": server.url(f"/{sid}/feed.xml"), "kind": "rss", "licence": "dl-by-de/2.0",
    }) for sid, (name, publisher, municipality) in NAMES.items()]


@pytest.fixture(scope="module")
def dedupe_site() -> Iterator[SiteServer]:
    with SiteServer(DEDUPE_SITES) as server:
        yield server


@pytest.fixture(scope="module")
def crawled(dedupe_site: SiteServer) -> dict[str, CrawlResult]:
    """Crawl each fixture site once per module, each in its own process."""
    results = {s.id: crawl(s, FAST) for s in dedupe_sources(dedupe_site)}
    for result in results.values():
        assert result.ok, result.error
    return results


def store_all(store: Store, results: list[CrawlResult]) -> list[SourceRunSummary]:
    run_id = store.begin_run()
    return [store.apply_crawl(run_id, result, utcnow()) for result in results]


def clusters(items: list[dict], kind: str) -> set[frozenset[str]]:
    """Each item of `kind` as the set of URL paths of its records ("stadt/…")."""
    found = set()
    for item in items:
        if item["_regiofeed"]["kind"] == kind:
            urls = [item["url"], *item["_regiofeed"].get("also_at", [])]
            found.add(frozenset(u.split("/", 3)[3].strip("/") for u in urls))
    return found
