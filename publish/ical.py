"""iCalendar (RFC 5545, with RFC 7986 calendar properties) writer for events.ics, via icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Component, Event, Timezone, TimezoneDaylight, TimezoneStandard

from regiofeed.publish.calendar_links import EVENT_DIR, event_file
from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.dates import BERLIN, event_days, is_date_only, parse_instant
from regiofeed.publish.items import event_place, first_known_source, modified_at, published_at
from regiofeed.publish.licences import rights_statement

PATH = "events.ics"
MEDIA_TYPE = "text/calendar"
PRODID = "-//regiofeed//regiofeed//DE"
TZID = "Europe/Berlin"
UID_DOMAIN = "regiofeed"
# SEQUENCE counts seconds from here to the item's last change (see sequence()).
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
INT32_MAX = 2**31 - 1
# How often subscribers should look again (RFC 7986 REFRESH-INTERVAL; X-PUBLISHED-TTL is what
# Outlook and older Apple clients read).
REFRESH = timedelta(hours=1)

STATUS = {"cancelled": "CANCELLED", "tentative": "TENTATIVE", "confirmed": "CONFIRMED"}


def render(ctx: PublishContext) -> bytes:
    """Render the context's upcoming and recent events as one VCALENDAR, soonest first.

    An event is in when its last day (Europe/Berlin) is at most ``calendar_past_days`` before
    ``ctx.today``. Nothing in the output is build time (no METHOD, DTSTAMP from the item), so
    the same events on the same day give byte-identical files. Each VEVENT is serialised once
    per publish run and shared by every scope that carries it.
    """
    events = calendar_events(ctx)
    head = _calendar(ctx).to_ical()
    # icalendar serialises a whole calendar at once; the events are spliced in before its end
    # so each one is rendered once however many scopes carry it.
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    sources = ctx.source_by_id()
    body = b"".join(_cached_vevent(ctx, item, sources) for item in events)
    return head[: -len(end)] + body + end


def calendar_events(ctx: PublishContext) -> list[Item]:
    """Return the events events.ics carries: upcoming and recent, soonest first."""
    return ctx.sorted_as("calendar")


def event_files(ctx: PublishContext) -> dict[str, bytes]:
    """Render one calendar file per event of events.ics (``calendar/<id>.ics``), to import one
    event rather than subscribe to all; tree path -> bytes. The page links to them."""
    sources = ctx.source_by_id()
    # No NAME, SOURCE or REFRESH-INTERVAL: this file is imported once, not subscribed to.
    single = Calendar()
    single.add("prodid", PRODID)
    single.add("version", "2.0")
    single.add("calscale", "GREGORIAN")
    single.add_component(berlin_vtimezone())
    head = single.to_ical()
    end = b"END:VCALENDAR\r\n"
    return {
        event_file(item["id"]): head[: -len(end)] + _cached_vevent(ctx, item, sources) + end
        for item in calendar_events(ctx)
    }


def remove_stale_event_files(out_dir: Path, keep: set[str]) -> list[Path]:
    """Remove single-event calendars of events no longer in events.ics; return what went."""
    folder = out_dir / EVENT_DIR
    removed = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.ics")):
            if f"{EVENT_DIR}{path.name}" not in keep and not path.is_symlink():
                path.unlink()
                removed.append(path)
    return removed


def _calendar(ctx: PublishContext) -> Calendar:
    """Build the VCALENDAR with its properties and the Europe/Berlin VTIMEZONE, no events."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # No METHOD: with one, DTSTAMP would have to be the time the file was made (RFC 5545
    # 3.8.7.2); without, it is when the event last changed, which keeps the bytes stable.
    cal.add("name", ctx.title)
    cal.add("x-wr-calname", ctx.title)
    if ctx.settings.description:
        cal.add("description", ctx.settings.description)
        cal.add("x-wr-caldesc", ctx.settings.description)
    cal.add("x-wr-timezone", TZID)
    if ctx.settings.base_url is not None:
        cal.add("source", ctx.url(PATH), parameters={"VALUE": "URI"})
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")  # the same as REFRESH, as this text property wants it
    cal.add_component(berlin_vtimezone())
    return cal


def berlin_vtimezone() -> Timezone:
    """Return the VTIMEZONE of Europe/Berlin as the EU rule since 1996, in two RRULEs.

    Written out rather than generated from tzdata: a tzdata update must not change the bytes,
    and the rule form is what calendar clients themselves publish.
    """
    tz = Timezone()
    tz.add("tzid", TZID)
    tz.add("x-lic-location", TZID)
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("dtstart", datetime(1996, 3, 31, 2, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("dtstart", datetime(1996, 10, 27, 3, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    tz.add_component(summer)
    tz.add_component(winter)
    return tz


def _cached_vevent(ctx: PublishContext, item: Item, sources: dict[str, Any]) -> bytes:
    key = (PATH, item["id"])
    if key not in ctx.memo:
        ctx.memo[key] = component_ical(vevent(item, sources))
    data: bytes = ctx.memo[key]
    return data


def component_ical(component: Component) -> bytes:
    """Return what ``component.to_ical()`` returns: its content lines, folded (RFC 5545 3.1).

    icalendar folds a line character by character, which was most of the time spent on a
    VEVENT; ``fold`` cuts the same lines at the same places from their UTF-8 bytes.
    """
    return b"".join(fold(line) + b"\r\n" for line in component.content_lines() if line)


FOLD_OCTETS = 74  # a folded line holds fewer than 75 octets before its CRLF, as icalendar's


def fold(line: str) -> bytes:
    r"""Fold one content line as icalendar does: at most 74 octets a line, never inside a
    UTF-8 sequence, and never right after a backslash or caret (an escape stays whole).

    >>> [len(part) for part in fold("SUMMARY:x" + "ä" * 40).split(b"\r\n ")]
    [73, 16]
    >>> fold("DESCRIPTION:" + "a" * 61 + "\\,b").split(b"\r\n ")[1]
    b'\\,b'
    """
    data = line.encode("utf-8")
    if len(data) <= FOLD_OCTETS:
        return data
    parts = []
    start = 0
    while len(data) - start > FOLD_OCTETS:
        cut = start + FOLD_OCTETS
        while data[cut] & 0xC0 == 0x80:  # a continuation byte: the character starts earlier
            cut -= 1
        if data[cut - 1] in b"\\^" and cut - 1 > start:
            cut -= 1  # the escaped character would otherwise begin the next line alone
        parts.append(data[start:cut])
        start = cut
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def vevent(item: Item, sources: dict[str, Any]) -> Event:
    """Build the VEVENT of one event item.

    Timed events carry DTSTART/DTEND with TZID=Europe/Berlin; all-day events VALUE=DATE with
    the exclusive DTEND of RFC 5545 (the day after the item's inclusive ``end``).
    """
    event = _event(item)
    vevent = Event()
    vevent.add("uid", f"{item['id']}@{UID_DOMAIN}")
    # DTSTAMP: when the event's information last changed (RFC 5545 3.8.7.2, no METHOD).
    stamp = modified_at(item) or parse_instant(event["start"])
    vevent.add("dtstamp", stamp.astimezone(UTC))
    created = published_at(item)
    if created is not None:
        vevent.add("created", created.astimezone(UTC))
    if item.get("date_modified"):
        vevent.add("last-modified", parse_instant(item["date_modified"]).astimezone(UTC))
    vevent.add("sequence", sequence(item))
    _add_when(vevent, event)
    vevent.add("summary", item.get("title") or item["id"])
    vevent.add("description", _description(item, sources))
    place = event_place(event)
    if place:
        vevent.add("location", place)
    geo = (event.get("location") or {}).get("geo") or {}
    if geo.get("lat") is not None and geo.get("lon") is not None:
        vevent.add("geo", (float(geo["lat"]), float(geo["lon"])))
    if item.get("url"):
        vevent.add("url", item["url"], parameters={"VALUE": "URI"})
    status = STATUS.get(str(event.get("status", "")).lower())
    if status:
        vevent.add("status", status)
    if item.get("tags"):
        vevent.add("categories", list(item["tags"]))
    vevent.add("class", "PUBLIC")
    return vevent


def _add_when(vevent: Event, event: dict[str, Any]) -> None:
    """Add DTSTART and, where known, DTEND."""
    start_text: str = event["start"]
    if event.get("all_day") or is_date_only(start_text):
        first, last = event_days(event)
        vevent.add("dtstart", first)
        # RFC 5545 3.6.1: DTEND of a VALUE=DATE event is exclusive.
        vevent.add("dtend", last + timedelta(days=1))
        return
    start = parse_instant(start_text).astimezone(BERLIN)
    vevent.add("dtstart", start)
    end_text = event.get("end")
    if end_text and not is_date_only(end_text):
        end = parse_instant(end_text).astimezone(BERLIN)
        if end > start:
            vevent.add("dtend", end)


def sequence(item: Item) -> int:
    """Return the VEVENT SEQUENCE of an item: 0 until it changes, then growing with each change.

    0 when the item has no date_modified or it is not after date_published; otherwise the whole
    seconds from 2020-01-01T00:00:00Z to date_modified, clipped to 1 … 2**31-1 (clients store
    SEQUENCE as a 32-bit integer). date_modified only ever moves forward in the store, so every
    change the calendar shows raises SEQUENCE, and the same item always gives the same number.

    >>> sequence({"date_published": "2024-08-07T00:00:00+02:00"})
    0
    >>> sequence({"date_published": "2024-08-07T00:00:00+02:00",
    ...           "date_modified": "2024-08-09T12:00:00+02:00"})
    145360800
    """
    modified = item.get("date_modified")
    if not modified:
        return 0
    changed = parse_instant(modified)
    published = item.get("date_published")
    if published and changed <= parse_instant(published):
        return 0
    seconds = int((changed - SEQUENCE_EPOCH).total_seconds())
    return max(1, min(seconds, INT32_MAX))


def _description(item: Item, sources: dict[str, Any]) -> str:
    """Return the plain text of the event, then where it comes from and under which licence."""
    ext = item.get("_regiofeed", {})
    text = item.get("content_text") or item.get("summary") or ""
    lines = []
    if str(_event(item).get("status", "")).lower() == "cancelled":
        lines.append("Abgesagt.")
    if text:
        lines.append(text)
    source = first_known_source(ext.get("sources", []), sources)
    origin = source.get("name") if source else ext.get("publisher")
    if origin or item.get("url"):
        lines.append("Quelle: " + " – ".join(filter(None, (origin, item.get("url")))))
    rights = rights_statement(ext.get("publisher"), ext.get("licence"))
    if rights:
        lines.append(rights)
    return "\n\n".join(lines)


def _event(item: Item) -> dict[str, Any]:
    """Return the item's event details, or {} for news and events without a start."""
    event = (item.get("_regiofeed") or {}).get("event") or {}
    return event if event.get("start") else {}


def upcoming_since(today: date, past_days: int) -> date:
    """Return the earliest last day an event may have and still be in the calendar.

    >>> upcoming_since(date(2024, 9, 1), 30)
    datetime.date(2024, 8, 2)
    """
    return today - timedelta(days=past_days)
