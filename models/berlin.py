"""Europe/Berlin, the time zone of every source and every date regiofeed writes; ISO 8601 in it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def parse_iso(text: str) -> date | datetime:
    """Read ISO 8601 text as a date when it has no time, else as a datetime.

    Date-only stays a date (an all-day event, a day without an hour); raises ValueError on
    anything that is not ISO 8601.

    >>> parse_iso("2024-09-05")
    datetime.date(2024, 9, 5)
    >>> parse_iso("2024-09-05T10:00:00+02:00").hour
    10
    """
    text = text.strip()
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
