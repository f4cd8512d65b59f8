"""A run over unchanged sites renders nothing but health.json; any change renders the tree."""

from __future__ import annotations

import json
from pathlib import Path

from test_flow import SELECTORS, snapshot, source_block, write_sources

from regiofeed.flows.aggregate import aggregate
from regiofeed.flows.demo.server import SiteServer

RSS_ITEM = """<item><title>Neue Öffnungszeiten der Bibliothek</title>
<link>{url}</link><guid>{url}</guid><pubDate>Mon, 03 Jun 2024 09:00:00 +0200</pubDate>
<description>Die Stadtbibliothek öffnet ab Juni auch am Samstagvormittag.</description></item>"""


def _sources(path: Path, site: SiteServer, name: str = "Musterstadt") -> Path:
    text = write_sources(path, source_block("feed", site.url("/feeds/rss.xml")),
                         source_block("liste", site.url("/aktuelles/"), "html", SELECTORS))
    text.write_text(text.read_text(encoding="utf-8").replace("Musterstadt feed",
                                                             f"{name} feed"), encoding="utf-8")
    return text


def test_unchanged_sites_render_nothing_but_health_json(
        harness: None, fresh_site: SiteServer, tmp_path: Path) -> None:
    sources = _sources(tmp_path / "sources.toml", fresh_site)
    db_url, out = f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "public"
    first = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    before = snapshot(out)
    assert len(first.written) == len(before) and first.unchanged == []

    # A file changed behind regiofeed's back stays so: the warm run rendered nothing.
    feed = out / "feed.xml"
    feed.write_bytes(feed.read_bytes().replace(b"</rss>", b"<!-- hand-edited --></rss>"))
    second = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert b"hand-edited" in feed.read_bytes()
    assert [Path(p).name for p in second.written] == ["health.json"]
    assert sorted(second.unchanged) == sorted(str(out / p) for p in before if p != "health.json")
    after = snapshot(out)
    assert {p for p in before if before[p] != after[p]} == {"health.json", "feed.xml"}
    health = json.loads((out / "health.json").read_text(encoding="utf-8"))["sources"]
    assert health["feed"]["last_attempt"] > json.loads(
        before["health.json"][0])["sources"]["feed"]["last_attempt"]

    # New content at a source: the whole tree is rendered again (the hand edit goes).
    rss = fresh_site.root / "feeds/rss.xml"
    fresh_site.set_file("/feeds/rss.xml", rss.read_text(encoding="utf-8").replace(
        "<item>", RSS_ITEM.format(url=fresh_site.url("/bibliothek/")) + "<item>", 1))
    third = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert b"hand-edited" not in feed.read_bytes()
    assert b"Neue \xc3\x96ffnungszeiten der Bibliothek" in feed.read_bytes()
    assert str(out / "feed.xml") in third.written


def test_a_changed_sources_file_renders_the_tree_again(
        harness: None, site: SiteServer, tmp_path: Path) -> None:
    db_url, out = f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "public"
    sources = _sources(tmp_path / "sources.toml", site)
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert "Musterstadt feed" in (out / "index.html").read_text(encoding="utf-8")
    sources = _sources(tmp_path / "sources.toml", site, name="Neustadt")
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Neustadt feed" in page and "Musterstadt feed" not in page


def test_a_deleted_tree_is_rendered_again(harness: None, site: SiteServer,
                                          tmp_path: Path) -> None:
    db_url, out = f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "public"
    sources = _sources(tmp_path / "sources.toml", site)
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    files = snapshot(out)
    for path in sorted(out.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert set(snapshot(out)) == set(files)
