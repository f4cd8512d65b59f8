"""`regiofeed export` / `import`: the whole store as JSON Lines, losslessly, across databases."""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from regiofeed.flows.cli import main
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.exchange import ImportError_, export_store, import_store
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.models.sources import parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow

BERLIN = ZoneInfo("Europe/Berlin")
SOURCES = parse_sources("""
[[source]]
id = "stadt"
name = "Stadt"
publisher = "Stadt Bad Belzig"
url = "https://stadt.example/feed/"
kind = "rss"
licence = "dl-by-de/2.0"
""").sources


def fill(store: Store) -> None:
    """A store with what matters: revisions, a gone record, an event, validators, run ledger."""
    store.sync_sources(SOURCES)
    concert = Record(source_id="stadt", key="k-konzert", url="https://stadt.example/konzert",
                     title="Konzert", kind="event", content_text="Musik",
                     event=EventInfo(start=datetime(2024, 9, 5, 19, tzinfo=BERLIN),
                                     location=Location(name="Burg Eisenhardt", lat=52.14,
                                                       lon=12.59)))
    for text in ("Erste Fassung", "Zweite Fassung"):
        news = Record(source_id="stadt", key="k-news", url="https://stadt.example/news",
                      title="Nachricht", content_text=text,
                      date_published=datetime(2024, 8, 7, 9, tzinfo=BERLIN))
        store.apply_crawl(store.begin_run(), CrawlResult(
            "stadt", True, [news, concert], validators={"https://stadt.example/feed/": {
                "etag": '"abc"', "last_modified": "Wed, 07 Aug 2024 07:00:00 GMT"}}), utcnow())
    for _ in range(2):  # the concert vanishes for two runs: gone
        store.apply_crawl(store.begin_run(), CrawlResult("stadt", True, [news]), utcnow())
    store.apply_crawl(store.begin_run(), CrawlResult("stadt", False, error="HTTP 500"), utcnow())


def export_text(store: Store) -> str:
    buffer = io.StringIO()
    export_store(store, buffer)
    return buffer.getvalue()


def test_round_trip_sqlite_to_other_store_and_back_is_lossless(
    tmp_path: Path, db_url: str
) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as original:
        fill(original)
        exported = export_text(original)
        items = sorted(original.items(include_gone=True), key=lambda i: i["id"])
        counts = original.counts()
    assert counts["record_revision"] == 3 and counts["source_run"] == 5
    with Store(db_url) as target:  # SQLite, and PostgreSQL where configured
        imported = import_store(target, io.StringIO(exported))
        assert imported["record"] == 2
        assert export_text(target) == exported
        assert sorted(target.items(include_gone=True), key=lambda i: i["id"]) == items
        assert target.counts() == counts
        assert target.validators("stadt") == {"https://stadt.example/feed/": {
            "etag": '"abc"', "last_modified": "Wed, 07 Aug 2024 07:00:00 GMT"}}
        # The store goes on working after an import: new rows get fresh ids.
        news = Record(source_id="stadt", key="k-neu", title="Neu", content_text="x")
        summary = target.apply_crawl(target.begin_run(), CrawlResult("stadt", True, [news]),
                                     utcnow())
        assert summary.new == 1


def test_import_refuses_a_store_with_data_and_foreign_files(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        fill(store)
        exported = export_text(store)
        with pytest.raises(ImportError_, match="not empty"):
            import_store(store, io.StringIO(exported))
    with Store(f"sqlite:///{tmp_path / 'b.db'}") as empty, pytest.raises(
        ImportError_, match="not a regiofeed export"
    ):
        import_store(empty, io.StringIO('{"hello": 1}\n'))


def test_export_and_import_commands(tmp_path: Path) -> None:
    source_db = f"sqlite:///{tmp_path / 'a.db'}"
    with Store(source_db) as store:
        fill(store)
    runner = CliRunner()
    dump = tmp_path / "store.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "REGIOFEED_DB"}
    result = runner.invoke(main, ["export", "--db", source_db, str(dump)], env=env)
    assert result.exit_code == 0, result.output
    target_db = f"sqlite:///{tmp_path / 'b.db'}"
    result = runner.invoke(main, ["import", "--db", target_db, str(dump)], env=env)
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["import", "--db", target_db, str(dump)], env=env)
    assert again.exit_code == 1 and "not empty" in again.output
