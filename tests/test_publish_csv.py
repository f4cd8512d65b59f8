"""data/items.csv and data/events.csv (RFC 4180) read back with the csv module."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path

import pytest
from test_publish import HEALTH, ITEMS, SETTINGS, SOURCES, TODAY

from regiofeed.publish import publish_all
from regiofeed.publish.tables import EVENT_COLUMNS, ITEM_COLUMNS


@pytest.fixture
def out(tmp_path: Path) -> Path:
    publish_all(tmp_path, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    return tmp_path


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")  # RFC 4180: CRLF after every record
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_items_csv_has_a_header_and_one_row_per_item(out: Path) -> None:
    header, rows = read(out / "data/items.csv")

    assert header == list(ITEM_COLUMNS)
    assert header[:11] == [
        "id", "kind", "title", "url", "date_published", "date_modified", "publisher",
        "municipality", "sources", "also_at", "licence",
    ]  # fmt: skip
    assert [row["id"] for row in rows] == sorted(item["id"] for item in ITEMS)
    by_id = {row["id"]: row for row in rows}
    sperrung = by_id["rf-news-sperrung"]
    assert sperrung["title"] == "Straßensperrung „Am Schloß“ & Umleitung"  # UTF-8, unescaped
    assert sperrung["kind"] == "news"
    assert sperrung["municipality"] == "Wiesenburg/Mark"
    assert sperrung["licence"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    konferenz = by_id["rf-event-smart-cities"]
    assert konferenz["sources"].split(" ") == ["kts-smart-cities", "bad-belzig-aktuelles"]
    assert konferenz["also_at"] == "https://www.bad-belzig.de/aktuelles/regionalkonferenz"
    assert konferenz["date_modified"] == "2024-08-09T12:00:00+02:00"
    # Named by no source, but held at Burg Eisenhardt in Bad Belzig (publish.municipalities).
    assert by_id["rf-event-burgfest"]["municipality"] == "Bad Belzig"
    assert by_id["rf-news-buergerbuero"]["also_at"] == ""  # no value, empty field


def test_events_csv_has_one_row_per_event_soonest_first(out: Path) -> None:
    header, rows = read(out / "data/events.csv")

    assert header == list(EVENT_COLUMNS)
    assert {"start", "end", "all_day", "online", "location_name", "street", "postal_code",
            "locality"} <= set(header)  # fmt: skip
    # Every event, past ones too: data/ holds everything.
    assert [row["id"] for row in rows] == [
        "rf-event-burgfest",
        "rf-event-smart-cities",
        "rf-event-breitband",
    ]
    burgfest, konferenz, breitband = rows
    assert (burgfest["start"], burgfest["end"], burgfest["all_day"]) == (
        "2023-08-25", "2023-08-26", "true")  # fmt: skip
    assert konferenz["location_name"] == "Kulturzentrum Bad Belzig"
    assert konferenz["street"] == "Weitzgrunder Str. 4"
    assert (konferenz["postal_code"], konferenz["locality"]) == ("14806", "Bad Belzig")
    assert (konferenz["all_day"], konferenz["online"]) == ("false", "false")
    assert breitband["online"] == "true"
    assert breitband["location_name"] == ""


def test_fields_with_commas_quotes_and_newlines_survive(tmp_path: Path) -> None:
    items = copy.deepcopy(ITEMS)
    items[0]["title"] = 'Rat tagt, "öffentlich"\nund online'
    publish_all(tmp_path, items, SOURCES, HEALTH, SETTINGS, today=TODAY)
    _, rows = read(tmp_path / "data/items.csv")
    assert {row["title"] for row in rows} >= {'Rat tagt, "öffentlich"\nund online'}


def test_scope_tables_hold_the_scope_only(out: Path) -> None:
    _, rows = read(out / "municipalities/wiesenburg-mark/data/items.csv")
    # The Burgfest too: its source is Wiesenburg/Mark's (its place is Bad Belzig).
    assert [row["id"] for row in rows] == [
        "rf-event-breitband", "rf-event-burgfest", "rf-news-sperrung"]  # fmt: skip
    _, events = read(out / "sources/bad-belzig-aktuelles/data/events.csv")
    assert [row["id"] for row in events] == ["rf-event-smart-cities"]
    header, rows = read(out / "sources/kts-smart-cities/data/items.csv")
    assert header == list(ITEM_COLUMNS)
    assert [row["id"] for row in rows] == ["rf-event-smart-cities"]
