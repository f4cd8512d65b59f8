"""Dates that CMSs put into titles ("27.05.2019: Wahlergebnisse …"): taken out, kept as dates."""

from __future__ import annotations

import re
from datetime import date, datetime

from regiofeed.models.normalise.dates import MONTH_NAMES, parse_date

_MONTHS = MONTH_NAMES
# A full date with its year: a title that names a day without a year ("… ab 1. Oktober") is
# a sentence about that day, not a stamp, and keeps its words.
_DATE = rf"(?:\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{4}}|\d{{1,2}}\.\s*{_MONTHS}\s+\d{{4}})"
_PATTERNS = (
    # "27.05.2019: Wahlergebnisse", "27.05.2019 - Wahlergebnisse", "27.05.2019 | …"
    re.compile(rf"^\s*(?P<date>{_DATE})\s*[:|–—-]\s*(?P<title>\S.*)$", re.DOTALL),
    # "Wahlergebnisse (27.05.2019)"
    re.compile(rf"^(?P<title>.*\S)\s*\(\s*(?P<date>{_DATE})\s*\)\s*$", re.DOTALL),
    # "Wahlergebnisse – 27. Mai 2019", "Wahlergebnisse - 27.05.2019"
    re.compile(rf"^(?P<title>.*\S)\s+[–—-]\s+(?P<date>{_DATE})\s*$", re.DOTALL),
)


def split_title_date(title: str) -> tuple[str, date | None]:
    """Return the title without a date stamp, and the stamped day (None: no stamp).

    >>> split_title_date("27.05.2019: Wahlergebnisse der Kommunalwahl")
    ('Wahlergebnisse der Kommunalwahl', datetime.date(2019, 5, 27))
    >>> split_title_date("Sommerfest (01.06.2024)")
    ('Sommerfest', datetime.date(2024, 6, 1))
    >>> split_title_date("Ortsbeirat tagt – 27. Mai 2019")
    ('Ortsbeirat tagt', datetime.date(2019, 5, 27))
    >>> split_title_date("Neue Öffnungszeiten ab 1. Oktober")
    ('Neue Öffnungszeiten ab 1. Oktober', None)
    >>> split_title_date("24. Oktober: Fahrrad-Versteigerung")
    ('24. Oktober: Fahrrad-Versteigerung', None)
    """
    for pattern in _PATTERNS:
        match = pattern.match(title)
        if not match:
            continue
        day = parse_date(match["date"])
        rest = match["title"].strip()
        if day is None or len(rest) < 3:
            continue
        return rest, day.date() if isinstance(day, datetime) else day
    return title, None


def date_note(stamped: date, published: datetime | date) -> str | None:
    """Say so when a title's date stamp and the feed's own date are different days.

    >>> date_note(date(2019, 5, 1), date(2019, 1, 10))
    'the title is dated 2019-05-01, the feed 2019-01-10; the feed date is kept'
    """
    day = published.date() if isinstance(published, datetime) else published
    if day == stamped:
        return None
    return (f"the title is dated {stamped.isoformat()}, the feed {day.isoformat()}; "
            "the feed date is kept")
