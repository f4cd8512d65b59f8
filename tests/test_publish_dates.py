"""Tests for publish.dates: German date formatting of news and events, in Europe/Berlin."""

from datetime import date

import pytest

from regiofeed.publish.dates import event_days, format_date, format_event_when, parse_instant


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"start": "2024-09-05T10:00:00+02:00", "end": "2024-09-05T17:00:00+02:00"},
            "Do., 5. September 2024, 10:00–17:00 Uhr",
        ),
        ({"start": "2024-09-05T10:00:00+02:00"}, "Do., 5. September 2024, 10:00 Uhr"),
        # UTC in, Berlin wall-clock time out.
        (
            {"start": "2024-09-05T08:00:00Z", "end": "2024-09-05T15:00:00Z"},
            "Do., 5. September 2024, 10:00–17:00 Uhr",
        ),
        # Winter time is +01:00.
        ({"start": "2024-12-24T15:00:00+01:00"}, "Di., 24. Dezember 2024, 15:00 Uhr"),
        (
            {"start": "2023-08-25T18:00:00+02:00", "end": "2023-08-26T02:00:00+02:00"},
            "Fr., 25. August 2023, 18:00 Uhr – Sa., 26. August 2023, 02:00 Uhr",
        ),
        # Ending at midnight is still the same evening.
        (
            {"start": "2024-09-06T20:00:00+02:00", "end": "2024-09-07T00:00:00+02:00"},
            "Fr., 6. September 2024, 20:00–00:00 Uhr",
        ),
        ({"start": "2023-08-25", "end": "2023-08-25", "all_day": True}, "Fr., 25. August 2023"),
        ({"start": "2023-08-25", "all_day": True}, "Fr., 25. August 2023"),
        (
            {"start": "2023-08-25", "end": "2023-08-26", "all_day": True},
            "Fr., 25. – Sa., 26. August 2023",
        ),
        (
            {"start": "2023-08-31", "end": "2023-09-01", "all_day": True},
            "Do., 31. August – Fr., 1. September 2023",
        ),
        (
            {"start": "2023-12-31", "end": "2024-01-01", "all_day": True},
            "So., 31. Dezember 2023 – Mo., 1. Januar 2024",
        ),
        # Date-only strings are all-day even when the flag is missing.
        ({"start": "2024-03-01", "end": "2024-03-03"}, "Fr., 1. – So., 3. März 2024"),
    ],
)
def test_event_dates_are_written_the_german_way(event: dict, expected: str) -> None:
    assert format_event_when(event) == expected


def test_news_date_without_weekday() -> None:
    assert format_date(date(2024, 8, 7), weekday=False) == "7. August 2024"


def test_event_days_are_inclusive_and_in_berlin() -> None:
    assert event_days({"start": "2023-08-25", "end": "2023-08-26"}) == (
        date(2023, 8, 25),
        date(2023, 8, 26),
    )
    # 23:30 UTC on the 4th is already the 5th in Berlin.
    assert event_days({"start": "2024-09-04T23:30:00Z"}) == (date(2024, 9, 5), date(2024, 9, 5))


def test_naive_and_date_only_values_are_berlin_time() -> None:
    assert parse_instant("2024-09-05T10:00:00").isoformat() == "2024-09-05T10:00:00+02:00"
    assert parse_instant("2024-01-05").isoformat() == "2024-01-05T00:00:00+01:00"
