"""The run around the crawl engine: a hung source, a run cut short, SIGTERM; the rest publishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile import HostileServer

from regiofeed.flows.aggregate import aggregate
from regiofeed.flows.demo.server import SiteServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def sources_file(path: Path, site: SiteServer, hostile: HostileServer, crawl: str) -> Path:
    blocks = [("stall", hostile.url("/stall")), ("feed", site.url("/feeds/rss.xml")),
              ("atom", site.url("/feeds/atom.xml"))]
    text = f"[crawl]\ndelay = 0\ntimeout = 60\n{crawl}\n"
    for sid, url in blocks:
        kind = "atom" if sid == "atom" else "rss"
        text += (f'\n[[source]]\nid = "{sid}"\nname = "{sid}"\npublisher = "Stadt"\n'
                 f'url = "{url}"\nkind = "{kind}"\nlicence = "dl-by-de/2.0"\n')
    path.write_text(text, encoding="utf-8")
    return path


def published_sources(out: Path) -> set[str]:
    items = json.loads((out / "data/items.json").read_text(encoding="utf-8"))
    return {source for item in items for source in item["_regiofeed"]["sources"]}


def test_a_run_cut_short_by_its_time_limit_publishes_what_finished(
        harness: None, site: SiteServer, tmp_path: Path) -> None:
    with HostileServer() as hostile:
        path = sources_file(tmp_path / "sources.toml", site, hostile,
                            "source_timeout = 300\nrun_timeout = 30")
        started = time.monotonic()
        report = aggregate(sources_file=str(path), db_url=f"sqlite:///{tmp_path / 's.db'}",
                           out_dir=str(tmp_path / "public"), force=True)
    assert time.monotonic() - started < 100
    outcome = {s.source_id: s for s in report.sources}
    assert outcome["feed"].ok and outcome["atom"].ok
    assert not outcome["stall"].ok and "run cut off" in outcome["stall"].error
    assert published_sources(tmp_path / "public") == {"feed", "atom"}
    health = json.loads((tmp_path / "public/health.json").read_text(encoding="utf-8"))
    assert "run cut off" in json.dumps(health)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(stat[1]), []).append(int(entry))
    found, frontier = set(), [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def test_sigterm_cuts_the_crawl_short_publishes_and_leaves_no_crawler(
        site: SiteServer, tmp_path: Path) -> None:
    with HostileServer() as hostile:
        path = sources_file(tmp_path / "sources.toml", site, hostile, "source_timeout = 300")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env["PREFECT_HOME"] = str(tmp_path / "prefect")
        run = subprocess.Popen(
            [sys.executable, "-m", "regiofeed", "run", "--all", "--silent", "--sources",
             str(path), "--db", f"sqlite:///{tmp_path / 's.db'}", "--out",
             str(tmp_path / "public")], env=env, cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while hostile.hits.get("/stall", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert hostile.hits.get("/stall", 0) == 1, "the crawl never started"
        crawlers = {pid for pid in _descendants(run.pid)
                    if b"spiders.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()}
        time.sleep(3)  # the two good feeds end long before
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=120)
    assert crawlers
    assert published_sources(tmp_path / "public") == {"feed", "atom"}, output[-2000:]
    assert not any(Path(f"/proc/{pid}").exists() for pid in crawlers)


def test_the_same_web_gives_the_same_items_whichever_crawl_ends_first(
        harness: None, serve_site, tmp_path: Path) -> None:
    from conftest import SITES

    from regiofeed.flows.demo.server import slow

    # Two sources publish the same two things: each becomes one item, whose id comes from the
    # record stored first. Run once with each source the slow one.
    ids = []
    servers = {name: serve_site(SITES) for name in ("a", "b")}
    for slow_one, fast_one in (("a", "b"), ("b", "a")):
        servers[slow_one].route("/feeds/rss.xml", slow(3, file="/feeds/rss.xml"))
        servers[fast_one].route("/feeds/rss.xml", None)
        path = tmp_path / f"sources-{slow_one}.toml"
        text = "[crawl]\ndelay = 0\ntimeout = 30\n"
        for name, server in servers.items():
            text += (f'\n[[source]]\nid = "{name}"\nname = "{name}"\npublisher = "Stadt"\n'
                     f'url = "{server.url("/feeds/rss.xml")}"\nkind = "rss"\n'
                     'licence = "dl-by-de/2.0"\n')
        path.write_text(text, encoding="utf-8")
        out = tmp_path / f"public-{slow_one}"
        aggregate(sources_file=str(path), db_url=f"sqlite:///{tmp_path / slow_one}.db",
                  out_dir=str(out), force=True)
        items = json.loads((out / "data/items.json").read_text(encoding="utf-8"))
        assert len(items) == 2 and all(
            sorted(i["_regiofeed"]["sources"]) == ["a", "b"] for i in items), items
        ids.append(sorted(i["id"] for i in items))
    assert ids[0] == ids[1]
