"""A tour box beside a feature: the act's concerts, one event each, as a magazine lists them.

A music magazine's article about a band ends, or is flanked, by a box headed with the act and
the year ("Ratboys: LIVE 2023", "Die Ärzte – Tour 2024") that lists the dates, each with its
city and venue ("24. 11. Köln, Yard Club"). The rows name no time and no act: the act is the
box's, the year the heading's (else the page's). The article stays the page's news item; the
concerts are events it announces.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from regiofeed.models.normalise.dates import parse_when
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.spiders.blocks import parse_html
from regiofeed.spiders.event_tables import page_year

# "Ratboys: LIVE 2023", "Ratboys – live", "Die Ärzte: Tour 2024", "Tourdaten"-words after the act.
_HEADING_RE = re.compile(
    r"^(?P<act>[^:–—]{2,60}?)\s*[:–—]\s*(?:live|tour|tournee|tourdaten|konzerte)\b"
    r"[^\d]*(?P<year>20\d\d)?\s*$", re.IGNORECASE)
# "24. 11. Köln, Yard Club", "2.12.2024 Berlin, Columbiahalle".
_ROW_RE = re.compile(
    r"^(?P<day>\d{1,2})\.\s?(?P<month>\d{1,2})\.\s?(?P<year>20\d\d)?\s+"
    r"(?P<city>[^,]{2,40}),\s*(?P<venue>[^,]{2,80})$")


def tour_records(page: Record, html: str) -> list[Record]:
    """The page (news) and one event per row of its tour box, keyed `<page key>#tour-<n>`;
    [] without a box of two or more rows."""
    root = parse_html(html)
    if root is None:
        return []
    fallback = page.date_published.year if page.date_published else page_year(html)
    for heading in root.iter("h2", "h3", "h4", "strong"):
        match = _HEADING_RE.match(_text(heading))
        box = heading.getparent()
        if match is None or box is None:
            continue
        year = int(match["year"]) if match["year"] else fallback
        events = [event for event in map(lambda item: _event(item, year), box.iter("li"))
                  if event is not None]
        if len(events) < 2:
            continue
        act = match["act"].strip()
        return [page, *(page.model_copy(update={
            "kind": "event", "key": f"{page.key}#tour-{n}", "title": act, "event": event,
            "announced_by": page.key}) for n, event in enumerate(events, 1))]
    return []


def _event(item: HtmlElement, year: int) -> EventInfo | None:
    match = _ROW_RE.match(_text(item))
    if match is None:
        return None
    when = parse_when(f"{match['day']}.{match['month']}.{match['year'] or year}")
    if when is None:
        return None
    place = Location(name=match["venue"].strip(), locality=match["city"].strip())
    return EventInfo(start=when.start, end=when.end, all_day=when.all_day, location=place)


def _text(element: HtmlElement) -> str:
    return " ".join(" ".join(element.itertext()).split())
