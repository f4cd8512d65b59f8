"""A source cut off by its time budget stops downloading at once and frees its host."""

from __future__ import annotations

import time
from pathlib import Path

from crawl_settings import FAST

from regiofeed.flows.demo.server import Reply, Request, SiteServer, slow
from regiofeed.models.sources import Source
from regiofeed.spiders.engine import CrawlEngine

DETAILS = [f"/liste/meldung-{n}.html" for n in range(1, 5)]
LIST_PAGE = "<html><body><div class='news'>" + "".join(
    f"<div class='item'><h3><a href='{path}'>Meldung {n}</a></h3></div>"
    for n, path in enumerate(DETAILS, 1)) + "</div></body></html>"


def _list_source(url: str) -> Source:
    return Source.model_validate({
        "id": "liste", "name": "Liste", "publisher": "Stadt Musterstadt", "url": url,
        "kind": "html", "licence": "dl-by-de/2.0",
        "selectors": {"item": "div.item", "title": "h3", "link": "h3 a::attr(href)"},
    })


def _feed_source(url: str) -> Source:
    return Source.model_validate({
        "id": "feed", "name": "Feed", "publisher": "Stadt Musterstadt", "url": url,
        "kind": "rss", "licence": "dl-by-de/2.0",
    })


def test_a_cut_off_source_stops_downloading_at_once(tmp_path: Path) -> None:
    """The detail pages answer after 20 s; the list's source has 3 s. When its budget ends,
    its download under way is cancelled then, not a second later at its read timeout, and
    the host's next source is fetched at once; the other detail pages are never requested."""
    (tmp_path / "liste").mkdir()
    (tmp_path / "liste" / "index.html").write_text(LIST_PAGE, encoding="utf-8")
    (tmp_path / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Aktuelles</title>'
        "<item><title>Sommerfest</title><link>/sommerfest</link></item></channel></rss>",
        encoding="utf-8")
    arrived: dict[str, float] = {}

    def timed(path: str, delay: float) -> object:
        def route(request: Request) -> Reply:
            arrived.setdefault(path, time.monotonic())
            return slow(delay)
        return route

    routes = {path: timed(path, 20.0) for path in DETAILS}
    routes.update({path: timed(path, 0.0) for path in ("/liste/", "/feed.xml")})
    # One request at a time on the host: the feed waits for the slot the detail page holds.
    cut = FAST.model_copy(update={"timeout": 60, "source_timeout": 3,
                                  "concurrency_per_domain": 1})
    patient = cut.model_copy(update={"source_timeout": 120})
    # One source at a time: the feed starts when the list's source has ended.
    with SiteServer(tmp_path, routes) as site, CrawlEngine(workers=1,
                                                            sources_per_worker=1) as engine:
        results = {r.source_id: r for r in engine.crawl_many([
            (_list_source(site.url("/liste/")), cut, None),
            (_feed_source(site.url("/feed.xml")), patient, None)])}
        requested = [request.path for request in site.requests]
    assert "killed after 3 s" in (results["liste"].error or ""), results["liste"].error
    assert results["feed"].ok, results["feed"].error
    assert [r.title for r in results["feed"].records] == ["Sommerfest"]
    # The first detail page was under way when the budget ended; the others never left.
    assert [path for path in requested if path in DETAILS] == DETAILS[:1], requested
    # The list's budget started just before its list page was asked for; the feed was asked
    # for right when it ended, not when the download under way would have timed out (a
    # second past the budget).
    waited = arrived["/feed.xml"] - arrived["/liste/"]
    assert 2.9 < waited < 3.6, waited
