"""`regiofeed run --silent` prints nothing, not even Prefect's log lines, and still publishes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from regiofeed.flows.demo.server import SiteServer

SOURCES = """\
[crawl]
delay = 0
timeout = 5
contact = "https://example.org/regiofeed-test"

[[source]]
id = "feed"
name = "Feed"
publisher = "Stadt Musterstadt"
municipality = "Musterstadt"
url = "{feed}"
kind = "rss"
licence = "dl-by-de/2.0"
"""


def test_silent_run_prints_nothing_and_publishes(site: SiteServer, tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES.format(feed=site.url("/feeds/rss.xml")), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIOFEED_", "PREFECT_"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")  # a fresh ephemeral server, which logs
    result = subprocess.run(
        [sys.executable, "-m", "regiofeed", "run", "--all", "--silent", "--sources", str(sources),
         "--db", f"sqlite:///{tmp_path / 'store.db'}", "--out", str(tmp_path / "public")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert (tmp_path / "public" / "index.html").is_file()
