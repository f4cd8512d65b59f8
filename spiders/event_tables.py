"""Events listed on one page without detail pages: table rows, list items, labelled groups.

A village's "Termine" page is often one table or list ("Fr., 8.11., 19 Uhr | Laternenumzug |
Kirchplatz") or a run of labelled groups ("Termin: … / Ort: … / Thema: …"). Each row is an
event of its own, its URL the page plus a fragment made of its day and title, so two rows with
the same title on other days stay two. A date without a year takes it from the nearest heading
or caption above that names one, else from the page's own dates, else from the page's
publication date; today's date is the last resort.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from lxml.html import HtmlElement

from regiofeed.models.normalise.dates import BERLIN, MONTH_NAMES, When, parse_when
from regiofeed.models.normalise.places import is_online, parse_location
from regiofeed.models.normalise.text import clean_text
from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.models.sources import Source
from regiofeed.spiders.blocks import parse_html
from regiofeed.spiders.event_feed import title_status
from regiofeed.spiders.facts import extract_event_facts

_YEAR_RE = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_FULL_DATE_RE = re.compile(
    rf"(?<![\d.])\d{{1,2}}\.\s?(?:\d{{1,2}}\.|{MONTH_NAMES}\s)\s?(20\d\d)(?!\d)", re.IGNORECASE)
_TIME_ONLY_RE = re.compile(
    r"^\s*(?:ab|um|von|gegen|beginn:?)?\s*\d{1,2}(?:[:.]\d{2})?\s*(?:uhr)?"
    r"(?:\s*(?:-|–|—|bis)\s*\d{1,2}(?:[:.]\d{2})?\s*(?:uhr)?)?\s*$", re.IGNORECASE)
_HAS_TIME_RE = re.compile(r"\d{1,2}(?:[:.]\d{2})?\s*uhr\b|\b\d{1,2}:\d{2}\b", re.IGNORECASE)
# Separators between the parts of a list item: "8.11., 19 Uhr | Laternenumzug – Kirchplatz".
_PART_SPLIT_RE = re.compile(r"\s+[|–—]\s+|\s+-\s+|\s*\|\s*|\t")
# Column headings: what a table's column holds.
_COLUMN_WORDS = {
    "when": ("datum", "wann", "termin", "tag"),
    "time": ("uhrzeit", "zeit", "beginn"),
    "title": ("veranstaltung", "was", "titel", "thema", "programm", "anlass"),
    "place": ("ort", "wo", "veranstaltungsort", "treffpunkt"),
}
# Labelled groups: a date label opens a group, a title label names it.
_GROUP_START_RE = re.compile(r"^(?:termin|datum|wann|veranstaltungsdatum)\s*[:?]", re.IGNORECASE)
_TITLE_LABEL_RE = re.compile(r"^(?:thema|was|veranstaltung|titel)\s*[:?]\s*(?P<v>.+)$",
                             re.IGNORECASE)
_ANY_LABEL_RE = re.compile(r"^[\w][\w &./*()-]{0,30}\s*[:?]")
_SKIP_TAGS = ("nav", "header", "footer", "aside", "script", "style", "form", "select")
# Nothing in an events table has a title this long; a row that does is prose.
_MAX_TITLE = 200


@dataclass
class Row:
    """One event as a row states it: its time, title and place texts."""

    when: When
    title: str
    place: str | None = None
    # What labelled lines said in full (place split, online), where a group gave it.
    info: EventInfo | None = None


def events_from_rows(
    html: str, url: str, source: Source, *, published: date | datetime | None = None,
    text: str | None = None, today: date | None = None, need_times: bool = True,
) -> list[Record]:
    """Return one event record per row of the page's tables and lists, or per labelled group
    of `text` (the page's main text), whichever states more events; [] under two.

    With `need_times` (a page not known to list events) rows count only when most of them
    give a time of day: tables of results, prices or opening days are not calendars.
    """
    root = parse_html(html)
    if root is None:
        return []
    fallback = _page_year(root, published, today)
    rows = (_table_rows(root, fallback) + _list_rows(root, fallback)
            + _line_rows(root, fallback) + _break_rows(root, fallback))
    # The whole page's text, not a main-text extractor's: those drop repeated lines (a second
    # "Ort: Marktplatz") and with them the facts of a row.
    groups = _labelled_groups(_page_text(root) or text or "", fallback)
    found = max((rows, groups), key=len)
    if len(found) < 2:
        return []
    if need_times and found is rows:
        timed = sum(1 for row in rows if isinstance(row.when.start, datetime))
        if timed * 2 <= len(rows):
            return []
    return _records(found, url, source)


def _records(rows: list[Row], url: str, source: Source) -> list[Record]:
    page = canonical_url(url).split("#", 1)[0]
    records: dict[str, Record] = {}
    for row in rows:
        start = row.when.start
        day = start.date() if isinstance(start, datetime) else start
        # The fragment names the row by its day and title: stable while the row stands.
        digest = hashlib.sha256(f"{day.isoformat()}\n{row.title}".encode()).hexdigest()[:12]
        key = f"{page}#termin-{day.isoformat()}-{digest}"
        earlier = records[key].event if key in records else None
        if earlier is not None and earlier.start != start:
            # The same title twice on one day ("09:45 – 11:30 Uhr und 14:00 – 15:45 Uhr"):
            # the later session's fragment adds its time; the first keeps the plain one.
            key = f"{key}-{start:%H%M}" if isinstance(start, datetime) else key
        if row.info is not None:
            event = row.info
        else:
            location, online = None, False
            if row.place:
                online = is_online(row.place)
                parsed = None if online else parse_location(row.place)
                location = parsed if parsed is not None and not parsed.is_empty() else None
                if location is not None and location.locality == row.place.strip():
                    # One short name in a place column is the venue ("Festwiese"), not a town.
                    location = Location(name=location.locality)
            event = EventInfo(start=start, end=row.when.end, all_day=row.when.all_day,
                              location=location, online=online)
        event = event.model_copy(update={"status": event.status or title_status(row.title)})
        records.setdefault(key, Record(source_id=source.id, key=key, url=key, title=row.title,
                                       kind="event", event=event))
    return list(records.values())


def page_year(html: str, today: date | None = None) -> int:
    """The year of a page's own full dates (the commonest), else today's."""
    root = parse_html(html)
    return _page_year(root, None, today) if root is not None else (
        today or datetime.now(BERLIN).date()).year


def year_of(element: HtmlElement, fallback: int) -> int:
    """The year a yearless date in `element` takes: the nearest heading or caption above
    that names one, else `fallback` (page_year)."""
    return _heading_year(element, fallback)


def _page_year(root: HtmlElement, published: date | datetime | None,
               today: date | None) -> int:
    """The year of the page's own full dates (the commonest), else of its publication, else
    the first year its text names ("Die Eissaison 2024 / 2025 beginnt …"), else today's."""
    text = _text(root)
    years = Counter(int(m.group(1)) for m in _FULL_DATE_RE.finditer(text))
    if years:
        return years.most_common(1)[0][0]
    if published is not None:
        return published.year
    named = _YEAR_RE.search(_page_text(copy.deepcopy(root)))
    if named:
        return int(named.group(1))
    return (today or datetime.now(BERLIN).date()).year


def _page_text(root: HtmlElement) -> str:
    """The page's text, one line per block, without navigation, header, footer and forms.

    Repeated lines stay (spiders.text.clean_text would drop a second "Ort: Marktplatz"): in a
    list of events they belong to other rows. The tree is changed in the process.
    """
    body = root.find("body") if root.find("body") is not None else root
    for element in list(body.iter(*_SKIP_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "br" or element.tag in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
        if element.tag in _BLOCK_TAGS:
            element.text = "\n" + (element.text or "")
    return "\n".join(" ".join(line.split()) for line in body.text_content().split("\n"))


_BLOCK_TAGS = {"p", "div", "li", "tr", "td", "th", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
               "h6", "section", "article", "table", "ul", "ol", "dl", "blockquote"}


def _text(element: HtmlElement) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _skipped(element: HtmlElement) -> bool:
    return any(ancestor.tag in _SKIP_TAGS for ancestor in element.iterancestors())


def _heading_year(element: HtmlElement, fallback: int) -> int:
    """The year named by the nearest heading or caption before `element`, else `fallback`."""
    for heading in _headings_before(element):
        match = _YEAR_RE.search(_text(heading))
        if match:
            return int(match.group(1))
    return fallback


def _headings_before(element: HtmlElement) -> Iterator[HtmlElement]:
    """The headings (h1–h6) and table captions before `element`, the nearest first."""
    for ancestor in (element, *element.iterancestors()):
        caption = ancestor.find("caption") if ancestor.tag == "table" else None
        if caption is not None:
            yield caption
        for previous in ancestor.itersiblings(preceding=True):
            if not isinstance(previous.tag, str):
                continue
            headings = [previous] if re.fullmatch(r"h[1-6]", previous.tag) else list(
                previous.iter("h1", "h2", "h3", "h4", "h5", "h6"))
            yield from reversed(headings)


def _when(parts: list[str], year: int) -> tuple[When | None, list[str]]:
    """Read the date (and the time beside it) from a row's parts; the other parts back."""
    when, rest, times = None, [], []
    for part in parts:
        if when is None and not _TIME_ONLY_RE.match(part):
            parsed = parse_when(part, default_year=year)
            if parsed is not None and len(part) <= 60:
                when = parsed
                continue
        if _TIME_ONLY_RE.match(part) and part.strip():
            times.append(part)
            continue
        rest.append(part)
    if when is not None and times and not isinstance(when.start, datetime):
        day = when.start
        timed = parse_when(f"{day:%d.%m.%Y}", time_text=" ".join(times))
        if timed is not None:
            when = timed
    return when, rest


def _row(parts: list[str], year: int, columns: dict[int, str] | None = None) -> Row | None:
    parts = [clean_text(part) for part in parts]
    if columns:
        named = {columns[i]: part for i, part in enumerate(parts) if i in columns and part}
        when_parts = [named[k] for k in ("when", "time") if k in named]
        when, _ = _when(when_parts, year)
        title, place = named.get("title"), named.get("place")
        if when is None or not title:
            return None
        return Row(when=when, title=title[:_MAX_TITLE], place=place)
    when, rest = _when([part for part in parts if part], year)
    rest = [part for part in rest if not _HAS_ONLY_PUNCTUATION.match(part)]
    if when is None or not rest or len(rest[0]) > _MAX_TITLE:
        return None
    return Row(when=when, title=rest[0], place=rest[1] if len(rest) > 1 else None)


_HAS_ONLY_PUNCTUATION = re.compile(r"^[\W_]*$")


def _columns(table: HtmlElement) -> dict[int, str] | None:
    head = table.xpath(".//tr[th]")
    if not head:
        return None
    columns: dict[int, str] = {}
    for index, cell in enumerate(head[0].xpath("./th|./td")):
        label = _text(cell).lower().rstrip(":")
        for role, words in _COLUMN_WORDS.items():
            if label in words or any(label.startswith(word) for word in words):
                columns.setdefault(index, role)
                break
    return columns if {"when", "title"} <= set(columns.values()) else None


def _table_rows(root: HtmlElement, fallback: int) -> list[Row]:
    rows: list[Row] = []
    for table in root.iter("table"):
        if _skipped(table):
            continue
        year = _heading_year(table, fallback)
        columns = _columns(table)
        for tr in table.iter("tr"):
            cells = tr.xpath("./td")
            if len(cells) < 2:
                continue
            row = _row([_text(cell) for cell in cells], year, columns)
            if row is not None:
                rows.append(row)
    return rows


def _list_rows(root: HtmlElement, fallback: int) -> list[Row]:
    rows: list[Row] = []
    for item in root.iter("li"):
        if _skipped(item) or item.find(".//li") is not None:
            continue
        text = _text(item)
        if not text or len(text) > 300:
            continue
        # "Fr., 8.11., 19 Uhr: Laternenumzug, Kirchplatz" — a colon after the time ends the date.
        text = re.sub(r"(\d\s*uhr|\d\.)\s*:\s+", r"\1 | ", text, count=1, flags=re.IGNORECASE)
        row = _row(_PART_SPLIT_RE.split(text), _heading_year(item, fallback))
        if row is not None:
            rows.append(row)
    return rows


# A paragraph that is one dated session: "Dienstag, 26. September 13:45 – 15:30 Uhr",
# "Sonntag, 01.Oktober 09:45 – 11:30 Uhr und 14:00 – 15:45 Uhr", "Samstag, 30, September
# 19:45 – 21:30 Uhr ICE-DISCO": a day, one or more times, and at most a few words after them.
_WEEKDAY_WORD = (r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|"
                 r"mo|di|mi|do|fr|sa|so)\.?")
_LINE_DAY_RE = re.compile(
    rf"^(?:{_WEEKDAY_WORD},?\s+(?:den\s+)?)?(?P<day>\d{{1,2}})[.,]\s*"
    rf"(?P<month>{MONTH_NAMES}|\d{{1,2}}\.)(?:\s*(?P<year>20\d\d))?\s*,?\s*(?=\d)",
    re.IGNORECASE)
_LINE_TIME_RE = re.compile(
    r"(?:ab\s+|um\s+)?\d{1,2}[:.]\d{2}(?:\s*uhr)?(?:\s*(?:-|–|—|bis)\s*\d{1,2}[:.]\d{2})?"
    r"(?:\s*uhr)?", re.IGNORECASE)
_LINE_JOIN_RE = re.compile(r"^\s*(?:und|,|/|&)?\s*$", re.IGNORECASE)
_MAX_LINE = 120


def _line_rows(root: HtmlElement, fallback: int) -> list[Row]:
    """Rows from paragraphs that are each one dated session, titled by the words after the
    time, else by the nearest heading above ("Öffentlicher Lauf"); "und" between two times
    makes two sessions of one day."""
    found: list[tuple[Row, HtmlElement | None, bool]] = []
    for paragraph in root.iter("p"):
        if _skipped(paragraph) or any(a.tag in ("li", "td", "th") for a in
                                      paragraph.iterancestors()):
            continue
        text = _text(paragraph)
        match = _LINE_DAY_RE.match(text)
        if not match or len(text) > _MAX_LINE:
            continue
        year = int(match["year"]) if match["year"] else _heading_year(paragraph, fallback)
        day = f"{match['day']}. {match['month']} {year}"
        times, position = [], match.end()
        for time in _LINE_TIME_RE.finditer(text, match.end()):
            if not _LINE_JOIN_RE.match(text[position:time.start()]):
                break
            times.append(time.group(0))
            position = time.end()
        words = text[position:].strip(" .,:;–—-")
        named = bool(re.search(r"[^\W\d_]{3,}", words))
        title = words if named else _heading_text(paragraph)
        if not title or len(title) > _MAX_TITLE:
            continue
        for time in times:
            when = parse_when(f"{day}, {time}")
            if when is not None and isinstance(when.start, datetime):
                found.append((Row(when=when, title=title), paragraph.getparent(), named))
    # One session stated twice ("beginnt am Dienstag, den 26. September, 13:45 Uhr!" atop the
    # page, the same in the list; a disco in the list of all sessions and in the list of
    # discos) is one row: the one with an end, then one that names itself, then the one of
    # the shorter, more particular list.
    runs = Counter(id(parent) for _, parent, _ in found)
    best: dict[date | datetime, Row] = {}
    for row, *_ in sorted(found, key=lambda item: (item[0].when.end is not None, item[2],
                                                    -runs[id(item[1])])):
        best[row.when.start] = row
    return [row for row, *_ in found if best.get(row.when.start) is row]


# A block of lines broken by <br>, each a day and a title ("04.07.\xa0Papier / Gelber Sack",
# "(Sa) 06.10. Restm. / Bioabf."), under a line naming the month and year ("Juli 2018"): a
# waste collection calendar's month cell. The day's optional weekday stands before it, bare
# or in brackets.
_BREAK_DAY_RE = re.compile(
    rf"^(?:\(?{_WEEKDAY_WORD}\)?,?\s+)?(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\."
    r"(?P<year>\d{4}|\d{2}(?!\d))?\s+(?P<title>\S.*)$", re.IGNORECASE)
_BLOCK_TAGS = ("td", "th", "p", "div", "li", "table", "section", "article")


def _break_rows(root: HtmlElement, fallback: int) -> list[Row]:
    """Rows from blocks whose <br>-broken lines are mostly "day. month. title", two or more;
    a line that only names a year ("Juli 2018", "2019") gives the lines after it their year."""
    rows: list[Row] = []
    for block in root.iter(*_BLOCK_TAGS):
        if (_skipped(block) or block.find(".//br") is None
                or any(inner is not block for inner in block.iter(*_BLOCK_TAGS))):
            continue
        lines = _broken_lines(block)
        year = _heading_year(block, fallback)
        found: list[Row] = []
        for line in lines:
            match = _BREAK_DAY_RE.match(line)
            if match is None:
                named = _YEAR_RE.search(line)
                if named and len(line) <= 30:
                    year = int(named.group(1))
                continue
            day_year = match["year"] or str(year)
            when = parse_when(f"{match['day']}.{match['month']}.{day_year}")
            title = match["title"].strip()
            if when is not None and len(title) <= _MAX_TITLE:
                found.append(Row(when=when, title=title))
        if len(found) >= 2 and len(found) * 2 > len(lines):
            rows += found
    return rows


def _broken_lines(block: HtmlElement) -> list[str]:
    """The block's text split at its <br> elements, each line's spaces made one."""
    block = copy.deepcopy(block)
    for br in block.iter("br"):
        br.tail = "\n" + (br.tail or "")
    text = "".join(block.itertext())
    return [line for line in (" ".join(part.split()) for part in text.split("\n")) if line]


def _heading_text(element: HtmlElement) -> str | None:
    """The text of the nearest heading before `element`, None without one."""
    return next((text for text in map(_text, _headings_before(element)) if text), None)


def _labelled_groups(text: str, year: int) -> list[Row]:
    """Rows from runs of labelled lines, one run per date label ("Termin: 21.02.2020")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if _GROUP_START_RE.match(line)]
    rows: list[Row] = []
    for n, first in enumerate(starts):
        group = lines[first:starts[n + 1] if n + 1 < len(starts) else len(lines)]
        # A repeated label ("Ort: Ort: Rosi's Bar") is one label.
        group = [re.sub(r"^(\w+\s*:)\s*\1\s*", r"\1 ", line) for line in group]
        event = extract_event_facts("\n".join(group), default_year=year)
        if event is None:
            continue
        title = next((m["v"] for m in map(_TITLE_LABEL_RE.match, group) if m), None)
        if title is None:
            title = next((line for line in group[1:] if not _ANY_LABEL_RE.match(line)
                          and parse_when(line) is None), None)
        if not title:
            continue
        rows.append(Row(when=When(start=event.start, end=event.end, all_day=event.all_day),
                        title=clean_text(title)[:_MAX_TITLE], info=event))
    return rows
