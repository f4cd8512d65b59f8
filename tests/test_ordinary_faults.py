"""Ordinary faults of real pages and files: odd links, markup in errors, credentials, encodings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_crawl import FAST, LIST_SELECTORS, source
from test_flow import source_block, write_sources

from regiofeed.flows.aggregate import aggregate
from regiofeed.flows.cli import main
from regiofeed.flows.demo.server import Reply, SiteServer, error
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import SourcesError, load_sources, parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow
from regiofeed.spiders.crawl import crawl
from regiofeed.spiders.jsonld import structured_page

# tests/sites/kontaktlinks/: five entries, the middle three linking mailto:, tel:, javascript:.
REAL_ENTRIES = ["Frühjahrsputz am Dorfteich", "Neue Sitzbänke am Anger"]


@pytest.mark.parametrize("kind", ["html", "auto"])
def test_mailto_tel_and_javascript_links_skip_their_entry_not_the_list(
        site: SiteServer, kind: str) -> None:
    extra = {"selectors": LIST_SELECTORS} if kind == "html" else {}
    result = crawl(source(site.url("/kontaktlinks/"), kind, **extra), FAST)
    assert result.ok, result.error
    assert sorted(r.title for r in result.records) == REAL_ENTRIES
    assert not any("parse error" in w for w in result.warnings), result.warnings


def test_html_list_notes_which_entries_it_skipped(site: SiteServer) -> None:
    result = crawl(source(site.url("/kontaktlinks/"), "html", selectors=LIST_SELECTORS), FAST)
    skipped = [w for w in result.warnings if w.startswith("skipped")]
    assert [w.split(":")[-2].rsplit(" ", 1)[-1] for w in skipped] == ["mailto", "tel",
                                                                       "javascript"]


def test_schema_org_item_list_with_a_mailto_entry_keeps_the_others() -> None:
    page = """<script type="application/ld+json">{"@context": "https://schema.org",
      "@type": "ItemList", "itemListElement": [
        {"@type": "ListItem", "url": "mailto:info@musterdorf.example"},
        {"@type": "ListItem", "url": "javascript:void(0)"},
        {"@type": "ListItem", "url": "/termine/dorffest"}]}</script>"""
    config = parse_sources("""[[source]]
id = "t"
name = "Musterdorf"
publisher = "Gemeinde Musterdorf"
url = "https://musterdorf.example/termine/"
kind = "jsonld"
licence = "dl-by-de/2.0"
""").sources[0]
    found = structured_page(page, "https://musterdorf.example/termine/", config)
    assert [link for link, _ in found.stubs] == ["https://musterdorf.example/termine/dorffest"]


STADT = """[[source]]
id = "stadt"
name = "Stadt"
publisher = "Stadt Musterstadt"
url = "https://stadt.example/feed.xml"
kind = "rss"
licence = "dl-by-de/2.0"
"""


def test_health_never_quotes_markup_payloads_or_credentials(tmp_path: Path) -> None:
    config = parse_sources(STADT).sources
    raw = ("parse error: XMLSyntaxError: <html><head><script>alert('x')</script></head><body>"
           + "<p>Wartung</p>" * 200 + "</body></html> at https://anna:geheim@stadt.example/"
           "feed.xml?session=0123456789abcdef%3Cscript%3E")
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.sync_sources(config)
        store.apply_crawl(store.begin_run(), CrawlResult("stadt", False, error=raw,
                                                         warnings=[raw]), utcnow())
        entry = store.health(["stadt"])["stadt"]
    for message in (entry["error"], entry["warnings"][0], entry["history"][0]["error"]):
        assert "<" not in message and ">" not in message, message
        assert "geheim" not in message and "anna" not in message
        assert "0123456789abcdef" not in message and "%3C" not in message
        assert len(message) <= 300 and "\n" not in message
        assert message.startswith("parse error: XMLSyntaxError:")
        assert "https://stadt.example/feed.xml?…" in message


@pytest.mark.slow
def test_credentials_in_a_source_url_are_published_nowhere(
        harness: None, fresh_site: SiteServer, tmp_path: Path) -> None:
    fresh_site.route("/geschuetzt/rss.xml", error(401))
    with_credentials = fresh_site.url("/geschuetzt/rss.xml").replace(
        "http://", "http://anna:geheim@")
    sources = write_sources(tmp_path / "sources.toml",
                            source_block("geschuetzt", with_credentials),
                            source_block("offen", fresh_site.url("/feeds/rss.xml")))
    out = tmp_path / "public"
    aggregate(sources_file=str(sources), db_url=f"sqlite:///{tmp_path / 'store.db'}",
              out_dir=str(out), force=True)
    health = json.loads((out / "health.json").read_text(encoding="utf-8"))
    assert health["sources"]["geschuetzt"]["status"] == "failed"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "catalog.ttl" for p in files) and any(p.name == "index.html"
                                                               for p in files)
    leaking = [str(p.relative_to(out)) for p in files if b"geheim" in p.read_bytes()]
    assert leaking == []


def test_sources_file_that_is_not_utf8_gets_a_clear_error(tmp_path: Path) -> None:
    latin1 = tmp_path / "sources.toml"
    latin1.write_bytes('[[source]]\nid = "x"\nname = "Großräschen"\n'.encode("latin-1"))
    with pytest.raises(SourcesError) as caught:
        load_sources(latin1)
    assert caught.value.problems == ["line 3: not UTF-8 (byte 0xdf); save the file as UTF-8"]
    for command in (["sources", "check", str(latin1)], ["run", "--sources", str(latin1)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code in (1, 2), result.output
        assert isinstance(result.exception, SystemExit)  # a clean exit, no traceback
        assert "line 3: not UTF-8" in result.stderr


def test_retry_after_defers_the_source_to_a_later_run(
        harness: None, fresh_site: SiteServer, tmp_path: Path) -> None:
    fresh_site.route("/beschaeftigt/rss.xml", Reply(status=429, headers={"Retry-After": "3600"}))
    sources = write_sources(tmp_path / "sources.toml",
                            source_block("beschaeftigt", fresh_site.url("/beschaeftigt/rss.xml")),
                            source_block("offen", fresh_site.url("/feeds/rss.xml")))
    out, db_url = tmp_path / "public", f"sqlite:///{tmp_path / 'store.db'}"
    first = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert first.failed == ["beschaeftigt"]
    health = json.loads((out / "health.json").read_text(encoding="utf-8"))["sources"]
    until = datetime.fromisoformat(health["beschaeftigt"]["deferred_until"])
    assert timedelta(minutes=59) < until - datetime.now(UTC) <= timedelta(hours=1)

    # Even a forced run leaves it alone until then; the other source is crawled as usual.
    second = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert [s.source_id for s in second.sources] == ["offen"]
    assert fresh_site.hits("/beschaeftigt/rss.xml") == 1
    assert fresh_site.hits("/feeds/rss.xml") == 2
    assert (out / "sources/offen/feed.xml").is_file()

    # Naming the source is the operator's override.
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), only=["beschaeftigt"])
    assert fresh_site.hits("/beschaeftigt/rss.xml") == 2


def test_a_deferral_ends_when_its_time_is_up(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.sync_sources(parse_sources(STADT).sources)
        busy = CrawlResult("stadt", False, error="HTTP 503, deferred: Retry-After 60 s",
                           retry_after=60)
        store.apply_crawl(store.begin_run(), busy, utcnow())
        now = utcnow()
        assert set(store.deferred(now)) == {"stadt"}
        assert store.deferred(now + timedelta(seconds=61)) == {}
        store.apply_crawl(store.begin_run(), CrawlResult("stadt", True), utcnow())
        assert store.deferred(now) == {}  # a later answer without Retry-After ends it
