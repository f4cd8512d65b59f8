"""Benchmark the fixed cost of `regiofeed run`: how long until crawling starts, and in total.

    .venv/bin/python bench/bench_startup.py               # ephemeral cold, warm; standing server
    .venv/bin/python bench/bench_startup.py --repeat 3

One run over one small RSS feed served on 127.0.0.1, so nearly all of the time is fixed cost.
Three ways of running it, each `regiofeed run` a fresh process as an operator starts it:

- ephemeral, cold: a new PREFECT_HOME (the temporary API server creates its database);
- ephemeral, warm: the same PREFECT_HOME again;
- standing: PREFECT_API_URL names a `prefect server start --host 127.0.0.1` started beforehand.

Printed per run: seconds from launch to the first request at the site (crawling starts), to
the end of the process, and the CPU seconds of the run and every process it started.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from regiofeed.flows.demo.server import Reply, Request, SiteServer

REPO = Path(__file__).resolve().parents[1]
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Musterstadt</title><link>{base}</link>
<description>Aktuelles</description>
<item><title>Sitzung des Ortsbeirats</title><link>{base}sitzung</link>
<guid>{base}sitzung</guid><pubDate>Mon, 06 May 2024 10:00:00 +0200</pubDate>
<description>Der Ortsbeirat tagt im Gemeindehaus.</description></item>
</channel></rss>
"""
SOURCES = """[crawl]
delay = 0

[[source]]
id = "musterstadt"
name = "Musterstadt"
publisher = "Stadt Musterstadt"
url = "{base}feed.xml"
kind = "rss"
licence = "dl-by-de/2.0"
"""


class FirstRequest:
    """A route that serves the feed and remembers when it was first asked for."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        with self.lock:
            if self.at is None:
                self.at = time.monotonic()
        return Reply(file="/feed.xml")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(home: Path, api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REGIOFEED_") and k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(home)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def run_once(work: Path, home: Path, api_url: str | None) -> tuple[float, float, float]:
    """One `regiofeed run`; seconds to the first request, to the end, CPU seconds."""
    root = work / "site"
    root.mkdir(exist_ok=True)
    route = FirstRequest()
    with SiteServer(root, {"/feed.xml": route}) as site:
        base = site.url("/")
        (root / "feed.xml").write_text(FEED.format(base=base), encoding="utf-8")
        sources = work / "sources.toml"
        sources.write_text(SOURCES.format(base=base), encoding="utf-8")
        store = work / f"store-{time.monotonic_ns()}.db"
        command = [sys.executable, "-m", "regiofeed", "run", "--all", "--silent",
                   "--sources", str(sources), "--db", f"sqlite:///{store}",
                   "--out", str(work / "public")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(command, cwd=REPO, env=_env(home, api_url), capture_output=True,
                              text=True, check=False)
        ended = time.monotonic()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or route.at is None:
        raise SystemExit(f"run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return route.at - started, ended - started, cpu


def standing_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `prefect server start` on a free port of 127.0.0.1; return it and its API URL."""
    port = _free_port()
    env = _env(home, None)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("prefect")), "server", "start",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("prefect server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="warm and standing runs each")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start")
    print(f"{'mode':<18} {'to crawl start':>15} {'total':>8} {'CPU':>8}")
    with tempfile.TemporaryDirectory(prefix="regiofeed-bench-startup-") as tmp:
        work = Path(tmp)
        rows: dict[str, list[tuple[float, float, float]]] = {}
        home = work / "prefect-home"
        rows["ephemeral, cold"] = [run_once(work, home, None)]
        rows["ephemeral, warm"] = [run_once(work, home, None) for _ in range(args.repeat)]
        server_home = work / "server-home"
        server, url = standing_server(server_home)
        try:
            rows["standing server"] = [run_once(work, server_home, url)
                                       for _ in range(args.repeat)]
        finally:
            server.terminate()
            server.wait(timeout=30)
        for mode, runs in rows.items():
            for first, total, cpu in runs:
                print(f"{mode:<18} {first:>13.1f} s {total:>6.1f} s {cpu:>6.1f} s")
            if len(runs) > 1:
                print(f"{'  median':<18} {statistics.median(r[0] for r in runs):>13.1f} s "
                      f"{statistics.median(r[1] for r in runs):>6.1f} s "
                      f"{statistics.median(r[2] for r in runs):>6.1f} s")
        shutil.rmtree(work / "site", ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
