"""An item belongs to the municipality of its place and of every source it came from."""

from __future__ import annotations

import copy
from pathlib import Path

import feedparser
import icalendar
import realistic_tree as region

from regiofeed.publish import PublishSettings, municipalities, publish_all


def test_merged_event_is_filed_under_the_town_where_it_takes_place(tmp_path: Path) -> None:
    items = region.items()
    konferenz = next(item for item in items if item["id"] == "rf-event-smart-cities")
    assert "municipality" not in konferenz["_regiofeed"]  # its main source is federal

    publish_all(tmp_path, items, region.SOURCES, region.health(), PublishSettings(),
                today=region.TODAY)  # fmt: skip

    belzig = tmp_path / "municipalities" / "bad-belzig"
    page = (belzig / "index.html").read_text("utf-8")
    assert "Regionalkonferenz Smart Cities in Bad Belzig" in page
    ids = [entry.id for entry in feedparser.parse(belzig / "events" / "feed.xml").entries]
    assert "rf-event-smart-cities" in ids
    calendar = icalendar.Calendar.from_ical((belzig / "events.ics").read_bytes())
    assert "rf-event-smart-cities@regiofeed" in [str(e["UID"]) for e in calendar.walk("VEVENT")]
    # Not "Überregional" on the region's page either.
    root = (tmp_path / "index.html").read_text("utf-8")
    assert "Überregional" not in root.split("Regionalkonferenz Smart Cities")[0][-400:]


def test_place_and_every_source_count_postal_code_alone_too() -> None:
    sources = region.SOURCES
    wanderung = copy.deepcopy(next(i for i in region.items() if i["id"] == "rf-event-wanderung"))
    # Only a postal code that another event showed in Görzke, and a source of Borsdorf.
    wanderung["_regiofeed"]["event"]["location"] = {"name": "Am Teich", "postal_code": "14828"}
    wanderung["_regiofeed"]["sources"] = ["naturpark", "borsdorf"]
    assigned = {item["id"]: item for item in municipalities.assign(
        [*region.events(), wanderung], sources)}  # fmt: skip
    ext = assigned["rf-event-wanderung"]["_regiofeed"]
    assert ext["municipalities"] == ["Görzke", "Borsdorf"]
    assert ext["municipality"] == "Görzke"
    # A place outside every configured municipality adds nothing.
    alone = copy.deepcopy(wanderung)
    alone["_regiofeed"]["sources"] = ["naturpark"]
    alone["_regiofeed"]["event"]["location"] = {"locality": "Rabenstein/Fläming"}
    assert municipalities.assign([alone], sources) == [alone]
