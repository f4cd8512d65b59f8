"""The deployments of prefect.yaml on a real Prefect server: deploy, start a worker, run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from regiofeed.flows.demo.server import SiteServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A Prefect server on 127.0.0.1 with a PREFECT_HOME of its own; yields the client env."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "REGIOFEED_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(api + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("Prefect server did not start: "
                            + (tmp_path / "server.log").read_text()[-2000:])
            time.sleep(0.5)
        yield {**env, "PREFECT_API_URL": api}
    finally:
        # The server's process group includes its uvicorn children.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def prefect(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run([PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_deployment_runs_on_a_worker_and_publishes(
    prefect_server: dict[str, str], site: SiteServer, tmp_path: Path
) -> None:
    env = {**prefect_server, "REGIOFEED_HOME": str(ROOT)}
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[crawl]
delay = 0
timeout = 5

[[source]]
id = "feed"
name = "Musterstadt"
publisher = "Stadt Musterstadt"
url = "{site.url('/feeds/rss.xml')}"
kind = "rss"
licence = "dl-by-de/2.0"
""", encoding="utf-8")
    out = tmp_path / "public"
    prefect(env, "work-pool", "create", "regiofeed", "--type", "process")
    deployed = prefect(env, "--no-prompt", "deploy", "--all")
    for name in ("aggregate-hourly", "bad-belzig-daytime", "aggregate-nightly-full"):
        assert name in deployed
    schedules = prefect(env, "deployment", "inspect", "aggregate/aggregate-hourly")
    assert "Europe/Berlin" in schedules and "5 * * * *" in schedules
    prefect(env, "deployment", "run", "aggregate/aggregate-hourly",
            "--param", f"sources_file={sources}", "--param", f"out_dir={out}",
            "--param", f"db_url=sqlite:///{tmp_path / 'store.db'}")
    worker = subprocess.run([PREFECT, "worker", "start", "--pool", "regiofeed", "--run-once"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "Finished in state Completed" in worker.stdout + worker.stderr, worker.stderr[-3000:]
    items = json.loads((out / "data/items.json").read_text(encoding="utf-8"))
    assert {i["title"] for i in items} == {"Sommerfest im Stadtpark",
                                           "Neue Öffnungszeiten der Stadtbibliothek"}
    health = json.loads((out / "health.json").read_text())
    assert health["sources"]["feed"]["status"] == "ok"
