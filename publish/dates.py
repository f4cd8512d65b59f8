"""ISO 8601 date parsing and German (DIN 5008 style) date formatting, in Europe/Berlin."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from regiofeed.models.berlin import BERLIN

WEEKDAYS = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")
MONTHS = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip

# Ranges of days are spaced ("25. – 26."), ranges of times are not ("10:00–17:00"), as in
# German typesetting.
DAY_RANGE = " – "
TIME_RANGE = "–"


def is_date_only(value: str) -> bool:
    """Tell whether an ISO 8601 string is a calendar date without a time.

    >>> is_date_only("2023-08-25"), is_date_only("2023-08-25T10:00:00+02:00")
    (True, False)
    """
    return "T" not in value and " " not in value.strip()


# Every writer of every scope parses the same few thousand date strings again; datetimes are
# immutable, so a cache is safe. Bounded, because a Prefect worker lives long.
@lru_cache(maxsize=65536)
def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time into an aware datetime.

    A date alone means midnight, and a value without an offset is read as Europe/Berlin
    local time (that is where every source lives). Raises ValueError on anything else.

    >>> parse_instant("2023-08-25").isoformat()
    '2023-08-25T00:00:00+02:00'
    """
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=BERLIN)


def rfc3339(value: str) -> str:
    """Return an ISO 8601 date or date-time as an RFC 3339 date-time in whole seconds.

    A date alone becomes midnight in Europe/Berlin, as every writer reads it, so readers of
    different formats place the item at the same instant. This is also a valid HTML
    ``<time datetime>`` value, which allows at most three decimals of a second.

    >>> rfc3339("2024-08-07"), rfc3339("2024-09-01T06:00:00.123456+00:00")
    ('2024-08-07T00:00:00+02:00', '2024-09-01T06:00:00+00:00')
    """
    return parse_instant(value).replace(microsecond=0).isoformat()


def local_day(value: str) -> date:
    """Return the Europe/Berlin calendar day of an ISO 8601 date or date-time."""
    if is_date_only(value):
        return date.fromisoformat(value)
    return parse_instant(value).astimezone(BERLIN).date()


def format_date(day: date, *, weekday: bool = True) -> str:
    """Format a day the German way.

    >>> format_date(date(2024, 9, 5))
    'Do., 5. September 2024'
    >>> format_date(date(2024, 9, 5), weekday=False)
    '5. September 2024'
    """
    text = f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]}, {text}" if weekday else text


def format_time(moment: datetime) -> str:
    """Format the Europe/Berlin wall-clock time of an aware datetime as HH:MM."""
    return moment.astimezone(BERLIN).strftime("%H:%M")


def format_day_range(first: date, last: date) -> str:
    """Format an inclusive range of days, naming month and year only once where shared.

    >>> format_day_range(date(2023, 8, 25), date(2023, 8, 26))
    'Fr., 25. – Sa., 26. August 2023'
    >>> format_day_range(date(2023, 8, 31), date(2023, 9, 1))
    'Do., 31. August – Fr., 1. September 2023'
    """
    if last <= first:
        return format_date(first)
    start_weekday = WEEKDAYS[first.weekday()]
    if (first.year, first.month) == (last.year, last.month):
        head = f"{start_weekday}, {first.day}."
    elif first.year == last.year:
        head = f"{start_weekday}, {first.day}. {MONTHS[first.month - 1]}"
    else:
        head = format_date(first)
    return f"{head}{DAY_RANGE}{format_date(last)}"


def event_days(event: dict[str, Any]) -> tuple[date, date]:
    """Return the first and last Europe/Berlin day on which an event runs (inclusive).

    For all-day events ``end`` already is the last day. A timed event that ends exactly at
    midnight does not run on the day it ends.
    """
    return _event_days(event["start"], event.get("end"))


# The page, the calendar and the feeds of three scopes each ask this of every event.
@lru_cache(maxsize=65536)
def _event_days(start: str, end: str | None) -> tuple[date, date]:
    first = local_day(start)
    if not end:
        return first, first
    last = local_day(end)
    if not is_date_only(end) and not is_date_only(start):
        end_local = parse_instant(end).astimezone(BERLIN)
        if end_local.time() == time(0, 0) and last > first:
            last -= timedelta(days=1)
    return first, max(first, last)


def format_event_when(event: dict[str, Any]) -> str:
    """Format when an event takes place, in German, in Europe/Berlin time.

    >>> format_event_when({"start": "2024-09-05T10:00:00+02:00",
    ...                    "end": "2024-09-05T17:00:00+02:00", "all_day": False})
    'Do., 5. September 2024, 10:00–17:00 Uhr'
    >>> format_event_when({"start": "2023-08-25", "end": "2023-08-26", "all_day": True})
    'Fr., 25. – Sa., 26. August 2023'
    """
    start_text: str = event["start"]
    if event.get("all_day") or is_date_only(start_text):
        return format_day_range(*event_days(event))

    start = parse_instant(start_text).astimezone(BERLIN)
    end_text = event.get("end")
    end = parse_instant(end_text).astimezone(BERLIN) if end_text else None
    if end is None or end <= start:
        return f"{format_date(start.date())}, {format_time(start)} Uhr"
    if end.date() == start.date() or event_days(event)[1] == start.date():
        times = f"{format_time(start)}{TIME_RANGE}{format_time(end)}"
        return f"{format_date(start.date())}, {times} Uhr"
    return (
        f"{format_date(start.date())}, {format_time(start)} Uhr{DAY_RANGE}"
        f"{format_date(end.date())}, {format_time(end)} Uhr"
    )
