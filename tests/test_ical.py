"""iCalendar sources (RFC 5545): times, all-day ends, recurrences, status and places."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.records import Record
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl
from regiofeed.spiders.ical import NotACalendar, records_from_ical

KINDS = Path(__file__).parent / "sites" / "kinds"
CALENDAR = KINDS / "ical" / "veranstaltungen.ics"
BERLIN = ZoneInfo("Europe/Berlin")
# The fixture's events lie in September 2024; this is the "today" of the window.
TODAY = date(2024, 9, 1)


def ical_source(url: str = "https://musterstadt.example/kalender.ics") -> Source:
    return Source(id="test-ical", name="Musterstadt", publisher="Stadt Musterstadt", url=url,
                  kind="ical", licence="dl-by-de/2.0")


@pytest.fixture(scope="module")
def records() -> dict[str, Record]:
    found = records_from_ical(CALENDAR.read_bytes(), ical_source(), "https://x.example/k.ics",
                              today=TODAY)
    return {record.key: record for record in found}


def at(day: int, hour: int, minute: int = 0, month: int = 9) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=BERLIN)


def test_tzid_event_keeps_its_facts(records: dict[str, Record]) -> None:
    konferenz = records["konferenz-2024@musterstadt.example"]
    assert konferenz.kind == "event"
    assert konferenz.title == "Regionalkonferenz Smart Cities"
    assert (konferenz.event.start, konferenz.event.end) == (at(5, 10), at(5, 17))
    assert konferenz.event.all_day is False
    assert konferenz.event.location.model_dump(exclude_none=True) == {
        "name": "Kulturzentrum Bad Belzig", "street": "Weitzgrunder Str. 4",
        "postal_code": "14806", "locality": "Bad Belzig", "lat": 52.1401, "lon": 12.5952}
    assert konferenz.event.organizer == "Stadt Musterstadt"
    assert konferenz.url == "https://musterstadt.example/veranstaltungen/konferenz/"
    assert konferenz.tags == ["Digitales", "Smart City"]
    assert konferenz.content_text == (
        "Dörfer, Daten, Daseinsvorsorge: die 16. Regionalkonferenz.\nAnmeldung bis 30. August.")
    assert konferenz.date_modified == datetime(2024, 8, 2, 10, 0, tzinfo=BERLIN)


def test_utc_and_floating_times_are_berlin_times(records: dict[str, Record]) -> None:
    sprechstunde = records["sprechstunde-2024-09-10@musterstadt.example"]
    assert (sprechstunde.event.start, sprechstunde.event.end) == (at(10, 16), at(10, 18))
    assert sprechstunde.event.start.utcoffset().total_seconds() == 7200
    # Floating (no TZID, no Z) means local time where the source is; DURATION gives the end.
    lesung = records["lesung-2024@musterstadt.example"]
    assert (lesung.event.start, lesung.event.end) == (at(12, 19), at(12, 20, 30))


def test_all_day_end_is_the_inclusive_last_day(records: dict[str, Record]) -> None:
    stadtfest = records["stadtfest-2024@musterstadt.example"]
    assert stadtfest.event.all_day is True
    # DTEND;VALUE=DATE:20240916 is exclusive: the fest runs 13 to 15 September.
    assert (stadtfest.event.start, stadtfest.event.end) == (date(2024, 9, 13), date(2024, 9, 15))
    flohmarkt = records["flohmarkt-2024@musterstadt.example"]
    assert (flohmarkt.event.start, flohmarkt.event.end, flohmarkt.event.all_day) == (
        date(2024, 9, 21), None, True)
    laterne = records["laternenumzug-2024@musterstadt.example"]
    assert (laterne.event.start, laterne.event.end) == (at(11, 17, month=11), None)


def test_recurrences_are_expanded_with_exdate_rdate_and_overrides(
    records: dict[str, Record],
) -> None:
    repair = sorted((r for r in records.values() if r.key.startswith("repair-cafe@")),
                    key=lambda r: r.event.start)
    starts = [r.event.start for r in repair[:5]]
    # Weekly on Wednesdays from 4 Sep, plus RDATE 7 Sep, without EXDATE 18 Sep; the
    # 11 Sep occurrence moved to Thursday 12 Sep by its RECURRENCE-ID override.
    assert starts == [at(4, 16), at(7, 10), at(12, 16), at(25, 16), at(2, 16, month=10)]
    moved = repair[2]
    assert moved.title == "Repair-Café (diesmal am Donnerstag)"
    # The key names the original occurrence, so a moved date is a change, not a new event.
    assert moved.key == "repair-cafe@musterstadt.example#2024-09-11T16:00:00+02:00"
    assert repair[1].event.end == at(7, 12)  # an RDATE takes the series' duration
    assert len({r.key for r in repair}) == len(repair)


def test_single_events_are_kept_however_old_and_series_run_from_their_first_occurrence(
        records: dict[str, Record]) -> None:
    # The archive: a single event long past is a record all the same.
    assert records["neujahrsempfang-2023@musterstadt.example"].event.start.year == 2023
    repair = sorted(r.event.start for r in records.values() if r.key.startswith("repair-cafe@"))
    first = records_from_ical(CALENDAR.read_bytes(), ical_source(), "https://x.example/k.ics",
                              today=date(2030, 1, 1))
    # Years later the series still starts where its rule starts, and reaches a year ahead.
    later = sorted(r.event.start for r in first if r.key.startswith("repair-cafe@"))
    assert later[0] == repair[0]
    assert date(2030, 12, 1) < later[-1].date() <= date(2031, 1, 1)
    assert date(2025, 8, 1) < repair[-1].date() <= date(2025, 9, 1)  # a year ahead, no more
    assert {r.title for r in first} >= {"Repair-Café", "Bürgersprechstunde im Rathaus"}


def test_an_endless_series_keeps_its_latest_occurrences_up_to_the_cap() -> None:
    from regiofeed.spiders.ical import MAX_PER_SERIES

    body = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:daily@x\r\n"
            b"SUMMARY:Taeglich\r\nDTSTART;TZID=Europe/Berlin:20000101T090000\r\n"
            b"RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    found = records_from_ical(body, ical_source(), "https://x.example/k.ics", today=TODAY)
    starts = sorted(r.event.start for r in found)
    assert len(found) == MAX_PER_SERIES
    assert starts[-1].date() == TODAY + timedelta(days=365)


def test_status_and_online_places(records: dict[str, Record]) -> None:
    assert records["konzert-2024@musterstadt.example"].event.status == "cancelled"
    assert records["konferenz-2024@musterstadt.example"].event.status is None
    webinar = records["webinar-2024@musterstadt.example"].event
    assert (webinar.online, webinar.online_url, webinar.location) == (
        True, "https://meet.example.org/buergerhaushalt", None)
    hybrid = records["einwohnerversammlung-2024@musterstadt.example"].event
    assert hybrid.online is True
    assert hybrid.location.locality == "Musterstadt"
    assert hybrid.location.street == "Marktplatz 1"


def test_what_is_no_calendar_is_a_typed_error() -> None:
    with pytest.raises(NotACalendar):
        records_from_ical(b"<html>kein Kalender</html>", ical_source(), "https://x.example/")
    with pytest.raises(NotACalendar):
        records_from_ical(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nX\r\n", ical_source(),
                          "https://x.example/")


def test_windows_1252_calendar_is_read_without_mojibake() -> None:
    body = CALENDAR.read_bytes().decode("utf-8").encode("cp1252")
    found = records_from_ical(body, ical_source(), "https://x.example/k.ics", today=TODAY)
    titles = {r.title for r in found}
    assert "Bürgersprechstunde im Rathaus" in titles


def test_ical_crawl_reads_the_calendar(serve_site) -> None:
    server: SiteServer = serve_site(KINDS)
    result = crawl(ical_source(server.url("/ical/veranstaltungen.ics")), FAST)
    assert result.ok, result.error
    # The real today: the open-ended weekly series runs from its first occurrence to a year
    # ahead, so it grows with the years (up to the cap).
    repair = [r for r in result.records if r.key.startswith("repair-cafe@")]
    years = (date.today() - date(2024, 9, 1)).days / 365
    assert 52 * (years + 1) - 6 <= len(repair) <= 52 * (years + 1) + 6
    assert any(r.key.startswith("neujahrsempfang-2023@") for r in result.records)
    # Wednesdays, but for the RDATE (a Saturday) and the moved one (a Thursday) of September 2024.
    exceptions = {date(2024, 9, 7), date(2024, 9, 12)}
    assert all(r.kind == "event" for r in repair)
    assert {r.event.start.date() for r in repair if r.event.start.weekday() != 2} == exceptions


@pytest.mark.parametrize("kind", ["ical", "auto"])
def test_a_rule_that_ends_by_itself_keeps_every_occurrence_beyond_the_horizon(
        serve_site, kind: str) -> None:
    # A holiday calendar: New Year as a yearly rule with COUNT=12 (to 2035), a monthly choir
    # rehearsal UNTIL 2039; both end by themselves, so all their occurrences are records
    # however far ahead. The endless weekly market still stops a year after today.
    server: SiteServer = serve_site(KINDS)
    source = ical_source(server.url("/ical/feiertage.ics")).model_copy(update={"kind": kind})
    result = crawl(source, FAST)
    assert result.ok, result.error
    starts: dict[str, list] = {}
    for record in result.records:
        starts.setdefault(record.title, []).append(record.event.start)
    assert sorted(starts["Neujahr"]) == [date(year, 1, 1) for year in range(2024, 2036)]
    choir = sorted(starts["Chorprobe im Gemeindehaus"])
    assert len(choir) == 16 * 12 and choir[-1] == datetime(2039, 12, 3, 19, 30, tzinfo=BERLIN)
    market = max(starts["Wochenmarkt"]).date()
    assert market <= date.today() + timedelta(days=366)


def test_ical_crawl_of_no_calendar_fails_the_source(serve_site) -> None:
    server: SiteServer = serve_site(KINDS)
    result = crawl(ical_source(server.url("/ical/kein-kalender.ics")), FAST)
    assert not result.ok
    assert "not a readable calendar" in result.error


@pytest.mark.parametrize("kind", ["ical", "auto"])
def test_an_event_the_calendar_states_twice_is_one_record(serve_site, kind: str) -> None:
    # A town's calendar posts the wine festival twice (two UIDs, two URLs, the same title and
    # start; only the second copy names the place, the first states the real end): one event,
    # with both facts. The same title on the next day, or the same day at another named
    # place, is another event.
    server: SiteServer = serve_site(KINDS)
    source = ical_source(server.url("/ical/doppelt.ics")).model_copy(update={"kind": kind})
    result = crawl(source, FAST)
    assert result.ok, result.error
    seen = sorted((r.title, str(r.event.start), str(r.event.end),
                   r.event.location.model_dump_json() if r.event.location else "")
                  for r in result.records)
    assert [(title, start, end, "Marktplatz" in place, "Jakobs-Hof" in place)
            for title, start, end, place in seen] == [
        ("Hoffest", "2026-08-22", "None", False, False),
        ("Hoffest", "2026-08-22", "None", False, True),
        ("Weinfest am Markt", "2026-09-12 12:00:00+02:00", "2026-09-12 20:00:00+02:00", True,
         False),
        ("Weinfest am Markt", "2026-09-13 12:00:00+02:00", "2026-09-13 20:00:00+02:00", True,
         False),
    ]
