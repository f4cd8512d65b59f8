"""The aggregate flow end to end under Prefect's test harness, and the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from regiofeed.flows.aggregate import aggregate
from regiofeed.flows.demo.server import SiteServer

pytestmark = pytest.mark.slow

SELECTORS = """
[source.selectors]
item = "div.news-list-view div.article"
title = "h3"
link = "h3 a::attr(href)"
date = "time::attr(datetime)"
summary = "p.teaser"
content = "div.news-text-wrap"
next = "li.next a::attr(href)"
"""


def source_block(source_id: str, url: str, kind: str = "rss", extra: str = "") -> str:
    return f"""
[[source]]
id = "{source_id}"
name = "Musterstadt {source_id}"
publisher = "Stadt Musterstadt"
municipality = "Musterstadt"
url = "{url}"
kind = "{kind}"
licence = "dl-by-de/2.0"
{extra}"""


def write_sources(path: Path, *blocks: str, timeout: float = 1) -> Path:
    path.write_text(f"[crawl]\ndelay = 0\ntimeout = {timeout}\nsource_timeout = 60\n"
                    + "".join(blocks), encoding="utf-8")
    return path


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_broken_sources_fail_alone_and_the_rest_publishes(
    harness: None, site: SiteServer, unreachable_url: str, db_url: str, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        source_block("feed", site.url("/feeds/rss.xml")),
        source_block("liste", site.url("/aktuelles/"), "html", SELECTORS),
        source_block("kaputt", site.url("/errors/500/"), "html", SELECTORS),
        source_block("langsam", site.url("/errors/slow.xml")),
        source_block("muell", site.url("/errors/garbage.xml")),
        source_block("weg", unreachable_url + "feed/"),
    )
    out = tmp_path / "public"
    report = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert sorted(report.failed) == ["kaputt", "langsam", "muell", "weg"]
    for name in ("feed.xml", "feed.json", "data/items.json", "health.json", "index.html"):
        assert (out / name).is_file(), name

    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    titles = {entry.title for entry in parsed.entries}
    assert {"Sommerfest im Stadtpark", "Stadtputz 2024: Danke an alle Helfer"} <= titles

    health = json.loads((out / "health.json").read_text())["sources"]
    assert health["feed"]["status"] == "ok" and health["feed"]["items"] == 2
    # Four news from two list pages, and the event the Bürgersprechstunde page announces.
    assert health["liste"]["status"] == "ok" and health["liste"]["items"] == 5
    assert "HTTP 500" in health["kaputt"]["error"]
    assert "timed out" in health["langsam"]["error"]
    assert "feed" in health["muell"]["error"]
    assert "refused" in health["weg"]["error"]
    assert all(health[s]["status"] == "failed" for s in ("kaputt", "langsam", "muell", "weg"))

    items = json.loads((out / "data/items.json").read_text())
    assert len(items) == 7
    assert {tuple(i["_regiofeed"]["sources"]) for i in items} == {("feed",), ("liste",)}


def test_two_runs_in_one_process_and_unchanged_files_stay_untouched(
    harness: None, site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        source_block("feed", site.url("/feeds/atom.xml"), "atom"),
        source_block("liste", site.url("/aktuelles/"), "html", SELECTORS),
    )
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    out = tmp_path / "public"
    first = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert sum(s.new for s in first.sources) == 7
    before = snapshot(out)
    second = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert [(s.new, s.changed, s.gone) for s in second.sources] == [(0, 0, 0), (0, 0, 0)]
    assert sum(s.unchanged for s in second.sources) == 7
    after = snapshot(out)
    assert set(before) == set(after)
    rewritten = sorted(name for name in after if after[name][1] != before[name][1])
    assert rewritten == ["health.json"]
    assert all(after[n][0] == before[n][0] for n in after if n != "health.json")


def test_changed_page_makes_a_revision_and_moves_date_modified(
    harness: None, fresh_site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.toml",
                            source_block("feed", fresh_site.url("/feeds/rss.xml")))
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    out = tmp_path / "public"
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    first = {i["title"]: i for i in json.loads((out / "data/items.json").read_text())}
    feed = (Path(__file__).parent / "sites/feeds/rss.xml").read_text(encoding="utf-8")
    fresh_site.set_file("/feeds/rss.xml", feed.replace(
        "Es gibt Musik, Spiele und Kuchen.", "Es gibt Musik, Spiele, Kuchen und ein Feuerwerk."))
    report = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert [(s.new, s.changed, s.unchanged) for s in report.sources] == [(0, 1, 1)]
    second = {i["title"]: i for i in json.loads((out / "data/items.json").read_text())}
    fest_before, fest_after = first["Sommerfest im Stadtpark"], second["Sommerfest im Stadtpark"]
    assert fest_after["id"] == fest_before["id"]
    assert "Feuerwerk" in fest_after["content_text"]
    assert fest_after["date_modified"] > fest_before.get("date_modified", "")
    assert fest_after["date_modified"] > fest_after["date_published"]
    library = "Neue Öffnungszeiten der Stadtbibliothek"
    assert second[library] == first[library]


def test_bad_sources_file_runs_nothing_and_keeps_the_publication(
    harness: None, site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.toml",
                            source_block("feed", site.url("/feeds/rss.xml")))
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    out = tmp_path / "public"
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    before = snapshot(out)
    sources.write_text(sources.read_text().replace('kind = "rss"', 'kind = "rsss"'))
    with pytest.raises(ValueError, match="source 'feed': key 'kind'"):
        aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    assert snapshot(out) == before


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIOFEED_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env.pop("PREFECT_API_URL", None)
    return env


def test_demo_command_publishes_the_seed_facts(tmp_path: Path) -> None:
    """`regiofeed demo`, the real command: the facts of the five seed pages come out right."""
    out = tmp_path / "public"
    command = [sys.executable, "-m", "regiofeed", "demo", "--first-port", "0",
               "--db", f"sqlite:///{tmp_path / 'demo.db'}", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=cli_env(tmp_path),
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert feedparser.parse((out / "feed.xml").read_bytes()).bozo == 0
    items = json.loads((out / "data/items.json").read_text(encoding="utf-8"))
    # A news page announcing an event gives two items: the news, and the event on its own;
    # a page about an event is that event alone (issue 10).
    events = {i["title"]: i for i in items if i["_regiofeed"]["kind"] == "event"}
    news = {i["title"]: i for i in items if i["_regiofeed"]["kind"] == "news"}

    konferenz_title = "Dörfer, Daten, Daseinsvorsorge – 16. Regionalkonferenz für Smart Cities"
    konferenz = events[konferenz_title]
    assert konferenz_title not in news  # the conference's own page: one event item
    assert konferenz["_regiofeed"]["event"] == {
        "start": "2024-09-05T10:00:00+02:00", "end": "2024-09-05T17:00:00+02:00",
        "all_day": False, "online": False,
        "location": {"name": "Kulturzentrum Bad Belzig", "street": "Weitzgrunder Str. 4",
                     "postal_code": "14806", "locality": "Bad Belzig"}}
    # The seminar comes from an event calendar (item_kind "event"): an event, and no news.
    seminar = events["Die digitale Stadt gemeinsam mit den Bürger/innen entwickeln"]
    assert seminar["title"] not in news
    assert seminar["_regiofeed"]["event"]["all_day"] is True
    assert seminar["_regiofeed"]["event"]["start"] == "2023-08-25"
    assert seminar["_regiofeed"]["event"]["end"] == "2023-08-26"
    assert seminar["_regiofeed"]["event"]["location"]["locality"] == "Münster"
    workshop = next(i for i in events.values() if "Digitalworkshop" in i["title"])
    assert workshop["title"] in news
    assert workshop["_regiofeed"]["event"]["start"] == "2021-03-15T17:00:00+01:00"
    assert workshop["_regiofeed"]["event"]["end"] == "2021-03-15T19:00:00+01:00"
    assert workshop["_regiofeed"]["event"]["online"] is True

    belzig = news["Bad Belzig 2030 - Meine Stadt der Zukunft"]
    smart = news["Modellprojekt Smart City Bad Belzig+Wiesenburg(M.)"]
    assert belzig["_regiofeed"]["publisher"] == "Stadt Bad Belzig"
    assert smart["_regiofeed"]["publisher"] == "Modellprojekt Smart City Bad Belzig+Wiesenburg(M.)"
    for item in (belzig, smart):
        text = item["content_text"]
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        assert len(paragraphs) == len(set(paragraphs)), "a paragraph is published twice"
    assert belzig["content_text"].count("Die fortschreitende Digitalisierung") == 1
    assert smart["content_text"].count("32 Modellprojekten") == 1
    assert belzig["content_html"].count("Wir freuen uns") == 1


def test_unchanged_sites_answer_304_and_cost_no_bodies(
    harness: None, fresh_site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        source_block("feed", fresh_site.url("/feeds/rss.xml")),
        source_block("liste", fresh_site.url("/aktuelles/"), "html", SELECTORS),
    )
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    out = tmp_path / "public"
    aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    first_requests = len(fresh_site.requests)
    report = aggregate(sources_file=str(sources), db_url=db_url, out_dir=str(out), force=True)
    second = fresh_site.requests[first_requests:]
    # Only robots.txt and the two entry URLs, each answered 304 against our validators.
    conditional = [r for r in second if r.path != "/robots.txt"]
    assert sorted(r.path for r in conditional) == ["/aktuelles/", "/feeds/rss.xml"]
    assert all("if-none-match" in r.headers for r in conditional)
    assert [(s.new, s.changed, s.unchanged, s.gone) for s in report.sources] == [
        (0, 0, 2, 0), (0, 0, 5, 0)]
    health = json.loads((out / "health.json").read_text())["sources"]
    assert health["feed"]["not_modified"] is True
    # robots.txt is always read in full; the feed itself cost no body.
    assert health["feed"]["http_statuses"] == {"200": 1, "304": 1}
    assert health["liste"]["items"] == 5


def test_sources_that_are_not_due_are_skipped(
    harness: None, site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        source_block("stuendlich", site.url("/feeds/rss.xml")),
        source_block("oft", site.url("/feeds/atom.xml"), "atom", 'schedule = "1m"\n'),
    )
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    out = str(tmp_path / "public")
    first = aggregate(sources_file=str(sources), db_url=db_url, out_dir=out)
    assert sorted(s.source_id for s in first.sources) == ["oft", "stuendlich"]
    second = aggregate(sources_file=str(sources), db_url=db_url, out_dir=out)
    assert second.sources == []  # neither is due yet, a minute has not passed
    only = aggregate(sources_file=str(sources), db_url=db_url, out_dir=out, only=["oft"])
    assert [s.source_id for s in only.sources] == ["oft"]
    items = json.loads((tmp_path / "public/data/items.json").read_text())
    # Skipped sources keep publishing; both feeds carry the same two stories: two items.
    assert sorted(sorted(i["_regiofeed"]["sources"]) for i in items) == [
        ["oft", "stuendlich"], ["oft", "stuendlich"]]
