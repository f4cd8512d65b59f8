"""Tests for spiders.dates: German, ISO 8601 and RFC 822 dates, ranges and the shared corpus."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
from shared import SHARED

from regiofeed.models.normalise.dates import BERLIN, When, parse_date, parse_when, to_berlin


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


# ---------------------------------------------------------------- plain unit tests


def test_to_berlin_reads_naive_values_as_berlin_wall_clock() -> None:
    assert to_berlin(datetime(2024, 8, 7, 10, 0)) == berlin(2024, 8, 7, 10, 0)
    assert to_berlin(datetime(2024, 8, 7, 10, 0)).utcoffset().total_seconds() == 7200


def test_to_berlin_converts_aware_values() -> None:
    utc = datetime.fromisoformat("2024-01-07T08:00:00+00:00")
    assert to_berlin(utc).isoformat() == "2024-01-07T09:00:00+01:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-08-07", date(2024, 8, 7)),
        ("2024-08-07T10:00:00+02:00", "2024-08-07T10:00:00+02:00"),
        ("2024-08-07T08:00:00Z", "2024-08-07T10:00:00+02:00"),
        ("2024-08-07T10:00:00", "2024-08-07T10:00:00+02:00"),
        ("Wed, 07 Aug 2024 10:00:00 +0200", "2024-08-07T10:00:00+02:00"),
        ("Wed, 07 Aug 2024 08:00:00 GMT", "2024-08-07T10:00:00+02:00"),
        ("07.08.2024", date(2024, 8, 7)),
        ("7.8.24", date(2024, 8, 7)),
        ("5. September 2024", date(2024, 9, 5)),
        ("Donnerstag, 5. September 2024, 10:00 Uhr", "2024-09-05T10:00:00+02:00"),
        ("5. Sept. 2024 10 Uhr", "2024-09-05T10:00:00+02:00"),
        ("27.10.2024, 19.30 Uhr", "2024-10-27T19:30:00+01:00"),
        ("veröffentlicht am 07.08.2024 um 14:35 Uhr", "2024-08-07T14:35:00+02:00"),
    ],
)
def test_parse_date_reads_iso_rfc822_and_german(text: str, expected: date | str) -> None:
    value = parse_date(text)
    if isinstance(expected, str):
        assert isinstance(value, datetime)
        assert value.isoformat() == expected
        assert value.tzinfo == BERLIN
    else:
        assert type(value) is date
        assert value == expected


def test_parse_date_without_year_needs_default_year() -> None:
    assert parse_date("Sonnabend, 14.9.") is None
    assert parse_date("Sonnabend, 14.9.", default_year=2024) == date(2024, 9, 14)


@pytest.mark.parametrize(
    "text", ["", "   ", "garbage", "Münster", "31.02.2024", "heute", "99.99.9999", "2024-13-45"]
)
def test_parse_date_returns_none_for_non_dates(text: str) -> None:
    assert parse_date(text) is None


def test_parse_date_of_a_range_is_its_start() -> None:
    assert parse_date("vom 1. bis 3. Oktober 2024") == date(2024, 10, 1)


@pytest.mark.parametrize(
    ("text", "time_text", "default_year", "expected"),
    [
        (
            "5. September 2024",
            "10:00 Uhr bis 17:00 Uhr (danach Get-together)",
            None,
            When(berlin(2024, 9, 5, 10), berlin(2024, 9, 5, 17), all_day=False),
        ),
        (
            "15. März 2021, 17:00 bis 19:00 Uhr",
            None,
            None,
            When(berlin(2021, 3, 15, 17), berlin(2021, 3, 15, 19), all_day=False),
        ),
        (
            "Freitag, 25. und Samstag, 26. August 2023",
            None,
            None,
            When(date(2023, 8, 25), date(2023, 8, 26), all_day=True),
        ),
        (
            "vom 1. bis 3. Oktober 2024",
            None,
            None,
            When(date(2024, 10, 1), date(2024, 10, 3), all_day=True),
        ),
        ("3.–5.10.2024", None, None, When(date(2024, 10, 3), date(2024, 10, 5), all_day=True)),
        (
            "01.10.2024 - 03.10.2024",
            None,
            None,
            When(date(2024, 10, 1), date(2024, 10, 3), all_day=True),
        ),
        ("07.08.2024", None, None, When(date(2024, 8, 7), None, all_day=True)),
        (
            "5. September 2024, 10 Uhr",
            None,
            None,
            When(berlin(2024, 9, 5, 10), None, all_day=False),
        ),
        ("07.08.2024", "ab 19 Uhr", None, When(berlin(2024, 8, 7, 19), None, all_day=False)),
        ("Sa., 14.9., 15 Uhr", None, 2024, When(berlin(2024, 9, 14, 15), None, all_day=False)),
        (
            "14.09.2024, 19:30 – 22:00 Uhr",
            None,
            None,
            When(berlin(2024, 9, 14, 19, 30), berlin(2024, 9, 14, 22), all_day=False),
        ),
        (
            "30. September – 2. Oktober 2024",
            None,
            None,
            When(date(2024, 9, 30), date(2024, 10, 2), all_day=True),
        ),
        (
            "28.12.2024 - 02.01.2025",
            None,
            None,
            When(date(2024, 12, 28), date(2025, 1, 2), all_day=True),
        ),
        (
            "2024-09-05T10:00:00+02:00/2024-09-05T17:00:00+02:00",
            None,
            None,
            When(berlin(2024, 9, 5, 10), berlin(2024, 9, 5, 17), all_day=False),
        ),
        (
            "2024-10-01 - 2024-10-03",
            None,
            None,
            When(date(2024, 10, 1), date(2024, 10, 3), all_day=True),
        ),
        (
            "Samstag, 14.09.2024, 22:00 - 2:00 Uhr",
            None,
            None,
            When(berlin(2024, 9, 14, 22), berlin(2024, 9, 15, 2), all_day=False),
        ),
    ],
)
def test_parse_when_reads_german_ranges(
    text: str, time_text: str | None, default_year: int | None, expected: When
) -> None:
    assert parse_when(text, time_text=time_text, default_year=default_year) == expected


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("02.09.2024 18.00 - 20.00 Uhr", "2024-09-02T18:00:00+02:00", "2024-09-02T20:00:00+02:00"),
        ("07.08.2024 | 10-12 Uhr", "2024-08-07T10:00:00+02:00", "2024-08-07T12:00:00+02:00"),
        (
            "14.09.2024 19 Uhr bis 15.09.2024 2 Uhr",
            "2024-09-14T19:00:00+02:00",
            "2024-09-15T02:00:00+02:00",
        ),
        ("Sonntag, 8. September 2024, ab 10 Uhr", "2024-09-08T10:00:00+02:00", None),
        ("Fr, 18. Juli 2014 7 Uhr abends", "2014-07-18T19:00:00+02:00", None),
    ],
)
def test_parse_when_reads_more_time_formats(text: str, start: str, end: str | None) -> None:
    when = parse_when(text)
    assert when is not None
    assert when.start.isoformat() == start
    assert (when.end.isoformat() if when.end else None) == end


def test_parse_when_keeps_the_offset_of_each_season() -> None:
    when = parse_when("31.03.2024, 10 Uhr")
    assert when is not None
    assert when.start.isoformat() == "2024-03-31T10:00:00+02:00"


def test_parse_when_end_time_before_start_is_next_day() -> None:
    when = parse_when("14.09.2024", time_text="22 bis 2 Uhr")
    assert when == When(berlin(2024, 9, 14, 22), berlin(2024, 9, 15, 2), all_day=False)


def test_parse_when_times_in_text_win_over_time_text() -> None:
    when = parse_when("14.09.2024, 19 Uhr", time_text="10:00 bis 12:00 Uhr")
    assert when == When(berlin(2024, 9, 14, 19), None, all_day=False)


@pytest.mark.parametrize(
    "text", ["", "Münster", "ab 19 Uhr", "Digitalworkshop", "bis 30. November 2024", "morgen"]
)
def test_parse_when_returns_none_without_a_date(text: str) -> None:
    assert parse_when(text, default_year=2024) is None


# ---------------------------------------------------------------- the German dates corpus


CASES_FILE = SHARED / "corpora" / "german-dates" / "cases.json"

# Out of scope by category, with the reason. parse_when has no "now", only a default year.
OUT_OF_SCOPE = {
    "relative": "needs a 'now' ('morgen', 'nächsten Montag', bare weekdays): a page's "
    "relative words refer to when it was written, which a crawler does not know",
    "recurring": "a rule, not a date: When holds one occurrence, not an RRULE",
    "time-colloquial": "spoken forms ('halb vier', 'viertel vor 12', '3 Uhr am Nachmittag'); "
    "municipal pages use the 24-hour clock",
    "month": "a whole month is neither a day nor a range an event page gives",
}
END_ONLY = (
    "only an end ('bis 11 Uhr', 'bis 30. November'): a deadline; When needs a start, "
    "and parse_when returns None rather than invent one"
)
WEEKDAY_ONLY = (
    "the day is named only by its weekday ('am Donnerstag von 9:30 - 11:00'): needs a 'now'"
)
DAY_ONLY = "a day of the month without a month ('am 15ten'): the month would come from 'now'"

_MONTH_RE = re.compile(
    r"jan|feb|mär|apr|mai|jun|jul|aug|sep|okt|nov|dez|\d{1,2}\.\d{1,2}|\d{4}-\d", re.I
)
_WEEKDAY_RE = re.compile(r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag", re.I)
TIME_OF_DAY_ONLY = {"time", "time-approx", "time-colloquial"}


def _out_of_scope(case: dict[str, Any]) -> str | None:
    if case["category"] in OUT_OF_SCOPE:
        return OUT_OF_SCOPE[case["category"]]
    expected = case["expected"]
    if expected["kind"] == "open" and expected["start"] is None:
        return END_ONLY
    if not _MONTH_RE.search(case["text"]):
        if _WEEKDAY_RE.search(case["text"]):
            return WEEKDAY_ONLY
        if case["category"].startswith("date"):
            return DAY_ONLY
    return None


def _value(text: str | None) -> datetime | date | None:
    if text is None:
        return None
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def _same(actual: datetime | date | None, expected: datetime | date | None, clock: bool) -> bool:
    """Compare values of the same type; datetimes also by offset; `clock`: time of day only."""
    if expected is None or actual is None:
        return actual is expected
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, datetime) and isinstance(actual, datetime):
        if clock:
            return actual.time() == expected.time()
        return actual == expected and actual.utcoffset() == expected.utcoffset()
    return actual == expected


def _check(case: dict[str, Any]) -> tuple[bool, str]:
    """Run one case through parse_when (and parse_date for instants); say what came out."""
    reference = datetime.fromisoformat(case["reference"])
    expected = case["expected"]
    text, year = case["text"], reference.year
    when = parse_when(text, default_year=year)
    dated_text = when is not None
    if when is None:
        # No date in the text: use it as the time of the page's date, as event pages do.
        day = reference.date().isoformat()
        when = parse_when(day, default_year=year, time_text=text)
    if when is None:
        return False, "None"
    clock = case["category"] in TIME_OF_DAY_ONLY
    ok = _same(when.start, _value(expected["start"]), clock) and _same(
        when.end, _value(expected["end"]), clock
    )
    ok = ok and when.all_day == (expected["grain"] == "day")
    if ok and dated_text and expected["kind"] == "instant":
        ok = _same(parse_date(text, default_year=year), _value(expected["start"]), clock)
    return ok, f"{when.start} .. {when.end}"


def _load_cases() -> list[dict[str, Any]]:
    if not CASES_FILE.is_file():
        pytest.skip(f"German dates corpus not found at {CASES_FILE} (set REGIOFEED_SHARED)")
    return json.loads(CASES_FILE.read_text(encoding="utf-8"))


def test_german_dates_corpus_pass_rate() -> None:
    cases = _load_cases()
    out_of_scope: Counter[str] = Counter()
    failures: list[str] = []
    passed = total = 0
    for case in cases:
        reason = _out_of_scope(case)
        if reason:
            out_of_scope[reason] += 1
            continue
        total += 1
        ok, got = _check(case)
        if ok:
            passed += 1
        else:
            failures.append(f"  {case['id']} {case['text']!r}: got {got}, want {case['expected']}")
    print(f"german dates: {passed}/{total} in scope ({passed / total:.1%}), of {len(cases)} cases")
    print("out of scope:")
    for reason, count in out_of_scope.most_common():
        print(f"  {count:3d}  {reason}")
    if failures:
        print("failures:", *failures, sep="\n")
    assert total > 0
    assert passed / total >= 0.95, "\n".join(failures)


def test_german_dates_corpus_regiofeed_cases_all_pass() -> None:
    # Our own cases are the acceptance set for the event normaliser: all in-scope must pass.
    cases = [case for case in _load_cases() if case["source"] == "regiofeed"]
    failures = [
        f"{case['id']} {case['text']!r}: {got}"
        for case in cases
        if not _out_of_scope(case)
        for ok, got in [_check(case)]
        if not ok
    ]
    assert not failures, failures
