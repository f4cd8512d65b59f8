"""events.ics (RFC 5545) read back with icalendar: UIDs, dates, time zone, SEQUENCE, status."""

from __future__ import annotations

import copy
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from icalendar.parser import Contentline
from test_publish import BURGFEST, HEALTH, ITEMS, KONFERENZ, SETTINGS, SOURCES, TODAY

from regiofeed.publish import PublishSettings, publish_all
from regiofeed.publish.ical import component_ical, fold, sequence, vevent

BERLIN = ZoneInfo("Europe/Berlin")


def read_calendar(path: Path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(path.read_bytes())


def events_by_uid(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def publish(root: Path, items: list[dict], **kwargs: object) -> Path:
    settings = kwargs.pop("settings", SETTINGS)
    today = kwargs.pop("today", TODAY)
    publish_all(root, items, SOURCES, HEALTH, settings, today=today)  # type: ignore[arg-type]
    return root


@pytest.fixture
def items() -> list[dict]:
    extra = copy.deepcopy(BURGFEST)
    # An upcoming all-day event, cancelled, with coordinates: every branch of the writer.
    extra.update(id="rf-event-erntefest", title="Erntefest in Reetz")
    extra["date_modified"] = "2024-08-25T09:00:00+02:00"
    extra["_regiofeed"]["event"] = {
        "start": "2024-09-14",
        "end": "2024-09-15",
        "all_day": True,
        "online": False,
        "status": "cancelled",
        "location": {
            "name": "Dorfanger",
            "locality": "Reetz",
            "geo": {"lat": 52.0914, "lon": 12.4421},
        },
    }
    return [*copy.deepcopy(ITEMS), extra]


def test_calendar_parses_with_berlin_vtimezone(tmp_path: Path, items: list[dict]) -> None:
    raw = (publish(tmp_path, items) / "events.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(raw)

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert "METHOD" not in calendar  # DTSTAMP then means "last revised", not "file made"
    assert str(calendar["X-WR-CALNAME"]) == "Hoher Fläming aktuell"
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Berlin"
    assert {sub.name for sub in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF lines only
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded (RFC 5545 3.1)


def test_events_have_stable_uids_and_only_upcoming_and_recent_ones(
    tmp_path: Path, items: list[dict]
) -> None:
    events = events_by_uid(read_calendar(publish(tmp_path, items) / "events.ics"))

    # Burgfest ended in August 2023: more than calendar_past_days before TODAY.
    assert sorted(events) == [
        "rf-event-breitband@regiofeed",
        "rf-event-erntefest@regiofeed",
        "rf-event-smart-cities@regiofeed",
    ]
    more = publish(tmp_path / "long", items, settings=PublishSettings(calendar_past_days=400))
    assert "rf-event-burgfest@regiofeed" in events_by_uid(read_calendar(more / "events.ics"))


def test_timed_event_in_europe_berlin(tmp_path: Path, items: list[dict]) -> None:
    events = events_by_uid(read_calendar(publish(tmp_path, items) / "events.ics"))
    konferenz = events["rf-event-smart-cities@regiofeed"]

    start, end = konferenz["DTSTART"], konferenz["DTEND"]
    assert start.params["TZID"] == "Europe/Berlin"
    assert start.dt == datetime(2024, 9, 5, 10, 0, tzinfo=BERLIN)
    assert end.dt == datetime(2024, 9, 5, 17, 0, tzinfo=BERLIN)
    assert str(start.dt.tzinfo) == "Europe/Berlin"
    assert str(konferenz["SUMMARY"]) == KONFERENZ["title"]
    assert str(konferenz["LOCATION"]) == (
        "Kulturzentrum Bad Belzig, Weitzgrunder Str. 4, 14806 Bad Belzig"
    )
    assert str(konferenz["URL"]) == KONFERENZ["url"]
    description = str(konferenz["DESCRIPTION"])
    assert "Die Modellprojekte stellen sich vor." in description
    assert "Quelle: KTS Smart Cities" in description
    assert "Lizenz: Datenlizenz Deutschland – Namensnennung – Version 2.0" in description
    assert "STATUS" not in konferenz
    assert "GEO" not in konferenz


def test_all_day_event_has_dates_and_an_exclusive_end(tmp_path: Path, items: list[dict]) -> None:
    raw = (publish(tmp_path, items) / "events.ics").read_bytes()
    erntefest = events_by_uid(icalendar.Calendar.from_ical(raw))["rf-event-erntefest@regiofeed"]

    start, end = erntefest["DTSTART"].dt, erntefest["DTEND"].dt
    assert type(start) is date and type(end) is date
    # The item's end (15 September) is the last day; DTEND is the day after (RFC 5545 3.6.1).
    assert (start, end) == (date(2024, 9, 14), date(2024, 9, 16))
    assert b"DTSTART;VALUE=DATE:20240914\r\n" in raw
    assert b"DTEND;VALUE=DATE:20240916\r\n" in raw


def test_cancelled_event_with_coordinates(tmp_path: Path, items: list[dict]) -> None:
    events = events_by_uid(read_calendar(publish(tmp_path, items) / "events.ics"))
    erntefest = events["rf-event-erntefest@regiofeed"]

    assert str(erntefest["STATUS"]) == "CANCELLED"
    geo = erntefest["GEO"]
    assert (geo.latitude, geo.longitude) == (52.0914, 12.4421)
    assert str(erntefest["LOCATION"]) == "Dorfanger, Reetz"
    assert str(erntefest["DESCRIPTION"]).startswith("Abgesagt.")


def test_dtstamp_and_sequence_come_from_the_item_not_the_clock(
    tmp_path: Path, items: list[dict]
) -> None:
    events = events_by_uid(read_calendar(publish(tmp_path, items) / "events.ics"))
    konferenz = events["rf-event-smart-cities@regiofeed"]
    breitband = events["rf-event-breitband@regiofeed"]

    utc = ZoneInfo("UTC")
    assert konferenz["DTSTAMP"].dt == datetime(2024, 8, 9, 10, 0, tzinfo=utc)  # date_modified
    assert konferenz["LAST-MODIFIED"].dt == datetime(2024, 8, 9, 10, 0, tzinfo=utc)
    assert konferenz["CREATED"].dt == datetime(2024, 8, 6, 22, 0, tzinfo=utc)
    assert breitband["SEQUENCE"] == 0  # never modified
    assert konferenz["SEQUENCE"] == sequence(KONFERENZ) > 0


def test_sequence_rises_with_every_change_and_only_then(tmp_path: Path) -> None:
    item = copy.deepcopy(KONFERENZ)
    first = sequence(item)
    assert sequence(copy.deepcopy(item)) == first  # deterministic
    item["date_modified"] = "2024-08-10T08:00:00+02:00"
    assert sequence(item) > first
    item["date_modified"] = item["date_published"]
    assert sequence(item) == 0
    assert 0 < sequence({"date_modified": "2150-01-01T00:00:00+00:00"}) <= 2**31 - 1


def test_changed_event_gets_a_higher_sequence_in_the_file(
    tmp_path: Path, items: list[dict]
) -> None:
    publish(tmp_path, items)
    before = events_by_uid(read_calendar(tmp_path / "events.ics"))
    items[1]["title"] = "Regionalkonferenz Smart Cities – neuer Saal"
    items[1]["date_modified"] = "2024-08-30T10:00:00+02:00"
    publish(tmp_path, items)
    after = events_by_uid(read_calendar(tmp_path / "events.ics"))

    uid = "rf-event-smart-cities@regiofeed"
    assert after[uid]["SEQUENCE"] > before[uid]["SEQUENCE"]
    assert after[uid]["DTSTAMP"].dt > before[uid]["DTSTAMP"].dt
    assert str(after[uid]["SUMMARY"]) == "Regionalkonferenz Smart Cities – neuer Saal"


def test_same_events_give_the_same_bytes_on_another_day_within_the_window(
    tmp_path: Path, items: list[dict]
) -> None:
    publish(tmp_path / "a", items)
    publish(tmp_path / "b", copy.deepcopy(items), today=TODAY + timedelta(days=2))
    for path in ("events.ics", "municipalities/bad-belzig/events.ics"):
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def test_scope_calendars_hold_their_own_events(tmp_path: Path, items: list[dict]) -> None:
    publish(tmp_path, items)

    def uids(path: str) -> set[str]:
        return set(events_by_uid(read_calendar(tmp_path / path)))

    assert uids("municipalities/bad-belzig/events.ics") == {"rf-event-smart-cities@regiofeed"}
    # The Erntefest names no municipality, but its source is Wiesenburg/Mark's.
    assert uids("municipalities/wiesenburg-mark/events.ics") == {
        "rf-event-breitband@regiofeed", "rf-event-erntefest@regiofeed"}  # fmt: skip
    assert uids("sources/wiesenburg-veranstaltungen/events.ics") == {
        "rf-event-breitband@regiofeed",
        "rf-event-erntefest@regiofeed",
    }
    news_only = read_calendar(tmp_path / "sources/bad-belzig-aktuelles/events.ics")
    assert events_by_uid(news_only).keys() == {"rf-event-smart-cities@regiofeed"}
    assert news_only.walk("VTIMEZONE")  # an empty calendar still names its zone


def test_lines_are_folded_exactly_as_icalendar_folds_them() -> None:
    # Umlauts, four-byte characters and escapes landing on every position of a fold.
    rng = random.Random(5545)
    alphabet = "ab ,;:\\^äöüß€😀"
    lines = ["DESCRIPTION:" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
             for _ in range(3000)]
    lines += ["SUMMARY:" + "a" * width + tail
              for width in range(55, 80) for tail in ("\\,b", "^^x")]
    for line in lines:
        assert fold(line) == Contentline(line).to_ical(), line


def test_an_events_bytes_are_what_icalendar_writes(items: list[dict]) -> None:
    sources = {source["id"]: source for source in SOURCES}
    for item in items:
        if (item.get("_regiofeed") or {}).get("event"):
            event = vevent(item, sources)
            assert component_ical(event) == event.to_ical()
