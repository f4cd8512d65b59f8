"""The health ledger, `regiofeed health`, and notifications when a source breaks and recovers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from regiofeed.flows.aggregate import aggregate
from regiofeed.flows.cli import main
from regiofeed.flows.demo.server import SiteServer, error
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.records import Record
from regiofeed.models.sources import parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow

SOURCE = """
[[source]]
id = "stadt"
name = "Stadt Musterstadt"
publisher = "Stadt Musterstadt"
url = "{url}"
kind = "rss"
licence = "dl-by-de/2.0"
"""


class Hook:
    """A webhook receiver on 127.0.0.1: keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[bytes]]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps the messages it receives."""
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    # aiosmtpd checks it is up by connecting to its configured port, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def news(n: int) -> list[Record]:
    return [Record(source_id="stadt", key=f"k{i}", title=f"Meldung {i}", content_text="x")
            for i in range(n)]


def test_source_with_far_fewer_records_than_usual_is_degraded(db_url: str) -> None:
    with Store(db_url) as store:
        store.sync_sources(parse_sources(SOURCE.format(url="https://s.example/feed/")).sources)
        for _ in range(3):
            store.apply_crawl(store.begin_run(), CrawlResult("stadt", True, news(10)), utcnow())
        assert store.health(["stadt"])["stadt"]["status"] == "ok"
        store.apply_crawl(store.begin_run(), CrawlResult("stadt", True, news(2)), utcnow())
        entry = store.health(["stadt"])["stadt"]
        assert entry["status"] == "degraded"
        assert entry["reason"] == "2 records, usually 10"
        assert entry["usual_records"] == 10
        assert len(entry["history"]) == 4
        assert [run["records_seen"] for run in entry["history"]] == [2, 10, 10, 10]
        assert entry["items"] == 10  # its last good items stay published
        # Twice is when a missing record would count as gone: not for a degraded source.
        second = store.apply_crawl(store.begin_run(), CrawlResult("stadt", True, news(2)),
                                   utcnow())
        assert second.gone == 0
        entry = store.health(["stadt"])["stadt"]
        assert entry["items"] == 10
        assert entry["warnings"] == ["degraded: 2 records, usually 10; none marked gone"]


def test_broken_and_recovered_sources_are_notified(
    harness: None, fresh_site: SiteServer, hook: Hook, smtp: tuple[int, list[bytes]],
    tmp_path: Path
) -> None:
    port, mails = smtp
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[crawl]
delay = 0
timeout = 2

[notify]
webhook = "{hook.url}"
smtp_host = "127.0.0.1"
smtp_port = {port}
mail_from = "regiofeed@example.org"
mail_to = ["betrieb@example.org"]
""" + SOURCE.format(url=fresh_site.url("/feeds/rss.xml")), encoding="utf-8")
    args = {"sources_file": str(sources), "db_url": f"sqlite:///{tmp_path / 'store.db'}",
            "out_dir": str(tmp_path / "public"), "force": True}
    aggregate(**args)
    assert hook.bodies == [] and mails == []  # a working source is no news

    fresh_site.route("/feeds/rss.xml", error(500))
    aggregate(**args)
    aggregate(**args)  # still broken: no second notification
    assert len(hook.bodies) == 1
    (change,) = hook.bodies[0]["changes"]
    assert change["event"] == "broken" and change["source"] == "stadt"
    assert "HTTP 500" in change["error"]
    assert "Stadt Musterstadt (stadt) is failed: HTTP 500" in hook.bodies[0]["text"]

    fresh_site.route("/feeds/rss.xml", None)
    aggregate(**args)
    assert [b["changes"][0]["event"] for b in hook.bodies] == ["broken", "recovered"]
    subjects = [str(message_from_bytes(m, policy=default)["Subject"]) for m in mails]
    assert subjects == ["regiofeed: 1 Quelle(n) gestört", "regiofeed: Quellen wieder in Ordnung"]

    health = json.loads((tmp_path / "public/health.json").read_text())["sources"]["stadt"]
    assert health["status"] == "ok"
    assert [run["ok"] for run in health["history"]] == [True, False, False, True]

    result = CliRunner().invoke(main, ["health", "--sources", str(sources),
                                       "--db", args["db_url"]])
    assert result.exit_code == 0, result.output
    assert "stadt" in result.output and " ok " in result.output


def test_the_health_of_many_sources_read_at_once_is_each_source_read_alone(db_url: str) -> None:
    """health_of reads every source's latest runs in one ranked query; each entry must be the
    one a query of that source alone gives, history and all, past the runs it keeps."""
    from sqlmodel import Session

    from regiofeed.models.health import source_health

    sources = "\n".join(SOURCE.replace('"stadt"', f'"s{n}"').format(url=f"https://s{n}.example/")
                        for n in range(3))
    with Store(db_url) as store:
        store.sync_sources(parse_sources(sources).sources)
        # s0: more runs than health keeps, some failed; s1: one run; s2: never crawled.
        for n in range(14):
            result = (CrawlResult("s0", True, [r.model_copy(update={"source_id": "s0"})
                                               for r in news(n % 5 + 1)])
                      if n % 4 else CrawlResult("s0", False, error=f"failure {n}"))
            store.apply_crawl(store.begin_run(), result, utcnow())
        store.apply_crawl(store.begin_run(), CrawlResult(
            "s1", True, [r.model_copy(update={"source_id": "s1"}) for r in news(3)]), utcnow())
        together = store.health(["s0", "s1", "s2"])
        with Session(store.engine) as session:
            alone = {source_id: source_health(session, source_id)
                     for source_id in ("s0", "s1", "s2")}
    assert together == alone
    assert len(together["s0"]["history"]) == 10
    assert together["s0"]["history"][0]["records_seen"] == 13 % 5 + 1  # the last run, n = 13
    assert together["s1"]["status"] == "ok" and together["s2"]["status"] == "never"
