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

from spiders.dates import parse_date, parse_when, to_berlin
from spiders.event_feed import feed_item_event, title_status

# The hybrid-place patterns of the labelled facts, shared so that all kinds read places alike.
from spiders.facts import _ADDRESS_RE, _ONLINE_PART_RE, extract_event_facts
from spiders.places import is_online, parse_location
from spiders.records import EventInfo, Location, Record
from spiders.sources import Source
from spiders.text import clean_text, html_to_text, sanitize_html
from spiders.urls import canonical_url


def _struct_to_berlin(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time; make them aware Berlin datetimes."""
    if value is None:
        return None
    return to_berlin(datetime.fromtimestamp(calendar.timegm(value), tz=UTC))


def _day_of(value: datetime | date | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _year_of(value: datetime | date | None) -> int | None:
    return value.year if value is not None else None


def _safe_url(url: str | None, base: str | None) -> str | None:
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
    link = _safe_url(entry.get("link"), feed_url)
    html = ""
    if entry.get("content"):
        html = entry["content"][0].get("value", "")
    summary_html = entry.get("summary", "")
    html = html or summary_html
    content_html = sanitize_html(html, link or feed_url) if html else None
    content_text = html_to_text(html) if html else None
    summary = html_to_text(summary_html) if summary_html and summary_html != html else None
    title = clean_text(html_to_text(entry.get("title", "")) or "")
    if not title:
        if not content_text:
            return None
        title = content_text.split("\n", 1)[0][:120]
    published = _struct_to_berlin(entry.get("published_parsed")) or _struct_to_berlin(
        entry.get("updated_parsed")
    )
    modified = _struct_to_berlin(entry.get("updated_parsed"))
    key = entry.get("id") or entry.get("guid") or link
    if not key:
        key = "sha256:" + hashlib.sha256(f"{title}\n{published}".encode()).hexdigest()
    tags = sorted({clean_text(t.get("term", "")) for t in entry.get("tags", []) if t.get("term")})
    event = event_from_text(content_text or "", default_year=_year_of(published))
    if source.item_kind == "event":
        # An event feed: the item's date is the event's start, not a publication date.
        found = event
        event = feed_item_event(title, content_text or "", published, found)
        if event is not None and (found is None or _day_of(found.start) == _day_of(published)):
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
        kind="event" if event is not None else "news",
        event=event,
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


def original_of(html: str, url: str) -> str | None:
    """The original a page says it copies: a rel=canonical link to another site, else None.

    >>> original_of('<link rel="canonical" href="https://kreis.example/a">', "https://dorf.example/b")
    'https://kreis.example/a'
    >>> original_of('<link rel="canonical" href="/b">', "https://dorf.example/b") is None
    True
    """
    from parsel import Selector

    href = Selector(text=html).css("link[rel~=canonical]::attr(href)").get()
    canonical = _safe_url(href, url)
    if not canonical or urlsplit(canonical).netloc == urlsplit(url).netloc:
        return None
    return canonical


def record_from_page(
    source: Source,
    entry: ListEntry,
    list_url: str,
    *,
    detail_html: str | None = None,
    detail_url: str | None = None,
    detail: dict[str, str | None] | None = None,
) -> Record:
    """Build a Record from a list entry and, when it was read, its detail page."""
    detail = detail or {}
    url = _safe_url(detail_url or entry.link, list_url)
    content_html, content_text = "", ""
    if detail_html is not None:
        content_html, content_text = main_content(detail_html, detail_url or list_url,
                                                  detail.get("content"))
    summary = clean_text(entry.summary or "") or None
    if not content_text and summary:
        content_text = summary
    published = parse_date(entry.date_text or detail.get("date") or "")
    if published is None and detail.get("meta_date"):
        published = parse_date(detail["meta_date"] or "")
    title = clean_text(entry.title)
    default_year = _year_of(published) or entry.year
    event = event_from_text(
        content_text,
        default_year=default_year,
        when=detail.get("when") or entry.when,
        place=detail.get("location") or entry.location,
    )
    if event is None and source.item_kind == "event" and isinstance(published, date):
        # An event calendar whose only date is the one shown in the list.
        event = EventInfo(start=published, all_day=not isinstance(published, datetime))
        published = None
    if url is None:
        # A row without a link: the list page plus a fragment of its title and its day, so
        # that two rows of one title on other days stay two.
        day = _day_of(event.start) if event is not None else None
        name = f"{title}\n{day.isoformat() if day else entry.when or entry.date_text or ''}"
        url = f"{canonical_url(list_url)}#" + hashlib.sha256(name.encode()).hexdigest()[:16]
    key = url
    return Record(
        source_id=source.id,
        key=key,
        url=url,
        title=title,
        content_text=content_text or None,
        content_html=content_html or None,
        summary=summary if summary and summary != content_text else None,
        date_published=published,
        kind="event" if event is not None else "news",
        event=event,
        original_url=original_of(detail_html, detail_url or list_url) if detail_html else None,
    )


def records_from_page(
    source: Source,
    entry: ListEntry,
    list_url: str,
    *,
    detail_html: str | None = None,
    detail_url: str | None = None,
    detail: dict[str, str | None] | None = None,
) -> list[Record]:
    """Build the records of a list entry and its detail page (see split_announced).

    A schema.org Event embedded in the detail page wins over labelled facts in its text:
    it names the event and states its time and place in machine-readable form.
    """
    record = record_from_page(source, entry, list_url, detail_html=detail_html,
                              detail_url=detail_url, detail=detail)
    name = None
    if detail_html is not None:
        embedded = _embedded_event(detail_html, detail_url or list_url, source)
        if embedded is not None:
            name = embedded.title
            record = record.model_copy(update={"event": embedded.event, "kind": "event"})
    if entry.link is None and record.event is not None:
        # A row without a link is the event itself, not news announcing it.
        return split_announced(record, source.model_copy(update={"item_kind": "event"}))
    return split_announced(record, source, event_name=name)


def _embedded_event(html: str, url: str, source: Source) -> Record | None:
    # Imported here: spiders.jsonld builds on this module's helpers.
    from spiders.jsonld import records_from_structured

    return next((r for r in records_from_structured(html, url, source)
                 if r.kind == "event" and r.event is not None), None)


_TITLE_CSS = ("meta[property='og:title']::attr(content)", "h1", "title")
_DATE_CSS = (
    "meta[property='article:published_time']::attr(content)",
    "meta[itemprop='datePublished']::attr(content)",
    "time[datetime]::attr(datetime)",
)
_MODIFIED_CSS = "meta[property='article:modified_time']::attr(content)"
# "Veröffentlicht am 7. August 2024", "Stand: 07.08.2024": the publication date in words.
# ("Datum:" is left to the event facts: on event pages it is the event's date.)
_DATE_LABEL_RE = re.compile(
    r"^(?:veröffentlicht(?:\s+am)?|erstellt(?:\s+am)?|stand)\s*:?\s*(?P<date>.{6,40})$",
    re.IGNORECASE | re.MULTILINE,
)


def record_from_html_page(html: str, url: str, source: Source) -> Record | None:
    """Build a Record from a detail page without selectors; None when it has no title.

    Title from og:title, else the first h1, else <title>; the date from
    article:published_time or a time[datetime], else a labelled line ("Veröffentlicht am");
    the main text as `main_content` finds it; an event from labelled facts.
    """
    from parsel import Selector

    from spiders.html import select_text

    page = Selector(text=html)
    title = next((t for t in (select_text(page, css) for css in _TITLE_CSS) if t), None)
    if not title:
        return None
    content_html, content_text = main_content(html, url)
    published = next((d for d in (parse_date(page.css(css).get() or "") for css in _DATE_CSS)
                      if d is not None), None)
    if published is None and content_text:
        match = _DATE_LABEL_RE.search(content_text)
        published = parse_date(match["date"]) if match else None
    modified = parse_date(page.css(_MODIFIED_CSS).get() or "")
    image = _safe_url(page.css("meta[property='og:image']::attr(content)").get(), url)
    event = event_from_text(content_text, default_year=_year_of(published))
    if event is None and source.item_kind == "event" and isinstance(published, date):
        event = EventInfo(start=published, all_day=not isinstance(published, datetime))
        published = None
    key = canonical_url(url)
    return Record(
        source_id=source.id,
        key=key,
        url=key,
        title=clean_text(title),
        content_text=content_text or None,
        content_html=content_html or None,
        date_published=published,
        date_modified=modified if isinstance(modified, datetime) and modified != published
        else None,
        image=image,
        kind="event" if event is not None else "news",
        event=event,
        original_url=original_of(html, url),
    )


def records_from_html_page(html: str, url: str, source: Source) -> list[Record]:
    """Build the records of a detail page read without selectors (see split_announced)."""
    record = record_from_html_page(html, url, source)
    if record is None:
        return []
    if record.event is None:
        from spiders.event_tables import page_year
        from spiders.prose import page_event, time_pair

        year = _year_of(record.date_published) or page_year(html)
        text = record.content_text or ""
        event = time_pair(html, text) or page_event(record.title, text, year)
        if event is not None:
            if record.date_published == event.start:
                # The first <time datetime> was the event's start, not a publication date.
                record = record.model_copy(update={"date_published": None})
            # The title names the day, or the lead states day and time: the page is about
            # the event, so it is that event, not news plus the event it announces.
            record = record.model_copy(update={"event": event, "kind": "event"})
            return split_announced(record, source.model_copy(update={"item_kind": "event"}))
    return split_announced(record, source)
