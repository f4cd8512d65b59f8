"""`regiofeed items`: show explains, merge and split are for good, ids can be followed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner

from regiofeed.flows.cli import main
from regiofeed.flows.cli_items import items as items_group
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.models.sources import parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow

BERLIN = ZoneInfo("Europe/Berlin")
SOURCES = parse_sources("\n".join(f"""
[[source]]
id = "{sid}"
name = "{sid}"
publisher = "{sid}"
url = "https://{sid}.example/"
kind = "rss"
licence = "dl-by-de/2.0"
""" for sid in ("kreis", "dorf"))).sources


def event(source: str, slug: str, title: str, hour: int, text: str = "") -> Record:
    url = f"https://{source}.example/{slug}"
    return Record(source_id=source, key=url, url=url, title=title, kind="event",
                  content_text=text or title,
                  event=EventInfo(start=datetime(2024, 10, 5, hour, tzinfo=BERLIN),
                                  location=Location(name="Dorfgemeinschaftshaus Reetz",
                                                    postal_code="14827")))


KREIS = [event("kreis", "basar", "Herbstbasar", 10), event("kreis", "tanz", "Tanzabend", 19)]
DORF = [event("dorf", "basar", "Herbstbasar im Dorfgemeinschaftshaus", 10),
        event("dorf", "lesung", "Lesung mit Kaffee", 15)]


def crawl_both(store: Store, dorf: list[Record] = DORF) -> None:
    run_id = store.begin_run()
    store.apply_crawl(run_id, CrawlResult(source_id="kreis", ok=True, records=KREIS), utcnow())
    store.apply_crawl(run_id, CrawlResult(source_id="dorf", ok=True, records=dorf), utcnow())


@pytest.fixture
def store(db_url: str) -> Store:
    with Store(db_url) as opened:
        opened.sync_sources(SOURCES)
        crawl_both(opened)
        yield opened


def by_title(store: Store) -> dict[str, dict]:
    return {i["title"]: i for i in store.items()}


def invoke(store: Store, *args: str) -> str:
    result = CliRunner().invoke(main, ["items", *args[:1], "--db", store.url, *args[1:]])
    assert result.exit_code == 0, result.output
    return result.output


def test_commands_have_help() -> None:
    for name, command in items_group.commands.items():
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name}"


def test_show_says_why_records_were_joined(store: Store) -> None:
    basar = by_title(store)["Herbstbasar"]
    assert basar["_regiofeed"]["sources"] == ["kreis", "dorf"]
    out = invoke(store, "show", basar["id"])
    assert "same event" in out and "[dorf]" in out and "[kreis]" in out
    assert "fields:" in out


def test_merge_survives_later_runs_and_the_absorbed_id_can_be_followed(store: Store) -> None:
    titles = by_title(store)
    tanz, lesung = titles["Tanzabend"]["id"], titles["Lesung mit Kaffee"]["id"]
    out = invoke(store, "merge", lesung, tanz, "--note", "one evening programme")
    survivor = tanz  # created first (kreis was stored first)
    assert f"merged: {survivor}" in out
    crawl_both(store)
    changed = [*DORF[:1], event("dorf", "lesung", "Lesung mit Kaffee", 15, "Neuer Text.")]
    crawl_both(store, changed)
    merged = {i["id"]: i for i in store.items()}[survivor]
    assert sorted(merged["_regiofeed"]["sources"]) == ["dorf", "kreis"]
    assert merged["_regiofeed"]["merged_from"] == [lesung]
    assert lesung not in {i["id"] for i in store.items()}
    assert store.resolve_item(lesung) == survivor
    assert "was merged into" in invoke(store, "show", lesung)


def test_split_record_never_rejoins_its_item(store: Store) -> None:
    basar = by_title(store)["Herbstbasar"]
    info = store.explain_item(basar["id"])
    assert info is not None
    record_id = next(r["record_id"] for r in info["records"] if r["source_id"] == "dorf")
    out = invoke(store, "split", basar["id"], str(record_id))
    new_id = out.strip().rsplit(" ", 1)[1]
    for changed_text in ("Basar.", "Basar mit Kuchen."):
        crawl_both(store, [event("dorf", "basar", "Herbstbasar im Dorfgemeinschaftshaus", 10,
                                 changed_text), DORF[1]])
        items = {i["id"]: i for i in store.items()}
        assert items[basar["id"]]["_regiofeed"]["sources"] == ["kreis"]
        assert items[new_id]["_regiofeed"]["sources"] == ["dorf"]


def test_bad_ids_are_refused(store: Store, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["items", "merge", "--db", store.url, "nope", "nix"])
    assert result.exit_code == 1 and "no such item" in result.output
    result = CliRunner().invoke(main, ["items", "show", "--db", store.url, "nope"])
    assert result.exit_code == 1
