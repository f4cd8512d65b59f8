"""One real `regiofeed run` over a web of hostile sites: each fails alone, the rest publishes."""

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
from test_engine import NESTED_BOMB, QUADRATIC_BOMB
from test_flow_crawl import _descendants, published_sources

from regiofeed.flows.demo.server import SiteServer, redirect

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LIST = ('[source.selectors]\nitem = "div.news-list-view div.article"\ntitle = "h3"\n'
        'link = "h3 a::attr(href)"\ndate = "time::attr(datetime)"\n')


def _block(sid: str, url: str, kind: str = "rss", extra: str = "") -> str:
    return (f'\n[[source]]\nid = "{sid}"\nname = "{sid}"\npublisher = "Stadt"\nurl = "{url}"\n'
            f'kind = "{kind}"\nlicence = "dl-by-de/2.0"\n{extra}')


def _crawlers(pid: int) -> set[int]:
    found = set()
    for child in _descendants(pid):
        try:
            if b"spiders.worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.add(child)
        except OSError:
            continue
    return found


def test_hostile_sites_fail_alone_and_the_rest_publishes(
        fresh_site: SiteServer, serve_site, tmp_path: Path) -> None:
    elsewhere = serve_site()
    fresh_site.set_file("/nested.xml", NESTED_BOMB)
    fresh_site.set_file("/quadratic.xml", QUADRATIC_BOMB)
    fresh_site.route("/away.xml", redirect(f"http://localhost:{elsewhere.port}/feeds/rss.xml"))
    # Each hostile site on a host of its own (a port here): sources on one host share its
    # download slot, one request at a time, as politeness asks.
    with HostileServer() as staller, HostileServer() as trickler, HostileServer() as flooder:
        hostile_sources = {
            "stall": _block("stall", staller.url("/stall")),
            "trickle": _block("trickle", trickler.url("/trickle")),
            "endless": _block("endless", flooder.url("/endless")),
            "nested": _block("nested", fresh_site.url("/nested.xml")),
            "quadratic": _block("quadratic", fresh_site.url("/quadratic.xml")),
            "away": _block("away", fresh_site.url("/away.xml")),
        }
        good = {
            "feed": _block("feed", fresh_site.url("/feeds/rss.xml")),
            "atom": _block("atom", fresh_site.url("/feeds/atom.xml"), "atom"),
            "kontakte": _block("kontakte", fresh_site.url("/kontaktlinks/"), "html", LIST),
        }
        path = tmp_path / "sources.toml"
        path.write_text("[crawl]\ndelay = 0\ntimeout = 60\nsource_timeout = 30\n"
                        "max_bytes = 2000000\nworkers = 2\n"
                        + "".join(hostile_sources.values()) + "".join(good.values()),
                        encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env["PREFECT_HOME"] = str(tmp_path / "prefect")
        out = tmp_path / "public"
        run = subprocess.Popen(
            [sys.executable, "-m", "regiofeed", "run", "--all", "--silent", "--sources",
             str(path), "--db", f"sqlite:///{tmp_path / 's.db'}", "--out", str(out)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Once the stalling and trickling sites are held and the good ones long done, one
        # crawler process is killed: its sources fail, the run goes on.
        deadline = time.monotonic() + 180
        while (not ("/stall" in staller.hits and "/trickle" in trickler.hits)
               and time.monotonic() < deadline and run.poll() is None):
            time.sleep(0.2)
        time.sleep(3)
        crawlers = _crawlers(run.pid)
        assert crawlers, "no crawler process was found"
        os.kill(min(crawlers), signal.SIGKILL)
        seen = set(crawlers)
        while run.poll() is None:  # every crawler process the run ever had, replacements too
            seen |= _crawlers(run.pid)
            time.sleep(0.2)
        output, _ = run.communicate(timeout=300)
    text = output.decode("utf-8", "replace")
    assert run.returncode == 1, text[-2000:]  # sources failed: not a usage error (2)
    health = json.loads((out / "health.json").read_text(encoding="utf-8"))["sources"]
    assert published_sources(out) == set(good), json.dumps(health, indent=1)[:3000]
    assert {sid for sid, entry in health.items() if entry["status"] == "failed"} == set(
        hostile_sources)
    assert "off the source's host" in health["away"]["error"]
    assert "size limit" in health["endless"]["error"]
    for sid in ("nested", "quadratic"):
        assert "entit" in health[sid]["error"]
    for entry in health.values():  # what an operator reads: no tracebacks, no warnings
        assert "Traceback" not in entry.get("error", "")
        assert "Warning" not in entry.get("error", ""), entry["error"]
    assert elsewhere.hits("/feeds/rss.xml") == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in seen)
    items = json.loads((out / "data/items.json").read_text(encoding="utf-8"))
    assert not any("xxxxxxxx" in item["title"] for item in items)
