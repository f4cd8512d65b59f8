"""Event facts (when, where, online) from the labelled lines German event pages carry."""

from __future__ import annotations

import re

from regiofeed.models.normalise.dates import parse_when
from regiofeed.models.normalise.places import is_online, parse_location
from regiofeed.models.records import EventInfo

_DATE_LABELS = ("veranstaltungsdatum", "datum", "termin", "wann")
_TIME_LABELS = ("uhrzeit", "beginn")
_END_LABELS = ("ende",)
_PLACE_LABELS = ("veranstaltungsort", "ort", "wo", "adresse")
# "Zeit" is either: the date when no date label is there, else the time of day.
_EITHER_LABELS = ("zeit",)
_ALL_LABELS = (*_DATE_LABELS, *_TIME_LABELS, *_END_LABELS, *_PLACE_LABELS, *_EITHER_LABELS)
_LABEL_RE = re.compile(
    rf"^(?P<label>{'|'.join(sorted(_ALL_LABELS, key=len, reverse=True))})\s*[:?]\s*(?P<value>.*)$",
    re.IGNORECASE,
)
# Any short line ending in ":" or "?" is a label of its own ("Ansprechperson:"), not a value.
_ANY_LABEL_RE = re.compile(r"^[\w][\w ./*()-]{0,40}[:?]$")
# An address next to "online" means a hybrid event: keep the place.
_ADDRESS_RE = re.compile(r"\b\d{5}\b|\b\d{1,4}\s?[a-z]?\s*,")
# The online half of a hybrid place: "Rathaus, Markt 1 und online", "online und im Rathaus".
_ONLINE_PART_RE = re.compile(
    r"\s*(?:,|\bund|\boder|\bsowie|/|\+)\s*(?:auch\s+)?(?:online|digital|virtuell)\b.*$"
    r"|^(?:online|digital|virtuell)\s*(?:,|\bund|\boder|\bsowie|/|\+)\s*(?:auch\s+)?(?:im\s+|in\s+der\s+)?",
    re.IGNORECASE,
)


def extract_event_facts(text: str, *, default_year: int | None = None) -> EventInfo | None:
    """Find an event's date, time and place in labelled lines of a page's plain text.

    Labels are case-insensitive and end in ":" or "?", with the value on the same or the
    next line: Datum/Termin/Wann/Veranstaltungsdatum (date), Uhrzeit/Beginn/Ende (time),
    Zeit (either), Ort/Wo/Veranstaltungsort/Adresse (place). Returns None when no labelled
    date can be read: running prose is not searched.

    >>> extract_event_facts("Wann? 15. März 2021, 17:00 bis 19:00 Uhr\\nWo? digital").online
    True
    """
    facts = _labelled_values(text or "")
    date_text = _first(facts, _DATE_LABELS)
    time_text = _first(facts, _TIME_LABELS)
    either = _first(facts, _EITHER_LABELS)
    if date_text is None:
        # "Zeit: 5. September 2024, 10 Uhr" or "Beginn: 14.09.2024, 19 Uhr" carry the date.
        date_text, either = either, None
        if date_text is None:
            date_text, time_text = time_text, None
    if date_text is None:
        return None
    time_text = time_text or either
    end_text = _first(facts, _END_LABELS)
    if time_text and end_text:
        time_text = f"{time_text} bis {end_text}"
    when = parse_when(date_text, default_year=default_year, time_text=time_text)
    if when is None:
        return None
    place = _first(facts, _PLACE_LABELS)
    online = bool(place) and is_online(place or "")
    location = None
    if place and (not online or _ADDRESS_RE.search(place)):
        location = parse_location(_ONLINE_PART_RE.sub("", place) if online else place)
    return EventInfo(
        start=when.start, end=when.end, all_day=when.all_day, online=online, location=location
    )


def labelled_place(text: str) -> str | None:
    """The value of the first place label (Veranstaltungsort, Ort, Wo, Adresse) in `text`.

    >>> labelled_place("Uhrzeit: 19 Uhr\\nOrt: Kirchplatz")
    'Kirchplatz'
    """
    return _first(_labelled_values(text or ""), _PLACE_LABELS)


def _labelled_values(text: str) -> dict[str, str]:
    """Return the first value of each known label, read from the same or the next line."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    values: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _LABEL_RE.match(line)
        if not match:
            continue
        label, value = match["label"].lower(), match["value"].strip()
        if not value and index + 1 < len(lines):
            following = lines[index + 1]
            if not _ANY_LABEL_RE.match(following) and not _LABEL_RE.match(following):
                value = following
        if value:
            values.setdefault(label, value)
    return values


def _first(values: dict[str, str], labels: tuple[str, ...]) -> str | None:
    return next((values[label] for label in labels if label in values), None)
