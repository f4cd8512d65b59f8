"""Events stated in running prose: "am Samstag, 31. Januar 2015, zwischen 10 und 17 Uhr im Rathaus".

A page is about an event when its title names a day, or its lead states a day with a time of
day; a page of tips states one event per section (a heading, then the day and the time).
Dates without a year take the page's year; places come from an "Ort:"/"Anfahrt:" line or the
phrase after the time ("im Stuttgarter Rathaus", "Treffpunkt in der Bürgermeisterstraße 4").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from lxml.html import HtmlElement

from regiofeed.models.normalise.dates import BERLIN, MONTH_NAMES, When, parse_date, parse_when
from regiofeed.models.normalise.places import is_online, parse_location
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.spiders.blocks import parse_html
from regiofeed.spiders.event_tables import page_year
from regiofeed.spiders.facts import labelled_place

_MONTH = MONTH_NAMES
_WEEKDAY = (r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|"
            r"mo|di|mi|do|fr|sa|so)\.?")
# "Samstag, 31. Januar 2015", "Dienstag, den 31. Oktober 2023", "31.10.2023", "19. August".
_DATE_RE = re.compile(
    rf"(?:\b{_WEEKDAY},?\s+(?:(?:den|dem)\s+)?)?"
    rf"(?<![\d.])(?:\d{{1,2}}\.\s*{_MONTH}(?:\s+\d{{4}})?|\d{{1,2}}\.\d{{1,2}}\.(?:\d{{4}}|\d{{2}})?)"
    r"(?![\d])", re.IGNORECASE)
# "um 15.30 Uhr", "ab 16 Uhr", "von 16 – 21 Uhr", "zwischen 10:00 und 17:00 Uhr", "ab 17:00".
_TIME_RE = re.compile(
    r"\b(?:um|ab|von|zwischen|gegen|beginn(?:t)?(?:\s+um)?|startet\s+um)\s+"
    r"\d{1,2}(?:[:.]\d{2})?(?:\s*uhr)?"
    r"(?:\s*(?:-|–|—|bis|und)\s*\d{1,2}(?:[:.]\d{2})?)?(?:\s*uhr)?"
    r"|\b\d{1,2}(?:[:.]\d{2})?\s*uhr\b", re.IGNORECASE)
_DEADLINE_RE = re.compile(r"\b(?:bis|vor|seit|spätestens)\s+(?:zum\s+|zur\s+)?$", re.IGNORECASE)
# "Veröffentlicht am 30. Oktober 2024": the page's own date, no event.
_PUBLISHED_RE = re.compile(
    r"\b(?:veröffentlicht|erstellt|erschienen|aktualisiert|stand|geändert)\b[^.\n]{0,12}$",
    re.IGNORECASE)
# The place phrase after the time or date: "im Stuttgarter Rathaus", "Treffpunkt in der
# Bürgermeisterstraße 4", "auf dem Parkplatz von OBI".
_PLACE_RE = re.compile(
    r"(?i:\btreffpunkt(?:\s+(?:in der|in den|im|am|an der|vor dem|vor der|auf dem))?|"
    r"\b(?:im|in der|in den|auf dem|auf der|auf|vor dem|vor der|beim|bei der|bei dem)\b)\s+"
    r"(?P<place>(?:[A-ZÄÖÜ][\w'’.-]*|\d+[a-z]?|von|der|des|am)"
    r"(?:\s+(?:[A-ZÄÖÜ][\w'’.-]*|\d+[a-z]?|von|der|des|am)){0,5})")
_LEAD_CHARS = 500
# Where a sentence begins: after ".", "!" or "?" that follows no digit ("31. Oktober" is none).
_SENTENCE_START_RE = re.compile(r"(?<!\d)[.!?]\s+(?=[A-ZÄÖÜ])")
# Words that mark the place phrase as no place ("im Mittelpunkt", "im Rahmen").
_NO_PLACE = {"rahmen", "mittelpunkt", "vorfeld", "anschluss", "jahr", "jahre", "internet",
             "netz", "anschluß", "schatten", "gespräch", "mittelalter", "fokus", "einladung",
             "initiative", "anfrage", "wunsch", "antrag", "grund", "basis", "kosten"}


@dataclass
class ProseEvent:
    """One event read from prose: its title (a section heading, or None) and facts."""

    title: str | None
    event: EventInfo


def page_event(title: str, text: str, year: int | None) -> EventInfo | None:
    """The event a page is about: a day in its title, or a day with a time in its lead."""
    # The lead: the first two paragraphs but the title (a date line and the opening).
    paragraphs = [part for part in text.split("\n\n") if part.strip() not in ("", title.strip())]
    lead = "\n\n".join(paragraphs[:2])[:_LEAD_CHARS]
    named = re.search(r"(?<!\d)(20\d\d)(?!\d)", title)
    if named:
        year = int(named.group(1))  # "The Captain's Quest 2017 – … am 19. August"
    for source in (title, lead):
        for when, at in _whens(source, year, need_time=source is not title):
            if source is title:
                # The title names the day; the lead may add the time and the place.
                timed = _timed_in(lead, when, year)
                when = timed or when
            return _programme(_event(_timetable(when, text), text,
                                     at if source is lead else None), text)
    announced = _announced(lead, text, year, title)
    if announced is not None:
        when, at = announced
        return _programme(_event(_timetable(when, text), lead, at), text)
    return None


# A programme's lines: "Beginn 13 Uhr am Neptunbrunnen", "Abschluss um 15.30 Uhr vor der
# Schweizer Botschaft", "Warm Up 11:00 Uhr".
_CLOCK = r"(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*uhr"
_BEGIN_LINE_RE = re.compile(
    rf"^\s*(?:beginn|start|auftakt)\b\W*(?:um\s+|ab\s+)?{_CLOCK}\s+"
    r"(?:am|an der|an dem|im|in der|auf dem|auf der|vor dem|vor der)\s+"
    r"(?P<place>[A-ZÄÖÜ][^\n,.;]{2,60})",
    re.IGNORECASE | re.MULTILINE)
_CLOSE_LINE_RE = re.compile(
    rf"^\s*(?:abschluss|ende|schluss|ausklang)\b\W*(?:um\s+|gegen\s+|ca\.\s+)?{_CLOCK}",
    re.IGNORECASE | re.MULTILINE)
# A timetable line: a few words, then the time ("Warm Up 11:00 Uhr", "Contest 12:00 Uhr").
_TIMETABLE_LINE_RE = re.compile(
    r"^[^\W\d][^\n\d]{1,40}?\s(?:ab\s+|um\s+)?(?P<h>\d{1,2})[:.](?P<m>\d{2})\s*uhr\s*$",
    re.IGNORECASE)


def _timetable(when: When, text: str) -> When:
    """A day without a time takes the first time of a timetable in the text: three lines or
    more in a row, each a few words and a time ("Warm Up 11:00 Uhr")."""
    if not when.all_day or when.end is not None:
        return when
    run: list[re.Match[str]] = []
    for line in [*text.splitlines(), ""]:
        match = _TIMETABLE_LINE_RE.match(line.strip())
        if match:
            run.append(match)
            continue
        if len(run) >= 3:
            first = min(run, key=lambda m: (int(m["h"]), int(m["m"])))
            start = datetime.combine(when.start, datetime.min.time(), tzinfo=BERLIN).replace(
                hour=int(first["h"]), minute=int(first["m"]))
            return When(start=start, end=None, all_day=False)
        run = []
    return when


def _programme(event: EventInfo, text: str) -> EventInfo:
    """The end and the place a programme states: "Abschluss um 15.30 Uhr" ends a timed event
    of one day, "Beginn 13 Uhr am Neptunbrunnen" places it."""
    start = event.start
    if not isinstance(start, datetime):
        return event
    update: dict[str, object] = {}
    close = _CLOSE_LINE_RE.search(text)
    if event.end is None and close is not None:
        end = start.replace(hour=int(close["h"]), minute=int(close["m"] or 0))
        if end > start:
            update["end"] = end
    begin = _BEGIN_LINE_RE.search(text)
    if event.location is None and not event.online and begin is not None and (
            int(begin["h"]) == start.hour):
        update["location"] = Location(name=begin["place"].strip())
    return event.model_copy(update=update) if update else event


# A sentence that announces: "Die Show findet am 21. und 22. Mai 2022 im IGA Park statt",
# "Die Ausstellung öffnet am 22. November", "Der Verein lädt am 3. Juli … ein" (present tense:
# a report says "fand … statt").
_ANNOUNCE_RE = re.compile(
    r"\b(?:findet|finden)\b.*\bstatt\b|\b(?:öffnet|eröffnet)\b|\blädt\b.*\bein\b",
    re.IGNORECASE)
# "21. und 22. Mai 2022", "6. bis 8. Juni": the first day of a range written before its month.
_RANGE_HEAD_RE = re.compile(r"(?<![\d.])\d{1,2}\.\s*(?:und|bis|[-–])\s*$", re.IGNORECASE)
# "Bis zum 25. Februar 2024 lockt die Schau": the last day of something already begun.
_UNTIL_RE = re.compile(rf"\bbis\s+(?:zum\s+|einschließlich\s+)?(?P<date>\d{{1,2}}\.\s*{_MONTH}"
                       rf"(?:\s+\d{{4}})?|\d{{1,2}}\.\d{{1,2}}\.\d{{4}})", re.IGNORECASE)


def _announced(lead: str, text: str, year: int | None, title: str) -> tuple[When, int] | None:
    """The day a sentence of the lead announces (without a time there), its times taken from
    where the text states that day with one; an open run ("bis zum 25. Februar") ends it.
    The sentence shares a word with the title: it is what the page is about, not one tip of
    several."""
    topic = _words(title)
    breaks = (m.end() for m in re.finditer(rf"{_SENTENCE_START_RE.pattern}|\n+", lead))
    bounds = [0, *breaks, len(lead)]
    for start, end in pairwise(bounds):
        sentence = lead[start:end]
        if _ANNOUNCE_RE.search(sentence) and topic & _words(sentence):
            for match in _DATE_RE.finditer(sentence):
                before = sentence[max(0, match.start() - 30):match.start()]
                if _PUBLISHED_RE.search(before) or _DEADLINE_RE.search(before[-12:]):
                    continue
                head = _RANGE_HEAD_RE.search(sentence[max(0, match.start() - 16):match.start()])
                written = (head.group(0) if head else "") + match.group(0)
                when = parse_when(written, default_year=year)
                if when is None:
                    continue
                return _with_times(when, text, year), start + match.end()
    return None


def _words(text: str) -> set[str]:
    """The words of `text` that name a subject: four letters or more, no month."""
    return {word for word in re.findall(r"[^\W\d_]{4,}", text.lower())
            if not re.fullmatch(_MONTH, word, re.IGNORECASE)}


def _with_times(when: When, text: str, year: int | None) -> When:
    """Give an all-day `when` the times the text states for its first (and last) day."""
    if not when.all_day:
        return when
    first = _timed_in(text, when, year)
    last = _timed_in(text, When(start=when.end, end=None, all_day=True), year) if (
        when.end is not None) else None
    if first is not None:
        end = (last.end or last.start) if last is not None else (
            first.end if when.end is None else None)
        return When(start=first.start, end=end, all_day=False)
    if when.end is None:
        for until in _UNTIL_RE.finditer(text):
            last_day = parse_date(until["date"]) if re.search(r"\d{4}", until["date"]) else None
            if isinstance(last_day, date) and not isinstance(last_day, datetime) and (
                    0 < (last_day - _day_of(when.start)).days <= 366):
                return When(start=when.start, end=last_day, all_day=True)
    return when


def section_events(html: str, year: int | None) -> list[ProseEvent]:
    """One event per section of a page of tips: a heading, then a day (and a time)."""
    root = parse_html(html)
    if root is None:
        return []
    found = []
    for heading, body in _sections(root):
        for when, at in _whens(body, year, need_time=False):
            if when.all_day:
                when = _time_after(body, when, year) or when
            found.append(ProseEvent(title=heading, event=_event(when, body, at, heading)))
            break
    return found


def _sections(root: HtmlElement) -> Iterator[tuple[str, str]]:
    heading, parts = None, []
    for element in root.iter("h2", "h3", "h4", "p", "li"):
        text = " ".join(" ".join(element.itertext()).split())
        if element.tag in ("h2", "h3", "h4"):
            if heading and parts:
                yield heading, "\n".join(parts)
            heading, parts = text, []
        elif heading and text:
            parts.append(text)
    if heading and parts:
        yield heading, "\n".join(parts)


def _whens(text: str, year: int | None, *, need_time: bool) -> Iterator[tuple[When, int]]:
    """Yield (when, end offset) for each day in `text`, its time taken from the same sentence."""
    for match in _DATE_RE.finditer(text):
        if _DEADLINE_RE.search(text[max(0, match.start() - 12):match.start()]):
            continue  # "bis zum 05.11.2023" ends something, it starts nothing
        if _PUBLISHED_RE.search(text[max(0, match.start() - 30):match.start()]):
            continue
        sentence_end = _sentence_end(text, match.end())
        time = _TIME_RE.search(text, match.end(), sentence_end)
        before = _TIME_RE.search(text, max(0, match.start() - 60), match.start())
        time_text = _clean_time(time.group(0) if time else before.group(0) if before else None)
        if need_time and time_text is None:
            continue
        when = parse_when(f"{match.group(0)}, {time_text}" if time_text else match.group(0),
                          default_year=year)
        if when is None or (need_time and when.all_day):
            continue
        if year is not None and _day_of(when.start).year < year - 1:
            continue  # "am 31. Oktober 1517": history, not a date to go to
        yield when, (time.end() if time else match.end())


def _clean_time(text: str | None) -> str | None:
    """"startet um 10 Uhr", "beginnt um 19 Uhr", "gegen 20 Uhr" → "um …": words the date
    grammar knows."""
    if text is None:
        return None
    return re.sub(r"^(?:beginn(?:t)?(?:\s+um)?|startet\s+um|gegen)\s+", "um ", text,
                  flags=re.IGNORECASE)


def _sentence_end(text: str, start: int) -> int:
    match = re.compile(r"[.!?](?:\s+[A-ZÄÖÜ]|\s*$)|\n").search(text, start)
    return match.start() if match else len(text)


def _timed_in(text: str, when: When, year: int | None) -> When | None:
    for found, _ in _whens(text, year, need_time=True):
        if found.start.__class__ is not when.start.__class__ and _same_day(found, when):
            return found
    return None


def _time_after(text: str, when: When, year: int | None) -> When | None:
    """A time of day later in a section ("Ab 16 Uhr …") for a day stated without one."""
    time = _TIME_RE.search(text)
    if time is None:
        return None
    timed = parse_when(f"{when.start:%d.%m.%Y}, {_clean_time(time.group(0))}", default_year=year)
    return timed if timed is not None and not timed.all_day else None


def _day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _same_day(a: When, b: When) -> bool:
    def day(value: object) -> object:
        return value.date() if hasattr(value, "hour") else value  # type: ignore[attr-defined]
    return day(a.start) == day(b.start)


def _event(when: When, text: str, at: int | None, heading: str | None = None) -> EventInfo:
    place = labelled_place(text) or _labelled_line(text, ("anfahrt", "treffpunkt"))
    if place is None and at is not None:
        # After the time ("um 19 Uhr im Rathaus"), else earlier in its sentence ("Auf dem
        # Parkplatz von OBI am 31. Oktober"), else in the section's heading.
        bounds = [m.end() for m in _SENTENCE_START_RE.finditer(text, 0, at)]
        start = max(bounds[-1] if bounds else 0, text.rfind("\n", 0, at) + 1)
        # The phrase after the time stays in its sentence: "… auf Schloss Moritzburg. Der
        # Film wurde im Januar 1973 …" names no place "Januar 1973".
        after = _SENTENCE_START_RE.search(text, at)
        stop = min(len(text), at + 120, after.start() + 1 if after else len(text))
        spans = [(text, at, stop), (text, start, at)]
        if heading:
            spans.append((heading, 0, len(heading)))
        for where, begin, end in spans:
            match = _PLACE_RE.search(where, begin, end)
            if match and match["place"].split()[0].lower() not in _NO_PLACE:
                place = re.split(r"[.!?]\s", match["place"])[0].rstrip(" .,")
                # "Parkplatz von OBI am 31": the date that follows is no part of the place.
                place = re.sub(r"\s+am\s+\d.*$|\s+(?:am|von|der|des)$", "", place)
                break
    location: Location | None = None
    online = bool(place) and is_online(place or "")
    if place and not online:
        location = parse_location(place)
        if location is not None and location.locality == place and " " in place.strip():
            location = Location(name=place)
        if location is not None and location.is_empty():
            location = None
    return EventInfo(start=when.start, end=when.end, all_day=when.all_day, location=location,
                     online=online)


def _labelled_line(text: str, labels: tuple[str, ...]) -> str | None:
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        label, _, value = line.partition(":")
        if label.strip().lower() in labels:
            value = value.strip()
            if not value:
                following = [item for item in lines[index + 1:index + 4] if item]
                value = ", ".join(following)
            return value or None
    return None


def tips_records(page: Record, html: str) -> list[Record]:
    """A page of tips, one event per section: the page (news) and each event it announces,
    keyed `<page key>#event-<n>`; [] when fewer than two sections state a day, or when most
    of them give no time of day."""
    year = page.date_published.year if page.date_published else page_year(html)
    found = section_events(page.content_html or "", year)
    if isinstance(page.date_published, date):
        # Tips look ahead: a day well before the page's own date is no tip ("Sperrung ab …").
        first = _day_of(page.date_published) - timedelta(days=1)
        found = [item for item in found if _day_of(item.event.start) >= first]
    if len(found) < 2 or sum(1 for item in found if not item.event.all_day) * 2 < len(found):
        return []
    events = [page.model_copy(update={
        "kind": "event", "key": f"{page.key}#event-{n}", "title": item.title or page.title,
        "event": item.event, "announced_by": page.key,
    }) for n, item in enumerate(found, 1)]
    return [page, *events]


def time_pair(html: str, text: str = "") -> EventInfo | None:
    """The event of "von <time datetime=…>…</time> bis <time datetime=…>…</time>": two time
    elements in one block, joined by "bis" or a dash; None without such a pair. `text` is the
    page's main text, where an "Ort:" line may name the place."""
    root = parse_html(html)
    if root is None:
        return None
    for block in root.iter("p", "div", "li", "dd", "td", "span", "section"):
        times = block.xpath("./time[@datetime] | ./*/time[@datetime]")
        if len(times) < 2:
            continue
        between = (times[0].tail or "") + "".join(
            " ".join(node.itertext()) for node in times[0].itersiblings()
            if node is not times[1])
        if not re.search(r"\bbis\b|[-–—]", between[:40]):
            continue
        start = parse_date(times[0].get("datetime") or "")
        end = parse_date(times[1].get("datetime") or "")
        if start is None:
            continue
        when = When(start=start, end=end, all_day=not isinstance(start, datetime))
        if end is not None and type(end) is not type(start):
            when = When(start=start, end=None, all_day=when.all_day)
        # The place: a labelled line of the page's text ("Ort: …"), else the block's phrase.
        block_text = " ".join(" ".join(block.itertext()).split())
        return _event(when, text if labelled_place(text) else block_text, None)
    return None
