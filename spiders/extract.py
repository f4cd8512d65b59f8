"""Turn a parsed feed entry or a list entry plus its detail page into a normalised Record."""

from __future__ import annotations

import calendar
import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import trafilatura

from spiders.dates import parse_date, parse_when, to_berlin
from spiders.facts import extract_event_facts
from spiders.places import is_online, parse_location
from spiders.records import EventInfo, Record
from spiders.sources import Source
from spiders.text import clean_text, html_to_text, sanitize_html
from spiders.urls import canonical_url


def _struct_to_berlin(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time; make them aware Berlin datetimes."""
    if value is None:
        return None
    return to_berlin(datetime.fromtimestamp(calendar.timegm(value), tz=UTC))


def _year_of(value: datetime | date | None) -> int | None:
    return value.year if value is not None else None


def _safe_url(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url, base)
    except ValueError:
        return None


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


def record_from_entry(entry: Any, source: Source, feed_url: str) -> Record | None:
    """Build a Record from one feedparser entry (RSS, Atom or JSON Feed); None if untitled."""
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
    default_year = _year_of(published)
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
    key = url or f"{canonical_url(list_url)}#" + hashlib.sha256(title.encode()).hexdigest()[:16]
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
    )
