"""Feeds of events (TYPO3 tx_news, IKISS, verwaltungsportal calendars as RSS/Atom): item = event.

Such feeds put the event's start where a news feed puts the publication date, the times in the
text ("Beginn/Ende: 19:00 Uhr bis 21:30 Uhr", "Uhrzeit: 19 Uhr") and the state in the title
("ABGESAGT", "fällt aus", "verschoben").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from regiofeed.models.normalise.dates import parse_when
from regiofeed.models.normalise.places import is_online, parse_location
from regiofeed.models.normalise.text import html_to_text
from regiofeed.models.records import EventInfo
from regiofeed.models.sources import Source
from regiofeed.spiders.facts import labelled_place

# Names of feeds, pages and paths that hold events.
_EVENT_NAME_RE = re.compile(
    r"veranstaltung|termin|kalender|\bevents?\b|\bagenda\b|was ist los|programm", re.IGNORECASE)
_EVENT_PATH_RE = re.compile(
    r"/(?:veranstaltungen|veranstaltungskalender|veranstaltung|termine|terminkalender|kalender"
    r"|events?|calendar|agenda)(?:[/._-]|$)", re.IGNORECASE)
# Labels that items of an event feed carry in their text.
_EVENT_LABEL_RE = re.compile(
    r"^\s*(?:beginn(?:/ende)?|uhrzeit|zeit|einlass|veranstaltungsort|ort|wann|wo)\s*:",
    re.IGNORECASE | re.MULTILINE)
# The time of day in an item's text, after its label: "Beginn/Ende: 16:00 Uhr bis 18:00 Uhr".
_TIME_LINE_RE = re.compile(
    r"^\s*(?:beginn\s*/\s*ende|beginn|uhrzeit|zeit)\s*:\s*(?P<time>.*\d.*)$",
    re.IGNORECASE | re.MULTILINE)
_END_LINE_RE = re.compile(r"^\s*ende\s*:\s*(?P<time>.*\d.*)$", re.IGNORECASE | re.MULTILINE)
_CANCELLED_RE = re.compile(
    r"\b(?:abgesagt|fällt\s+aus|entfällt|entfallen|storniert|cancelled|canceled)\b", re.IGNORECASE)
_POSTPONED_RE = re.compile(r"\b(?:verschoben|postponed)\b", re.IGNORECASE)
_ONLINE_TITLE_RE = re.compile(
    r"\bnur\s+online\b|\bonline[- ](?:veranstaltung|seminar|vortrag|sprechstunde)|"
    r"\blive-?stream\b|\bwebinar\b", re.IGNORECASE)


def as_event_feed(source: Source, title: str | None, url: str, entries: Sequence[Any]) -> Source:
    """The source with `item_kind = "event"` when it leaves the kind open and the feed lists
    events (see is_event_feed); else the source as it is."""
    if source.item_kind is None and is_event_feed(title, url, entries):
        return source.model_copy(update={"item_kind": "event"})
    return source


def is_event_feed(title: str | None, url: str, entries: Sequence[Any]) -> bool:
    """Say whether a feed lists events: by its name, its URL, or most of its items' links or
    labels ("Beginn:", "Ort:").

    >>> is_event_feed("Birkenwerder Veranstaltungen", "https://x.example/neuigkeiten.rss", [])
    True
    >>> is_event_feed("Nachrichten", "https://x.example/news.rss", [])
    False
    """
    if title and _EVENT_NAME_RE.search(title):
        return True
    if _EVENT_PATH_RE.search(urlsplit(url).path):
        return True
    if not entries:
        return False
    links = [str(entry.get("link") or "") for entry in entries]
    by_link = sum(1 for link in links if _EVENT_PATH_RE.search(urlsplit(link).path))
    if by_link * 2 > len(entries):
        return True  # the labels could only say so too
    texts = [_entry_text(entry) for entry in entries]
    by_label = sum(1 for text in texts if _EVENT_LABEL_RE.search(text))
    return max(by_link, by_label) * 2 > len(entries)


def _entry_text(entry: Any) -> str:
    content = entry.get("content") or []
    html = (content[0].get("value", "") if content else "") or entry.get("summary", "") or ""
    return feed_text(html) if html else ""


# An item's text is read here and again for its record (spiders/extract.py), mostly from the
# same HTML: html_to_text is a pure function of it, so the second read is the first's.
feed_text = lru_cache(maxsize=1024)(html_to_text)


def title_status(title: str) -> Literal["cancelled", "postponed"] | None:
    """The state an event's title announces: "ABGESAGT", "fällt aus" cancel it, "verschoben"
    postpones it.

    >>> title_status("Sprechstunde Schiedsstelle - ABGESAGT")
    'cancelled'
    """
    if _CANCELLED_RE.search(title):
        return "cancelled"
    if _POSTPONED_RE.search(title):
        return "postponed"
    return None


def feed_item_event(
    title: str, text: str, item_date: datetime | None, found: EventInfo | None
) -> EventInfo | None:
    """Return the event an item of an event feed describes.

    A date stated in the text (`found`) wins; otherwise the item's date is the start, its time
    of day replaced by a time line of the text ("Beginn/Ende: 16:00 Uhr bis 18:00 Uhr"); an
    item date at midnight without a time line is an all-day event. The title's state
    (cancelled, postponed) and "nur online" are added. None without any date.
    """
    event = found
    if event is None and item_date is not None:
        event = _event_on(item_date, text)
    if event is None:
        return None
    update: dict[str, Any] = {}
    place = labelled_place(text) if event.location is None and not event.online else None
    if place:
        location = None if is_online(place) else parse_location(place)
        update["location"] = location if location is not None and not location.is_empty() else None
        update["online"] = is_online(place)
    status = title_status(title)
    if status and event.status is None:
        update["status"] = status
    if _ONLINE_TITLE_RE.search(title) and not update.get("online", event.online):
        update["online"] = True
    return event.model_copy(update=update) if update else event


def _event_on(item_date: datetime, text: str) -> EventInfo:
    day = item_date.date()
    time_match = _TIME_LINE_RE.search(text)
    if time_match:
        time_text = time_match["time"]
        end_match = _END_LINE_RE.search(text)
        if end_match and "bis" not in time_text:
            time_text = f"{time_text} bis {end_match['time']}"
        when = parse_when(f"{day:%d.%m.%Y}", time_text=time_text)
        if when is not None and when.start != day:
            return EventInfo(start=when.start, end=when.end, all_day=when.all_day)
    if (item_date.hour, item_date.minute) == (0, 0):
        return EventInfo(start=day, all_day=True)
    return EventInfo(start=item_date)
