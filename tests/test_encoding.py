"""Encodings (WHATWG Encoding): header, BOM, declarations, and declarations that lie."""

from __future__ import annotations

from pathlib import Path

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import Reply, SiteServer
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl
from regiofeed.spiders.encoding import decode_body

PAGES = Path(__file__).parent / "sites" / "kinds" / "encoding"
TITLE = "Grüße aus Bad Belzig"
TEASER = "Für Straße und Brücke – 5 € „ermäßigt“"
SELECTORS = {"item": "div.item", "title": "h3", "summary": "p.teaser"}

# (file, Content-Type the server sends): every way a page can state, or misstate, its encoding.
VARIANTS = {
    "utf8-right": ("utf8.html", "text/html; charset=utf-8"),
    "header-latin1": ("cp1252.html", "text/html; charset=iso-8859-1"),
    "meta-latin1": ("cp1252-meta.html", "text/html"),
    "xml-declaration": ("cp1252.xhtml", "application/xhtml+xml"),
    "bom-over-header": ("utf8-bom-meta-latin1.html", "text/html; charset=iso-8859-1"),
    "utf16-bom": ("utf16.html", "text/html"),
    "cp1252-served-as-utf8": ("cp1252.html", "text/html; charset=utf-8"),
    "utf8-declared-latin1": ("utf8-meta-latin1.html", "text/html; charset=iso-8859-1"),
    "mojibake-in-text": ("mojibake.html", "text/html; charset=utf-8"),
}
FEEDS = {
    # RFC 7303 lets the header win over the XML declaration; here the header is wrong.
    "feed-cp1252-served-as-utf8": ("feed-cp1252.rss", "application/rss+xml; charset=utf-8"),
    "feed-utf8-declared-latin1": ("feed-utf8-declared-latin1.rss",
                                  "application/rss+xml; charset=iso-8859-1"),
    "feed-cp1252-right": ("feed-cp1252.rss", "application/rss+xml"),
}


def routes() -> dict[str, Reply]:
    return {f"/enc/{name}": Reply(body=(PAGES / file).read_bytes(), content_type=ctype)
            for name, (file, ctype) in {**VARIANTS, **FEEDS}.items()}


@pytest.fixture(scope="module")
def server():
    with SiteServer(PAGES, routes()) as started:
        yield started


def source(url: str, kind: str, **extra: object) -> Source:
    return Source.model_validate({
        "id": "test-encoding", "name": "Musterstadt", "publisher": "Stadt Musterstadt",
        "url": url, "kind": kind, "licence": "dl-by-de/2.0", **extra})


@pytest.mark.parametrize("name", VARIANTS)
def test_decode_body_gets_every_variant_right(name: str) -> None:
    file, content_type = VARIANTS[name]
    text = decode_body((PAGES / file).read_bytes(), content_type).text
    assert TITLE in text and TEASER in text
    assert "\ufffd" not in text and "Ã" not in text


def test_decode_body_says_when_the_declaration_was_overruled() -> None:
    assert decode_body("Für".encode("cp1252"), "text/html; charset=utf-8").overruled
    assert not decode_body("Für".encode(), "text/html; charset=utf-8").overruled
    assert decode_body(b"plain ascii", None).encoding == "utf-8"


@pytest.mark.parametrize("name", VARIANTS)
def test_html_crawl_reads_every_variant_without_mojibake(server: SiteServer, name: str) -> None:
    result = crawl(source(server.url(f"/enc/{name}"), "html", selectors=SELECTORS), FAST)
    assert result.ok, result.error
    [record] = result.records
    assert (record.title, record.summary or record.content_text) == (TITLE, TEASER)


@pytest.mark.parametrize("name", FEEDS)
def test_feed_crawl_reads_wrongly_declared_feeds(server: SiteServer, name: str) -> None:
    result = crawl(source(server.url(f"/enc/{name}"), "rss"), FAST)
    assert result.ok, result.error
    [record] = result.records
    assert record.title == TITLE
    assert record.content_text == TEASER
