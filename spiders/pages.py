"""Read a page into Records: a list entry with its detail page, or a bare page without selectors."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from parsel import Selector

from regiofeed.models.normalise.dates import BERLIN, parse_date
from regiofeed.models.normalise.text import clean_text
from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.records import EventInfo, Record
from regiofeed.models.sources import Source
from regiofeed.spiders.event_header import header_event
from regiofeed.spiders.event_tables import page_year
from regiofeed.spiders.extract import (
    ListEntry,
    day_of,
    event_from_text,
    main_content,
    original_of,
    safe_url,
    split_announced,
    year_of,
)
from regiofeed.spiders.jsonld import records_from_structured
from regiofeed.spiders.prose import page_event, time_pair
from regiofeed.spiders.regions import page_date, page_headline
from regiofeed.spiders.selectors import select_text


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
    url = safe_url(detail_url or entry.link, list_url)
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
    if published is None and detail_html is not None and source.item_kind != "event":
        # A list without dates: the detail page's "Artikel vom …", else what htmldate finds.
        match = _DATE_LABEL_RE.search(content_text or "")
        published = (parse_date(match["date"]) if match else None) or page_date(
            detail_html, detail_url or list_url)
    title = clean_text(entry.title)
    default_year = year_of(published) or entry.year
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
        day = day_of(event.start) if event is not None else None
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
    return next((r for r in records_from_structured(html, url, source)
                 if r.kind == "event" and r.event is not None), None)


_TITLE_CSS = ("meta[property='og:title']::attr(content)", "h1", "title")
_DATE_CSS = (
    "meta[property='article:published_time']::attr(content)",
    "meta[itemprop='datePublished']::attr(content)",
    "time[datetime]::attr(datetime)",
)
_MODIFIED_CSS = "meta[property='article:modified_time']::attr(content)"
# Where a page states when it was published or changed: a day and time found in its lead at
# one of these moments is that stamp ("Mo, 11:41 Uhr 06.11.2023"), not an event.
_STAMP_CSS = (
    "meta[property$='published_time']::attr(content)",
    "meta[property$='modified_time']::attr(content)",
    "meta[name='date']::attr(content)",
    "meta[name='dcterms.date']::attr(content)",
    "[itemprop='datePublished']::attr(content)",
    "[itemprop='datePublished']::attr(datetime)",
    "[itemprop='dateModified']::attr(content)",
    "[itemprop='dateModified']::attr(datetime)",
)
# "Veröffentlicht am 7. August 2024", "Stand: 07.08.2024": the publication date in words.
# ("Datum:" is left to the event facts: on event pages it is the event's date.)
_DATE_LABEL_RE = re.compile(
    r"^(?:veröffentlicht(?:\s+am)?|erstellt(?:\s+am)?|stand|(?:artikel|beitrag|meldung)\s+vom)"
    r"\s*:?\s*(?P<date>.{6,40})$",
    re.IGNORECASE | re.MULTILINE,
)


def record_from_html_page(html: str, url: str, source: Source) -> Record | None:
    """Build a Record from a detail page without selectors; None when it has no title.

    Title from og:title, else the first h1, else <title>; the date from
    article:published_time or a time[datetime], else a labelled line ("Veröffentlicht am");
    the main text as `main_content` finds it; an event from labelled facts.
    """
    page = Selector(text=html)
    title = page_headline(html) or next(
        (t for t in (select_text(page, css) for css in _TITLE_CSS) if t), None)
    if not title:
        return None
    content_html, content_text = main_content(html, url)
    published = next((d for d in (parse_date(page.css(css).get() or "") for css in _DATE_CSS)
                      if d is not None), None)
    if published is None and content_text:
        match = _DATE_LABEL_RE.search(content_text)
        published = parse_date(match["date"]) if match else None
    if published is None:
        published = page_date(html, url)
    modified = parse_date(page.css(_MODIFIED_CSS).get() or "")
    image = safe_url(page.css("meta[property='og:image']::attr(content)").get(), url)
    event = event_from_text(content_text, default_year=year_of(published))
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
        year = year_of(record.date_published) or page_year(html)
        text = record.content_text or ""
        event = (time_pair(html, text) or page_event(record.title, text, year)
                 or header_event(html))
        if event is not None and _is_stamp(event.start, html):
            event = None  # the page's publication time, written out in its lead
        if event is not None:
            if record.date_published == event.start:
                # The first <time datetime> was the event's start, not a publication date.
                record = record.model_copy(update={"date_published": None})
            # The title names the day, or the lead states day and time: the page is about
            # the event, so it is that event, not news plus the event it announces.
            record = record.model_copy(update={"event": event, "kind": "event"})
            return split_announced(record, source.model_copy(update={"item_kind": "event"}))
        published = record.date_published
        if source.item_kind == "event" and isinstance(published, date):
            # A page of an event source that states no day but its own: that day is the
            # event's (after the prose had its say: "findet am 6. Juni statt" wins over it).
            record = record.model_copy(update={"date_published": None, "kind": "event",
                "event": EventInfo(start=published, all_day=not isinstance(published, datetime))})
    return split_announced(record, source)


def _is_stamp(start: date | datetime, html: str) -> bool:
    """Whether `start` is the moment the page says it was published or changed."""
    if not isinstance(start, datetime):
        return False
    page = Selector(text=html)
    for css in _STAMP_CSS:
        for value in page.css(css).getall():
            stamp = parse_date(value)
            if isinstance(stamp, datetime) and _minute(stamp) == _minute(start):
                return True
    return False


def _minute(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.astimezone(BERLIN).replace(second=0, microsecond=0)
