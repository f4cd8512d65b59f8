"""The iCalendar spider: RFC 5545 calendars read by icalendar, recurrences expanded in a window.

Times are read as RFC 5545 says: with TZID in that zone (VTIMEZONE or the IANA name), "Z" in
UTC, floating times (and X-WR-TIMEZONE calendars) in Europe/Berlin, where our sources are.
DTEND is exclusive, so an all-day event's inclusive last day is the day before it.
Every single event becomes a record, however old (the archive), once even where the file
states it twice under two UIDs (same title and start, no other place). RRULE, RDATE, EXDATE and
RECURRENCE-ID overrides are expanded by `recurring_ical_events` into one record per occurrence,
from the series' first occurrence to a year ahead, the latest MAX_PER_SERIES of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import deque
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any

import icalendar
import recurring_ical_events
import scrapy
import x_wr_timezone
from scrapy.http import Response

from regiofeed.models.normalise.dates import BERLIN, to_berlin
from regiofeed.models.normalise.text import clean_text, sanitize_html
from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.models.sources import Source
from regiofeed.spiders.base import SourceSpider
from regiofeed.spiders.extract import place_and_online

# Recurrences are windowed by their rule: from the first occurrence to a year ahead of today
# (beyond that an endless RRULE would yield records for ever), the latest MAX_PER_SERIES of
# them (about ten years of a weekly series). A rule that ends by itself (COUNT, UNTIL) needs no
# horizon: all its occurrences are kept, as a calendar shows them. Single events are all kept,
# however old.
WINDOW_AFTER = timedelta(days=365)
MAX_PER_SERIES = 520
# A hard limit on occurrences expanded per series, against FREQ=SECONDLY and the like.
MAX_OCCURRENCES = 20000
_STATUS = {"CANCELLED": "cancelled"}


class NotACalendar(ValueError):
    """The body is no iCalendar (RFC 5545) or jCal (RFC 7265) data we can read."""


def records_from_ical(
    body: bytes, source: Source, url: str, *, today: date | None = None
) -> list[Record]:
    """Return one event record per single VEVENT and per kept occurrence of each series.

    Single events are kept however old; a series keeps its occurrences from its first one
    up to today+365 days (an endless rule) or its last one (COUNT, UNTIL), at most
    MAX_PER_SERIES (the latest).

    A recurring event's occurrences are keyed `<UID>#<original start, ISO 8601>`, so a moved
    occurrence (RECURRENCE-ID) keeps its key; a single event is keyed by its UID. `today`
    defaults to the current date in Europe/Berlin. Raises NotACalendar for data that is no
    calendar; a single broken event is skipped.
    """
    today = today or datetime.now(BERLIN).date()
    calendars = _parse(body)
    records: dict[str, Record] = {}
    for calendar in calendars:
        for component, recurring in _occurrences(calendar, today):
            try:
                record = _record(component, recurring, source, url)
            except (ValueError, TypeError, AttributeError, KeyError):
                continue  # one unreadable event (a broken date, a bad value) is skipped
            if record is not None and record.key not in records:
                records[record.key] = record
    return _once(list(records.values()))


def _once(records: list[Record]) -> list[Record]:
    """Each event once: a town that posts one event twice (two UIDs, two URLs, the same title
    and start, one copy with a place or an end the other lacks) shows it twice, but it is one
    event; the first copy is kept, with the facts only the other states. The same title at
    the same time at two places that both are named is two events."""
    kept: dict[tuple[object, ...], list[Record]] = {}
    out: list[Record] = []
    for record in records:
        event = record.event
        assert event is not None
        same = kept.setdefault((record.title.casefold(), event.start), [])
        twin = next((r for r in same if _compatible(r, record)), None)
        if twin is None:
            same.append(record)
            out.append(record)
            continue
        first = twin.event
        assert first is not None
        merged = first.model_copy(update={"location": first.location or event.location,
                                          "end": first.end or event.end})
        out[out.index(twin)] = same[same.index(twin)] = twin.model_copy(update={"event": merged})
    return out


def _compatible(a: Record, b: Record) -> bool:
    """True when two events of one title and start name no different places."""
    place_a = a.event.location if a.event else None
    place_b = b.event.location if b.event else None
    return place_a is None or place_b is None or place_a == place_b


def _parse(body: bytes) -> list[icalendar.Component]:
    """Parse iCalendar text (or jCal JSON); UTF-8 as RFC 5545 says, windows-1252 as a fallback."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = body.decode("cp1252", "replace")
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            # jCal (RFC 7265): the same calendar as JSON.
            return [icalendar.Calendar.from_jcal(json.loads(stripped))]
        if not stripped.upper().startswith("BEGIN:"):
            raise NotACalendar("no BEGIN:VCALENDAR")
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except NotACalendar:
        raise
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError, TypeError…
        raise NotACalendar(f"{type(exc).__name__}: {exc}") from None
    if not calendars:
        raise NotACalendar("no calendar in the data")
    return list(calendars)


def _occurrences(
    calendar: icalendar.Component, today: date
) -> Iterator[tuple[icalendar.Component, bool]]:
    """Yield (occurrence, is part of a series) for every single event and every kept
    occurrence of each series (see `_series_occurrences`)."""
    # A broken X-WR-TIMEZONE: read the times as they stand.
    with contextlib.suppress(Exception):
        calendar = x_wr_timezone.to_standard(calendar)
    events = list(calendar.walk("VEVENT"))
    series: dict[str, list[icalendar.Component]] = {}
    for event in events:
        if event.get("RRULE") or event.get("RDATE") or event.get("RECURRENCE-ID"):
            series.setdefault(str(event.get("UID")), [])
    for event in events:
        uid = str(event.get("UID"))
        if uid in series:
            series[uid].append(event)
        else:
            # A single event is a record however old: data/ is the archive.
            yield event, False
    zones = list(calendar.walk("VTIMEZONE"))
    horizon = datetime.combine(today + WINDOW_AFTER, datetime.max.time(), tzinfo=BERLIN)
    for members in series.values():
        ends = _ends_by_itself(members)
        for occurrence in _series_occurrences(members, zones, None if ends else horizon):
            yield occurrence, True


def _ends_by_itself(members: list[icalendar.Component]) -> bool:
    """Whether every rule of the series is bounded (COUNT or UNTIL): its occurrences are
    finite, so none of them lies beyond a horizon the calendar's author did not set."""
    rules = [rule for event in members for rule in _rules(event)]
    return all("COUNT" in rule or "UNTIL" in rule for rule in rules)


def _rules(event: icalendar.Component) -> list[icalendar.vRecur]:
    value = event.get("RRULE")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _series_occurrences(
    members: list[icalendar.Component], zones: list[icalendar.Component],
    horizon: datetime | None,
) -> list[icalendar.Component]:
    """The occurrences of one series kept as records: from its first occurrence up to the
    horizon (None: all), at most MAX_PER_SERIES of them (the latest), found among at most
    MAX_OCCURRENCES expanded ones. A series the expander cannot read keeps its VEVENTs as
    they stand."""
    calendar = icalendar.Calendar()
    for component in (*zones, *members):
        calendar.add_component(component)
    kept: deque[icalendar.Component] = deque(maxlen=MAX_PER_SERIES)
    try:
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        for occurrence in islice(query.all(), MAX_OCCURRENCES):
            start = _start(occurrence)
            if start is None:
                continue
            if horizon is not None and _as_datetime(start) > horizon:
                break  # occurrences come in order of start: the rest lie beyond the horizon
            kept.append(occurrence)
    except Exception:
        return [event for event in members if _start(event) is not None]
    return list(kept)


def _start(component: icalendar.Component) -> date | datetime | None:
    try:
        value = component.decoded("DTSTART")
    except Exception:  # missing or unreadable DTSTART
        return None
    return value if isinstance(value, date) else None


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return to_berlin(value)
    return datetime.combine(value, datetime.min.time(), tzinfo=BERLIN)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _moment(value: date | datetime) -> date | datetime:
    """A DATE stays a day; a DATE-TIME becomes Berlin time (floating ones are Berlin's)."""
    return to_berlin(value) if isinstance(value, datetime) else value


def _end(component: icalendar.Component, start: date | datetime) -> date | datetime | None:
    """The inclusive end: DTEND or DTSTART+DURATION, an all-day event's last day."""
    end: Any = None
    try:
        if component.get("DTEND") is not None:
            end = component.decoded("DTEND")
        elif component.get("DURATION") is not None:
            end = start + component.decoded("DURATION")
    except Exception:
        end = None
    if not isinstance(end, date):
        return None
    if not isinstance(start, datetime):
        # DTEND of a DATE event is exclusive: 20240905–20240907 runs on the 5th and 6th.
        last = _day(end) - timedelta(days=1)
        return last if last > start else None
    if not isinstance(end, datetime):
        return None
    end = to_berlin(end)
    return end if end > to_berlin(start) else None


def _text(component: icalendar.Component, name: str) -> str | None:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return clean_text(str(value)) or None if value is not None else None


def _organizer(component: icalendar.Component) -> str | None:
    value = component.get("ORGANIZER")
    if value is None:
        return None
    name = getattr(value, "params", {}).get("CN")
    if name:
        return clean_text(str(name)) or None
    address = str(value)
    return address.split(":", 1)[1] if address.lower().startswith("mailto:") else address or None


def _categories(component: icalendar.Component) -> list[str]:
    values = component.get("CATEGORIES")
    tags: set[str] = set()
    for value in values if isinstance(values, list) else [values] if values else []:
        for category in getattr(value, "cats", [value]):
            text = clean_text(str(category))
            if text:
                tags.add(text)
    return sorted(tags)


def _geo(component: icalendar.Component) -> tuple[float | None, float | None]:
    geo = component.get("GEO")
    try:
        return float(geo.latitude), float(geo.longitude)
    except (AttributeError, TypeError, ValueError):
        return None, None


def _record(
    component: icalendar.Component, recurring: bool, source: Source, calendar_url: str
) -> Record | None:
    """One occurrence as an event record; None without a start or a title."""
    raw_start = _start(component)
    if raw_start is None:
        return None
    start = _moment(raw_start)
    description = _text(component, "DESCRIPTION")
    title = _text(component, "SUMMARY") or (description or "").split("\n", 1)[0][:120]
    if not title:
        return None
    uid = _text(component, "UID") or "sha256:" + hashlib.sha256(
        f"{title}\n{start.isoformat()}".encode()).hexdigest()
    key = uid
    if recurring:
        original = component.get("RECURRENCE-ID")
        moment = _moment(original.dt) if original is not None else start
        key = f"{uid}#{moment.isoformat()}"
    location, online, online_url = place_and_online(_text(component, "LOCATION"))
    lat, lon = _geo(component)
    if lat is not None and lon is not None:
        location = (location or Location()).model_copy(update={"lat": lat, "lon": lon})
    link = None
    if component.get("URL"):
        try:
            link = canonical_url(str(component.get("URL")), calendar_url)
        except ValueError:
            link = None
    html = _text(component, "X-ALT-DESC")
    modified = _decoded(component, "LAST-MODIFIED")
    created = _decoded(component, "CREATED")
    status = str(component.get("STATUS") or "").upper()
    return Record(
        source_id=source.id,
        key=key,
        url=link,
        title=title,
        content_text=description,
        content_html=sanitize_html(html, link or calendar_url) or None if html else None,
        date_published=created,
        date_modified=modified if modified != created else None,
        tags=_categories(component),
        kind="event",
        event=EventInfo(
            start=start,
            end=_end(component, raw_start),
            all_day=not isinstance(start, datetime),
            online=online,
            location=location,
            status=_STATUS.get(status),  # type: ignore[arg-type]
            organizer=_organizer(component),
            online_url=online_url,
        ),
    )


def _decoded(component: icalendar.Component, name: str) -> datetime | None:
    """A UTC DATE-TIME property (CREATED, LAST-MODIFIED) in Berlin time, if readable."""
    try:
        value = component.decoded(name) if component.get(name) is not None else None
    except Exception:
        return None
    return to_berlin(value) if isinstance(value, datetime) else None


class IcalSpider(SourceSpider):
    """Read one iCalendar feed; every event occurrence in the window becomes a record."""

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.source.url, callback=self.parse, errback=self.on_entry_error)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Record]:
        if self.not_modified(response):
            return
        try:
            records = records_from_ical(response.body, self.source, response.url)
        except NotACalendar as exc:
            self.fail(f"not a readable calendar at {response.url}: {exc}")
            return
        yield from records
