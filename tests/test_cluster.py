"""Beyond one process: crawl tasks on a Dask cluster, and two runs at once on one PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.store import Store

pytestmark = pytest.mark.slow

SOURCES = """
[crawl]
delay = 0
timeout = 5

[[source]]
id = "feed"
name = "Musterstadt Feed"
publisher = "Stadt Musterstadt"
url = "{feed}"
kind = "rss"
licence = "dl-by-de/2.0"

[[source]]
id = "liste"
name = "Musterstadt Aktuelles"
publisher = "Stadt Musterstadt"
url = "{page}"
kind = "html"
licence = "dl-by-de/2.0"

[source.selectors]
item = "div.news-list-view div.article"
title = "h3"
link = "h3 a::attr(href)"
date = "time::attr(datetime)"
content = "div.news-text-wrap"
next = "li.next a::attr(href)"
"""


def write_sources(site: SiteServer, path: Path) -> Path:
    path.write_text(SOURCES.format(feed=site.url("/feeds/rss.xml"), page=site.url("/aktuelles/")),
                    encoding="utf-8")
    return path


def test_crawl_tasks_fan_out_over_a_dask_cluster(
    harness: None, site: SiteServer, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed", reason="the 'cluster' extra is not installed")
    from prefect_dask import DaskTaskRunner

    from regiofeed.flows.aggregate import aggregate

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        runner = DaskTaskRunner(address=cluster.scheduler_address)
        report = aggregate.with_options(task_runner=runner)(
            sources_file=str(write_sources(site, tmp_path / "sources.toml")),
            db_url=f"sqlite:///{tmp_path / 'store.db'}", out_dir=str(tmp_path / "public"),
            force=True)
        with distributed.Client(cluster.scheduler_address) as client:
            prefixes = client.run_on_scheduler(
                lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert [s.ok for s in report.sources] == [True, True]
    assert any("crawl_source" in prefix for prefix in prefixes), prefixes
    items = json.loads((tmp_path / "public/data/items.json").read_text())
    assert {source for i in items for source in i["_regiofeed"]["sources"]} == {"feed", "liste"}
    assert "Stadtputz 2024: Danke an alle Helfer" in {i["title"] for i in items}


def test_two_runs_at_once_on_postgresql_make_what_one_run_makes(
    site: SiteServer, tmp_path: Path, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent runs are tested on PostgreSQL; SQLite serialises writers")
    sources = write_sources(site, tmp_path / "sources.toml")
    runs = []
    for name in ("a", "b"):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIOFEED_",
                                                                       "PREFECT_API"))}
        env["PREFECT_HOME"] = str(tmp_path / f"prefect-{name}")
        command = [sys.executable, "-m", "regiofeed", "run", "--all", "--silent",
                   "--sources", str(sources), "--db", db_url, "--out", str(tmp_path / name)]
        runs.append(subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True))
    for run in runs:
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, output[-3000:]

    with Store(db_url) as store:
        counts = store.counts()
        titles = sorted(i["title"] for i in store.items())
    # Exactly what one run makes: every record once, with one revision, none lost.
    assert counts["record"] == counts["record_revision"] >= 6
    assert counts["source_run"] == 4 and counts["run"] == 2
    assert "Stadtputz 2024: Danke an alle Helfer" in titles
    # A third run over the same sites finds the store complete: nothing new, nothing changed.
    again = subprocess.run([sys.executable, "-m", "regiofeed", "run", "--all", "--sources",
                            str(sources), "--db", db_url, "--out", str(tmp_path / "c")],
                           env={**env, "PREFECT_HOME": str(tmp_path / "prefect-c")},
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    rows = [line.split() for line in again.stdout.splitlines()
            if line.startswith(("feed", "liste"))]
    assert [(row[0], row[3], row[4]) for row in rows] == [("feed", "0", "0"), ("liste", "0", "0")]
    for name in ("a", "b"):
        out = tmp_path / name
        published = json.loads((out / "data/items.json").read_text(encoding="utf-8"))
        assert sorted(i["title"] for i in published) == titles
        assert feedparser.parse((out / "feed.xml").read_bytes()).bozo == 0
        assert json.loads((out / "health.json").read_text())["sources"].keys() == {"feed",
                                                                                  "liste"}
