"""The event an event page states in its header box, beside its h1: the day with its times
("30. März 2020, 13:15 Uhr - 19:00 Uhr") and the place ("Güterhof, Schaffhausen")."""

from __future__ import annotations

import re
from datetime import datetime

from lxml.html import HtmlElement

from regiofeed.models.normalise.dates import parse_when
from regiofeed.models.normalise.places import parse_location
from regiofeed.models.records import EventInfo, Location
from regiofeed.spiders.blocks import parse_html

# The box around the h1 is small: a page's header, not its body.
_MAX_BOX = 600
_MAX_LINE = 80
_PLACE_CLASS_RE = re.compile(r"\b(?:place|location|venue|ort|address|adresse)\b", re.IGNORECASE)


def header_event(html: str) -> EventInfo | None:
    """The event of the header box around the page's first h1: a line of it that is a day
    with a time span (a publication stamp is a moment, never a span), placed by a line whose
    class names a place. None without such a line."""
    root = parse_html(html)
    heading = next(root.iter("h1"), None) if root is not None else None
    if heading is None:
        return None
    box = _box(heading)
    if box is None:
        return None
    for element in box.iter():
        if element is heading or not isinstance(element.tag, str) or len(element):
            continue
        line = " ".join(element.text_content().split())
        when = parse_when(line) if 0 < len(line) <= _MAX_LINE else None
        if when is None or not isinstance(when.start, datetime) or when.end is None:
            continue
        return EventInfo(start=when.start, end=when.end, all_day=False, location=_place(box))
    return None


def _box(heading: HtmlElement) -> HtmlElement | None:
    """The largest ancestor of the h1, up to three levels, whose text stays short."""
    box = None
    for level, ancestor in enumerate(heading.iterancestors()):
        if level >= 3 or len(" ".join(ancestor.text_content().split())) > _MAX_BOX:
            break
        box = ancestor
    return box


def _place(box: HtmlElement) -> Location | None:
    for element in box.iter():
        if isinstance(element.tag, str) and _PLACE_CLASS_RE.search(element.get("class") or ""):
            text = " ".join(element.text_content().split())
            location = parse_location(text) if text else None
            if location is not None and not location.is_empty():
                if location.locality == text:
                    return Location(name=text)
                return location
    return None
