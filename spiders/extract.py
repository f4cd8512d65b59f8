"""Turn a parsed feed entry, a list entry plus its detail page, or a bare page into Records."""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from parsel import Selector

from regiofeed.models.normalise.dates import parse_when, to_berlin
from regiofeed.models.normalise.places import is_online, parse_location
from regiofeed.models.normalise.text import clean_text, html_to_text, sanitize_html
from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.models.sources import Source
from regiofeed.spiders.boilerplate import strip_html, strip_text
from regiofeed.spiders.event_feed import feed_item_event, feed_text, title_status

# The hybrid-place patterns of the labelled facts, shared so that all kinds read places alike.
from regiofeed.spiders.facts import _ADDRESS_RE, _ONLINE_PART_RE, extract_event_facts

# The hybrid-place patterns of the labelled facts, shared so that all kinds read places alike.
from regiofeed.spiders.images import entry_image
from regiofeed.spiders.titles import date_note, split_title_date


def _struct_to_berlin(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time; make them aware Berlin datetimes."""
    if value is None:
        return None
    return to_berlin(datetime.fromtimestamp(calendar.timegm(value), tz=UTC))


def day_of(value: datetime | date | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def year_of(value: datetime | date | None) -> int | None:
    return value.year if value is not None else None


def safe_url(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url, base)
    except ValueError:
        return None


_LINK_RE = re.compile(r"https?://[^\s<>\"']+")


def place_and_online(text: str | None) -> tuple[Location | None, bool, str | None]:
    """Read a place text: (location, online, join link) — a URL or online words mean online.

    "Online" alone is no place; "Rathaus, Markt 1, 12345 Musterstadt und online" is both
    (a hybrid event), and its place loses the online part.

    >>> place_and_online("https://meet.example.org/rat")
    (None, True, 'https://meet.example.org/rat')
    """
    if not text or not text.strip():
        return None, False, None
    link = _LINK_RE.search(text)
    rest = clean_text(_LINK_RE.sub(" ", text)).strip(" ,;:") if link else text
    online = bool(link) or is_online(text)
    location = None
    if rest and online and _ADDRESS_RE.search(rest):
        rest = _ONLINE_PART_RE.sub("", rest)
    if rest and not (online and not _ADDRESS_RE.search(rest)):
        location = parse_location(rest)
    if location is not None and location.is_empty():
        location = None
    return location, online, link.group(0) if link else None


def event_from_text(
    text: str, *, default_year: int | None, when: str | None = None, place: str | None = None
) -> EventInfo | None:
    """Find an event's time and place: `when`/`place` texts first, then labels in `text`."""
    event = None
    if when:
        parsed = parse_when(when, default_year=default_year)
        if parsed is not None:
            event = EventInfo(start=parsed.start, end=parsed.end, all_day=parsed.all_day)
    if event is None and text:
        event = extract_event_facts(text, default_year=default_year)
    if event is not None and place:
        location = parse_location(place)
        online = is_online(place)
        event = event.model_copy(
            update={
                "location": None if online or location is None or location.is_empty() else location,
                "online": online or event.online,
            }
        )
    return event


# An event announced by a news record is keyed by the news record's key plus this.
EVENT_KEY_SUFFIX = "#event"


def split_announced(
    record: Record, source: Source, *, event_name: str | None = None
) -> list[Record]:
    """Split a record that carries an event into the news and the event it announces.

    A source whose `item_kind` is "event" lists events: its record stays one event. Any other
    record with an event is a news page announcing it: it yields the news (no `event`) and
    the event as its own record, keyed `<news key>#event`, `announced_by` the news key,
    titled `event_name` when the page names the event, sharing the news content.
    """
    if record.event is None:
        return [record.model_copy(update={"kind": "news"})]
    status = title_status(record.title) if record.event.status is None else None
    if status is not None:
        # "Skatabend – fällt aus", "Konzert ABGESAGT": the title states the event's state.
        record = record.model_copy(
            update={"event": record.event.model_copy(update={"status": status})})
    if source.item_kind == "event":
        return [record.model_copy(update={"kind": "event"})]
    news = record.model_copy(update={"kind": "news", "event": None})
    event = record.model_copy(update={
        "kind": "event",
        "key": record.key + EVENT_KEY_SUFFIX,
        "announced_by": record.key,
        "title": event_name or record.title,
    })
    return [news, event]


def records_from_entry(entry: Any, source: Source, feed_url: str) -> list[Record]:
    """Build the records of one feed entry: the news, and the event it announces if any."""
    record = record_from_entry(entry, source, feed_url)
    return split_announced(record, source) if record is not None else []


def record_from_entry(entry: Any, source: Source, feed_url: str) -> Record | None:
    """Build a Record from one feedparser entry (RSS, Atom or JSON Feed); None if untitled.

    An event found in the text makes it an event record; `records_from_entry` splits that
    into news and event.
    """
    link = safe_url(entry.get("link"), feed_url)
    html = ""
    if entry.get("content"):
        html = entry["content"][0].get("value", "")
    summary_html = entry.get("summary", "")
    html = html or summary_html
    # The content is sanitised and read once, after the boilerplate is out (each pass parses
    # the HTML twice); without HTML there is no summary apart from the content either.
    content_html: str | None = None
    content_text: str | None = None
    summary = html_to_text(summary_html) if summary_html and summary_html != html else None
    title = clean_text(html_to_text(entry.get("title", "")) or "")
    title, stamped = split_title_date(title)
    image = entry_image(entry, html, link or feed_url)
    if html:
        html = strip_html(html)
        content_html = sanitize_html(html, link or feed_url) if html else None
        content_text = strip_text(feed_text(html), title) if html else None
        summary = strip_text(summary, title) if summary else None
    if not title:
        if not content_text:
            return None
        title = content_text.split("\n", 1)[0][:120]
    published = _struct_to_berlin(entry.get("published_parsed")) or _struct_to_berlin(
        entry.get("updated_parsed")
    )
    notes: list[str] = []
    if stamped is not None and published is None:
        published = stamped
    elif stamped is not None and published is not None:
        note = date_note(stamped, published)
        if note:
            notes.append(note)
    modified = _struct_to_berlin(entry.get("updated_parsed"))
    key = entry.get("id") or entry.get("guid") or link
    if not key:
        key = "sha256:" + hashlib.sha256(f"{title}\n{published}".encode()).hexdigest()
    tags = sorted({clean_text(t.get("term", "")) for t in entry.get("tags", []) if t.get("term")})
    event = event_from_text(content_text or "", default_year=year_of(published))
    if source.item_kind == "event":
        # An event feed: the item's date is the event's start, not a publication date.
        found = event
        event = feed_item_event(title, content_text or "", published, found)
        if event is not None and (found is None or day_of(found.start) == day_of(published)):
            published = None
    return Record(
        source_id=source.id,
        key=str(key),
        url=link,
        title=title,
        content_text=content_text or None,
        content_html=content_html or None,
        summary=summary or None,
        date_published=published,
        date_modified=modified if modified and modified != published else None,
        tags=[t for t in tags if t],
        author=clean_text(entry.get("author", "")) or None,
        image=image[0] if image else None,
        image_alt=image[1] if image else None,
        kind="event" if event is not None else "news",
        event=event,
        notes=notes or None,
    )


@dataclass
class ListEntry:
    """What one element of a list page says about an item, before its detail page is read."""

    title: str
    link: str | None
    date_text: str | None = None
    summary: str | None = None
    location: str | None = None
    when: str | None = None
    # The year a date without one takes: the nearest heading or caption, the page's dates.
    year: int | None = None


def main_content(html: str, url: str, selector_html: str | None = None) -> tuple[str, str]:
    """Return (sanitised HTML, plain text) of a detail page's main content.

    A `content` selector wins; otherwise trafilatura finds the main text and drops
    navigation, headers and footers.
    """
    body = selector_html
    if not body:
        body = trafilatura.extract(
            html,
            url=url,
            output_format="html",
            include_links=True,
            include_images=False,
            include_tables=True,
            favor_recall=True,
            deduplicate=False,
        )
    if not body:
        return "", ""
    return sanitize_html(body, url), html_to_text(body)


_LINK_TAG_RE = re.compile(r"<link", re.IGNORECASE)


def original_of(html: str, url: str) -> str | None:
    """The original a page says it copies: a rel=canonical link to another site, else None.

    >>> original_of('<link rel="canonical" href="https://kreis.example/a">', "https://dorf.example/b")
    'https://kreis.example/a'
    >>> original_of('<link rel="canonical" href="/b">', "https://dorf.example/b") is None
    True
    """
    if not _LINK_TAG_RE.search(html) and html.lstrip()[:1] not in ("{", "["):
        # No <link> element in it (tag names are literal), and no JSON document that the
        # selector would refuse: no canonical link, without parsing the page again.
        return None
    href = Selector(text=html).css("link[rel~=canonical]::attr(href)").get()
    canonical = safe_url(href, url)
    if not canonical or urlsplit(canonical).netloc == urlsplit(url).netloc:
        return None
    return canonical
