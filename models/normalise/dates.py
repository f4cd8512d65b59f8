"""German, ISO 8601 and RFC 822 dates, times and ranges, resolved in Europe/Berlin."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime

import dateparser

from regiofeed.models.berlin import BERLIN

# Only absolute dates: a page's "morgen" or "nächsten Montag" refers to when it was written,
# which a crawler does not know. Requiring day, month and year keeps dateparser from filling
# gaps from today's date; a missing year is added explicitly from `default_year`.
_DATEPARSER_SETTINGS = {
    "PARSERS": ["absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "DATE_ORDER": "DMY",
}

# German month names and their abbreviations: the one spelling list of every reader of dates
# in text (list pages, titles, prose); lower case, for patterns compiled with re.IGNORECASE.
MONTH_WORDS = (
    r"januar|jan|jänner|februar|feb|märz|maerz|mär|mrz|april|apr|mai|juni|jun|juli|jul"
    r"|august|aug|september|sept|sep|oktober|okt|november|nov|dezember|dez"
)
# The full names only, as a group that ignores case wherever it is used.
MONTH_NAMES = (r"(?i:januar|jänner|februar|märz|april|mai|juni|juli|august|september|oktober"
               r"|november|dezember)")
_MONTHS = MONTH_WORDS
_WEEKDAYS = ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag")
_WEEKDAY_FULL = "|".join((*_WEEKDAYS, "sonnabend"))
_WEEKDAY_ABBR = "mo|di|mi|do|fr|sa|so"

_UNITS = ("ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_ORDINAL_WORDS: dict[str, int] = {
    "erste": 1, "zweite": 2, "dritte": 3, "vierte": 4, "fünfte": 5, "sechste": 6,
    "siebte": 7, "siebente": 7, "achte": 8, "neunte": 9, "zehnte": 10, "elfte": 11,
    "zwölfte": 12, "dreizehnte": 13, "vierzehnte": 14, "fünfzehnte": 15, "sechzehnte": 16,
    "siebzehnte": 17, "achtzehnte": 18, "neunzehnte": 19, "zwanzigste": 20,
    **{f"{unit}undzwanzigste": 21 + i for i, unit in enumerate(_UNITS)},
    "dreißigste": 30, "dreissigste": 30, "einunddreißigste": 31, "einunddreissigste": 31,
}  # fmt: skip
_ORDINAL_WORD_RE = re.compile(
    rf"\b({'|'.join(sorted(_ORDINAL_WORDS, key=len, reverse=True))})[rnsm]?\s+(?=(?:{_MONTHS})\b)"
)
_ORDINAL_SUFFIX_RE = re.compile(r"\b(\d{1,2})(?:te|ten|ter|tes|tem)\b")
_NTH_WEEKDAY_RE = re.compile(
    rf"(?P<nth>erste|zweite|dritte|vierte|fünfte|letzte)[rnsm]?\s+(?P<weekday>{_WEEKDAY_FULL})"
    rf"\s+im\s+(?P<month>{_MONTHS})\.?(?:\s+(?P<year>\d{{4}}))?"
)
# "Juli 13", "April 14, 2015": month first, as in English; the day is moved in front.
_MONTH_FIRST_RE = re.compile(
    rf"(?P<day_before>\d{{1,2}}\.?\s*)?\b(?P<month>{_MONTHS})\.?\s+(?P<day>\d{{1,2}})(?![\d.:])"
    r"(?:,?\s+(?P<year>\d{4}))?"
)
_WEEKDAY_RE = re.compile(
    rf"\b(?:(?:{_WEEKDAY_FULL})\b|(?:{_WEEKDAY_ABBR})\b(?=\.?\s*,|\.?\s+\d|\.?\s*$))\.?,?"
)
_FILLER_RE = re.compile(r"\b(?:am|vom|von|den|der|dem|zum|zur|ab|um|im|veröffentlicht|jeweils)\b")
_DATE_SEPARATOR_RE = re.compile(
    r"\s+(?:bis\s+zum|bis\s+zur|bis|auf\s+den|und)\s+|\s*/\s*|(?<=\.)\s*-\s*|\s+-\s+"
)

_HOUR = r"(?:[01]?\d|2[0-4])"
_MINUTE = r"[0-5]\d"
_TIME_RANGE_RE = re.compile(
    rf"""(?<![\d.:])(?:(?:von|ab|zwischen)\s+)?
    (?P<h1>{_HOUR})(?:(?P<s1>[:.])(?P<m1>{_MINUTE})|h(?P<n1>{_MINUTE}))?\s*(?P<u1>uhr|h\b)?
    \s*(?:-|bis|/|und)\s*
    (?P<h2>{_HOUR})(?:(?P<s2>[:.])(?P<m2>{_MINUTE})|h(?P<n2>{_MINUTE}))?\s*(?P<u2>uhr|h\b)?
    (?!\d|\.\d)""",
    re.VERBOSE,
)
_TIME_PREFIXES = (
    "um", "ab", "gegen", "nach", "ca.", "ca", "circa", "zirka", "etwa", "ungefähr", "so",
    "frühestens", "bis", "vor", "spätestens", "pünktlich",
)  # fmt: skip
_TIME_RE = re.compile(
    rf"""(?<![\d.:])
    (?P<pre>(?:\b(?:{"|".join(re.escape(p) for p in _TIME_PREFIXES)})\s+)*)
    (?P<h>{_HOUR})(?:(?P<s>[:.])(?P<m>{_MINUTE})|h(?P<n>{_MINUTE}))?\s*(?P<u>uhr\b|h\b)?
    (?!\d|\.\d)""",
    re.VERBOSE,
)
_AFTERNOON_RE = re.compile(r"\s*(?:abends|am\s+abend|nachmittags?|am\s+nachmittag)\b")
_END_ONLY_PREFIXES = {"bis", "vor", "spätestens"}

_ISO_RE = re.compile(
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:[t ](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<zone>z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_ISO_SEPARATOR_RE = re.compile(r"\s*(?:/|--|\s-\s|\sbis\s)\s*")
_RFC822_RE = re.compile(r"(?:[a-z]{3},\s*)?\d{1,2}\s+[a-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}", re.I)


@dataclass(frozen=True)
class When:
    """A point or span in time: dates for all-day values (end inclusive), else aware datetimes."""

    start: datetime | date
    end: datetime | date | None
    all_day: bool


@dataclass(frozen=True)
class _Times:
    """Times of day found in a text, as (hour, minute); `end_only` for "bis 11 Uhr"."""

    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None


def to_berlin(value: datetime) -> datetime:
    """Return `value` in Europe/Berlin; a naive value is read as Berlin wall-clock time.

    >>> from datetime import UTC
    >>> to_berlin(datetime(2024, 8, 7, 8, 0, tzinfo=UTC)).isoformat()
    '2024-08-07T10:00:00+02:00'
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=BERLIN)
    return value.astimezone(BERLIN)


def parse_date(text: str, *, default_year: int | None = None) -> datetime | date | None:
    """Parse one point in time: ISO 8601, RFC 822 or German; for a range, its start.

    A date without a time gives a `date`, one with a time an aware datetime in Europe/Berlin.
    A missing year is taken from `default_year`; without it, and for anything that is not a
    date, the result is None (never an exception).

    >>> parse_date("Donnerstag, 5. September 2024, 10:00 Uhr").isoformat()
    '2024-09-05T10:00:00+02:00'
    >>> parse_date("7.8.24")
    datetime.date(2024, 8, 7)
    """
    if not text or not text.strip():
        return None
    stripped = text.strip()
    if _RFC822_RE.match(stripped):
        try:
            return to_berlin(parsedate_to_datetime(stripped))
        except (TypeError, ValueError, IndexError):
            pass  # not RFC 822 after all; German parsing may still read it
    when = parse_when(stripped, default_year=default_year)
    return when.start if when else None


def parse_when(
    text: str, *, default_year: int | None = None, time_text: str | None = None
) -> When | None:
    """Parse a date or a date/time range as German event pages write it.

    `time_text` holds the times when a page gives them apart ("Uhrzeit: 10 bis 17 Uhr");
    times in `text` win over it. An end time before the start time is on the next day.
    A date without a year takes `default_year`. Returns None when there is no date, and for
    open-ended deadlines ("bis 30. November"), which have no start.

    >>> parse_when("15. März 2021, 17:00 bis 19:00 Uhr").end.isoformat()
    '2021-03-15T19:00:00+01:00'
    >>> parse_when("3.–5.10.2024")
    When(start=datetime.date(2024, 10, 3), end=datetime.date(2024, 10, 5), all_day=True)
    """
    try:
        return _parse_when(text or "", default_year, time_text)
    except (ValueError, OverflowError):
        # Out-of-range days and years ("31.02.2024", year 0) are not dates.
        return None


def _parse_when(text: str, default_year: int | None, time_text: str | None) -> When | None:
    normalised = _normalise(text)
    if not normalised:
        return None
    iso = _parse_iso_when(normalised)
    if iso is not None:
        if isinstance(iso, When):
            return iso
        first, last, times = iso[0], iso[1], _Times()
    else:
        date_text, times = _extract_times(normalised, time_mode=False)
        days = _parse_days(date_text, default_year)
        if days is None:
            return None
        first, last = days
    if times.start is None and times.end is None and time_text:
        _, times = _extract_times(_normalise(time_text), time_mode=True)
    return _assemble(first, last, times)


def _normalise(text: str) -> str:
    """Lower-case, unify dashes and whitespace: '3.–5.10.2024' → '3. - 5.10.2024'."""
    text = re.sub(r"\s*[–—‒−]\s*", " - ", text.lower())
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def _assemble(first: date, last: date | None, times: _Times) -> When:
    """Combine days and times of day into a When; see parse_when for the rules."""
    if last == first:
        last = None
    if times.start is None:
        return When(start=first, end=last, all_day=True)
    start = _at(first, times.start)
    if times.end is None:
        # One start time on several days ("jeweils 10 Uhr") says nothing about the end.
        return When(start=first, end=last, all_day=True) if last else When(start, None, False)
    end = _at(last or first, times.end)
    if end < start:
        end = _at((last or first) + timedelta(days=1), times.end)
    return When(start=start, end=end, all_day=False)


def _at(day: date, hour_minute: tuple[int, int]) -> datetime:
    """Return the Berlin wall-clock time on `day`; 24:00 is midnight at the end of the day."""
    hour, minute = hour_minute
    if hour == 24:
        return datetime.combine(day + timedelta(days=1), time(0, minute), tzinfo=BERLIN)
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def _parse_iso_when(text: str) -> When | tuple[date, date | None] | None:
    """Read one ISO 8601 value or a pair of them; dates come back as days for _assemble."""
    parts = _ISO_SEPARATOR_RE.split(text)
    if len(parts) > 2 or not all(_ISO_RE.fullmatch(part) for part in parts):
        return None
    values = [_iso_value(part) for part in parts]
    if any(isinstance(value, datetime) for value in values):
        start = values[0]
        end = values[1] if len(values) == 2 else None
        if not isinstance(start, datetime) or not isinstance(end, datetime | None):
            # A datetime paired with a bare date: keep the days, drop the times.
            return (_day(start), _day(end) if end else None)
        return When(start=start, end=end, all_day=False)
    return (values[0], values[1] if len(values) == 2 else None)


def _iso_value(text: str) -> datetime | date:
    """Parse one ISO 8601 value, padding '2018-8-31'; datetimes end up in Berlin."""
    match = _ISO_RE.fullmatch(text)
    assert match is not None
    year, month, day = match["date"].split("-")
    day_value = date(int(year), int(month), int(day))
    if not match["time"]:
        return day_value
    zone = (match["zone"] or "").upper()
    parsed = datetime.fromisoformat(f"{day_value.isoformat()}T{match['time']}{zone}")
    return to_berlin(parsed)


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _extract_times(text: str, *, time_mode: bool) -> tuple[str, _Times]:
    """Remove the times of day from `text` and return the rest and the times found.

    In `time_mode` the text is known to hold times, so '10.10' and 'ab 19' count as times;
    elsewhere a time needs a colon, 'Uhr'/'h' or a leading 'um', because '14.10' is a date.
    """
    match = _TIME_RANGE_RE.search(text)
    if match and _is_time_range(match, time_mode):
        start = (int(match["h1"]), int(match["m1"] or match["n1"] or 0))
        end = (int(match["h2"]), int(match["m2"] or match["n2"] or 0))
        return text[: match.start()] + " " + text[match.end() :], _Times(start, end)
    found: list[tuple[tuple[int, int], bool]] = []
    rest = text
    for match in reversed(list(_TIME_RE.finditer(text))):
        if not _is_time(match, text, time_mode):
            continue
        hour, minute = int(match["h"]), int(match["m"] or match["n"] or 0)
        after = text[match.end() :]
        end = match.end()
        afternoon = _AFTERNOON_RE.match(after)
        if afternoon:
            end += afternoon.end()
            hour += 12 if hour < 12 else 0
        prefixes = set(match["pre"].split())
        end_only = bool(prefixes & _END_ONLY_PREFIXES) or after.lstrip().startswith("spätestens")
        found.insert(0, ((hour, minute), end_only))
        rest = rest[: match.start()] + " " + rest[end:]
    starts = [value for value, end_only in found if not end_only]
    ends = [value for value, end_only in found if end_only]
    if len(starts) >= 2:
        # "01.10.2024 10:00 - 03.10.2024 16:00": the first starts, the last ends.
        return rest, _Times(starts[0], starts[-1])
    return rest, _Times(starts[0] if starts else None, ends[0] if ends and starts else None)


def _is_time_range(match: re.Match[str], time_mode: bool) -> bool:
    if ":" in (match["s1"], match["s2"]) or match["u2"] or match["n1"] or match["n2"]:
        return True
    return time_mode or bool(match["u1"])


def _is_time(match: re.Match[str], text: str, time_mode: bool) -> bool:
    if match["s"] == ":" or match["u"] or match["n"]:
        return True
    if text[match.end() : match.end() + 1] == ".":
        return False  # "am 14. September", "ab 14.9."
    prefixes = match["pre"].split()
    if time_mode:
        return bool(prefixes) or match["s"] == "." or text.strip() == match.group().strip()
    # "um" introduces a time, never a date: "um 15", "um 10.10".
    return "um" in prefixes


def _parse_days(text: str, default_year: int | None) -> tuple[date, date | None] | None:
    """Parse the date part of a text into its first and last day (None for a single day)."""
    text = text.strip(" ,;:")
    nth = _NTH_WEEKDAY_RE.search(text)
    if nth:
        day = _nth_weekday(nth, default_year)
        return (day, None) if day else None
    text = _MONTH_FIRST_RE.sub(_day_first, text)
    text = _ORDINAL_SUFFIX_RE.sub(r"\1.", text)
    text = _ORDINAL_WORD_RE.sub(lambda m: f"{_ORDINAL_WORDS[m[1]]}. ", text)
    text = _WEEKDAY_RE.sub(" ", text)
    text = _DATE_SEPARATOR_RE.sub(" - ", f" {text.strip(' ,')} ")
    text = _FILLER_RE.sub(" ", text)
    parts = [re.sub(r"\s+", " ", part).strip(" ,;:") for part in text.split(" - ")]
    if len(parts) == 1:
        day = _parse_day(parts[0], default_year)
        return (day, None) if day else None
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None  # "bis 30. November" (a deadline) or a list we cannot read
    return _parse_day_range(parts[0], parts[1], default_year)


def _day_first(match: re.Match[str]) -> str:
    """Rewrite 'juli 13' as '13. juli', leaving '22. apr 26' (day already in front) alone."""
    if match["day_before"]:
        return match.group()
    return f"{match['day']}. {match['month']} {match['year'] or ''}".strip()


def _parse_day_range(first: str, last: str, default_year: int | None) -> tuple[date, date] | None:
    """Parse '14.' / '14.10.' / '14.10.2018' up to '15.10.2018', completing the first side."""
    first_full = _parse_day(first, None)
    end = _parse_day(last, None)
    if end is None:
        year = first_full.year if first_full else default_year
        end = _parse_day(last, year)
        if end is not None and first_full is not None and end < first_full:
            end = _parse_day(last, end.year + 1)  # "28.12.2024 - 02.01."
    if end is None:
        return None
    start = first_full
    if start is None:
        day_only = re.fullmatch(r"(\d{1,2})\.?", first)
        if day_only:
            start = _day_in_month_before(int(day_only[1]), end)
        else:
            start = _parse_day(first, end.year)
            if start is not None and start > end:
                start = _parse_day(first, end.year - 1)
    if start is None or start > end:
        return None
    return start, end


def _day_in_month_before(day: int, end: date) -> date:
    """Return `day` in the month of `end`, or of the month before if that would follow `end`."""
    candidate = date(end.year, end.month, day) if day <= _days_in(end) else None
    if candidate is not None and candidate <= end:
        return candidate
    previous = end.replace(day=1) - timedelta(days=1)
    return previous.replace(day=day)


def _days_in(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _parse_day(text: str, year: int | None) -> date | None:
    """Parse one German date with dateparser; a missing year is `year`, else None.

    >>> _parse_day("15.2.", 2013)
    datetime.date(2013, 2, 15)
    """
    if not text or not re.search(r"\d", text):
        return None
    parsed = _dateparser(text)
    if parsed is None and year is not None:
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.?", text):
            with_year = f"{text.rstrip('.')}.{year}"
        else:
            with_year = f"{text} {year}"
        parsed = _dateparser(with_year)
        # dateparser moves an impossible "29. Februar 2013" to another year: not a date.
        if parsed is not None and parsed.year != year:
            return None
    return parsed


def _dateparser(text: str) -> date | None:
    parsed = dateparser.parse(text, languages=["de"], settings=_DATEPARSER_SETTINGS)
    return parsed.date() if parsed else None


def _nth_weekday(match: re.Match[str], default_year: int | None) -> date | None:
    """Resolve 'dritter dienstag im september 2014' to a day."""
    year = int(match["year"]) if match["year"] else default_year
    if year is None:
        return None
    first_of_month = _parse_day(f"1. {match['month']}", year)
    if first_of_month is None:
        return None
    weekday = _WEEKDAYS.index(match["weekday"].replace("sonnabend", "samstag"))
    if match["nth"] == "letzte":
        last = first_of_month.replace(day=_days_in(first_of_month))
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = first_of_month + timedelta(days=(weekday - first_of_month.weekday()) % 7)
    nth = ("erste", "zweite", "dritte", "vierte", "fünfte").index(match["nth"])
    day = first + timedelta(weeks=nth)
    return day if day.month == first_of_month.month else None
