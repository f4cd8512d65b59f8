"""Sitemap sources (sitemaps.org): robots.txt, indexes, gzip, url_pattern and lastmod."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl
from regiofeed.spiders.sitemap import NotASitemap, parse_sitemap

SITE = Path(__file__).parent / "sites" / "kinds" / "sitemap"
BERLIN = ZoneInfo("Europe/Berlin")
NEWS = "/aktuelles/"


def sitemap_source(url: str, **extra: object) -> Source:
    return Source.model_validate({
        "id": "test-sitemap", "name": "Musterstadt", "publisher": "Stadt Musterstadt",
        "url": url, "kind": "sitemap", "licence": "dl-by-de/2.0", **extra})


def test_parse_sitemap_reads_urlsets_indexes_and_gzip() -> None:
    pages, children = parse_sitemap(gzip.decompress((SITE / "sitemaps/aktuelles.xml.gz")
                                                    .read_bytes()))
    assert children == []
    assert pages[0] == ("/aktuelles/neue-kita/", datetime(2024, 8, 20, 9, 30, tzinfo=BERLIN))
    # A date alone is midnight in Berlin.
    assert pages[1][1] == datetime(2024, 8, 28, tzinfo=BERLIN)
    assert parse_sitemap((SITE / "sitemaps/aktuelles.xml.gz").read_bytes()) == (pages, [])
    pages, children = parse_sitemap((SITE / "sitemap_index.xml").read_bytes())
    assert pages == []
    assert children == ["{{base_url}}/sitemaps/aktuelles.xml.gz",
                        "{{base_url}}/sitemaps/seiten.xml"]


@pytest.mark.parametrize("body", [b"", b"<html><body>no</body></html>", b"\x1f\x8b broken",
                                  b'<?xml version="1.0"?><rss version="2.0"/>'])
def test_what_is_no_sitemap_is_a_typed_error(body: bytes) -> None:
    with pytest.raises(NotASitemap):
        parse_sitemap(body)


def test_sitemap_crawl_from_the_site_root(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    result = crawl(sitemap_source(server.url("/"), url_pattern=NEWS), FAST)
    assert result.ok, result.error
    records = {(r.kind, r.title): r for r in result.records}
    assert set(records) == {
        ("news", "Neue Kita „Sonnenschein“ eröffnet"),
        ("news", "Repair-Café öffnet wieder"), ("event", "Repair-Café öffnet wieder"),
        ("news", "Haushalt 2025 beschlossen"),
    }
    kita = records["news", "Neue Kita „Sonnenschein“ eröffnet"]  # JSON-LD NewsArticle
    assert kita.date_published == datetime(2024, 8, 20, 9, 30, tzinfo=BERLIN)
    assert kita.author == "Pressestelle Musterstadt"
    assert "Sechzig Kinder" in kita.content_text
    cafe = records["event", "Repair-Café öffnet wieder"]  # main content and labelled facts
    assert cafe.announced_by == server.url("/aktuelles/repair-cafe/")
    assert cafe.event.start == datetime(2024, 9, 14, 14, tzinfo=BERLIN)
    assert cafe.event.location.street == "Am Anger 3"
    assert records["news", "Repair-Café öffnet wieder"].date_published == datetime(
        2024, 8, 28, 8, tzinfo=BERLIN)
    haushalt = records["news", "Haushalt 2025 beschlossen"]
    assert haushalt.date_published == date(2024, 8, 30)  # "Veröffentlicht am …"
    # The Impressum and /intern/ do not match url_pattern; the foreign host is not this
    # sitemap's to list.
    assert server.hits("/intern/entwurf/") == 0
    assert server.hits("/impressum/") == 0


def test_sitemap_crawl_obeys_robots_and_reads_the_newest_pages_first(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    result = crawl(sitemap_source(server.url("/"), max_pages=2), FAST)
    assert result.ok, result.error
    # Newest lastmod first: haushalt-2025 (2099), then /intern/entwurf/ (30 Aug 2024), which
    # robots.txt forbids: a warning, never a request.
    assert [r.title for r in result.records] == ["Haushalt 2025 beschlossen"]
    assert server.hits("/intern/entwurf/") == 0
    assert any("/intern/entwurf/" in warning for warning in result.warnings)


def test_sitemap_crawl_skips_pages_unchanged_since_lastmod(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    source = sitemap_source(server.url("/"), url_pattern=NEWS)
    first = crawl(source, FAST)
    before = len(server.requests)
    second = crawl(source, FAST, validators=first.validators)
    assert second.ok, second.error
    asked = [r.path for r in server.requests[before:] if r.path.startswith(NEWS)]
    # lastmod 2024 is before the Last-Modified of our last fetch: not even asked for.
    # Only the page whose lastmod lies ahead is asked, conditionally, and answers 304.
    assert asked == ["/aktuelles/haushalt-2025/"]
    assert second.statuses.get("304") == 1
    assert second.records == []
    cafe = server.url("/aktuelles/repair-cafe/")
    assert {cafe, cafe + "#event", server.url("/aktuelles/neue-kita/"),
            server.url("/aktuelles/haushalt-2025/")} <= set(second.unchanged_keys)


def test_sitemap_crawl_of_a_sitemap_url(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    result = crawl(sitemap_source(server.url("/sitemaps/seiten.xml"), url_pattern="impressum"),
                   FAST)
    assert result.ok, result.error
    assert [r.title for r in result.records] == ["Impressum"]


def test_sitemap_crawl_of_no_sitemap_fails(serve_site) -> None:
    server: SiteServer = serve_site(SITE)
    result = crawl(sitemap_source(server.url("/impressum/")), FAST)
    assert not result.ok
    assert "not a sitemap" in result.error
