"""What a list page's blocks are (title, link, date per item), dates in them, shared markup words.

The detector (spiders/listpage.py, spiders/listitems.py) works on any markup, without selectors:

1. *Title anchors*: links to other pages of the same site, outside navigation, that carry a
   title — inside or around a heading, or with link text of a few words ("Weiterlesen" and
   page numbers do not count).
2. *Item elements*: from each title anchor, climb while the ancestor holds no title anchor
   to another page, no `h1` and no pagination; stop at `li`, `tr`, `dt`/`dd` of a list or
   table and at `article`. What is left is one item's element.
3. *Groups*: item elements whose parent and grandparent look alike (tag and classes) form a
   candidate list; each member gives a title (its heading, else its link text, with a date
   prefix such as "27.05.2019: " moved to the date), a link, a date (`time[datetime]`, an
   element classed date/datum/termin, any German or ISO date in its text, or a date heading
   or `dt` right before it), a teaser and an event place.
4. *Score*: members × (1 + 2·dated + heading titles + ½·teasers + ½·sensible titles +
   ½·links under one path), lowered for sidebars, headers and footers. Lists need a date on
   at least half their members — or, on a page that calls itself news or events, headings
   and teasers on most of three or more. A single dated item counts too (a list's last page,
   a calendar with one entry), unless the page around it is an article of its own.

`listpage.find_list_blocks` returns the best group as a `BlockList`;
`pagination.find_next_page` finds the next list page (rel=next, "weiter", "»", "Ältere
Beiträge", classes named next, page numbers).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from regiofeed.models.normalise.dates import MONTH_WORDS, parse_when

HtmlElement = lxml.html.HtmlElement
# Pages arrive as text (spiders.encoding decoded them); handed to lxml as UTF-8 bytes, since a
# str with an XML encoding declaration is refused and bytes alone would be guessed at.
UTF8_PARSER = lxml.html.HTMLParser(encoding="utf-8")

# Removed before anything is looked at: never visible content.
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head", "select",
                   "button")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# An item element is never wider than one entry of a list, table or definition list.
_ITEM_TAGS = {"li", "tr", "dd", "dt"}
_LIST_TAGS = {"ul", "ol", "tbody", "thead", "table", "dl", "menu"}
# Whole page regions that hold no items: menus, breadcrumbs, cookie banners, skip links.
_CHROME_WORDS = {"nav", "navbar", "navigation", "menu", "mainmenu", "submenu", "breadcrumb",
                 "breadcrumbs", "cookie", "cookies", "skiplink", "skiplinks", "rootline",
                 "metanav", "servicenav", "toolbar", "share", "social", "sharing"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "menubar", "menu"}
# Side regions: lists there are teasers of other pages, not the page's own list.
_SIDE_WORDS = {"sidebar", "aside", "widget", "widgets", "related", "marginal", "marginalia",
               "footer", "header", "secondary", "complementary"}
# Link texts that lead to an item but do not name it.
_GENERIC_LINK_TEXTS = {
    "mehr", "weiter", "weiterlesen", "weiter lesen", "mehr lesen", "mehr erfahren", "details",
    "mehr details", "zum artikel", "zur meldung", "zum beitrag", "zur veranstaltung",
    "lesen sie mehr", "mehr informationen", "mehr infos", "more", "read more", "continue reading",
    "hier", "link", "info", "infos", "alle meldungen", "alle beiträge", "alle termine",
    "alle veranstaltungen", "zur übersicht", "zurück", "zurück zur übersicht", "anzeigen",
    "öffnen", "download", "pdf", "beitrag lesen", "artikel lesen", "ganzen artikel lesen",
    "mehr dazu", "hier klicken", "hier weiterlesen", "zum termin", "termin", "ics", "ical",
}
_NOT_PAGES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".css", ".js", ".ics", ".rss",
              ".atom", ".xml", ".json", ".zip", ".mp3", ".mp4", ".ical", ".vcf")
DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods", ".ppt", ".pptx",
                     ".rtf", ".txt")
# Classes of the elements that show an item's date, place and teaser.
_DATE_CLASS_RE = re.compile(r"date|datum|termin|time|zeit|published|posted|day|when|wann|meta",
                            re.I)
_PLACE_CLASS_RE = re.compile(r"(?:^|[-_ ])(?:ort|location|venue|place|adresse|address|"
                             r"locality|veranstaltungsort|wo)(?:$|[-_ ])", re.I)
_TEASER_CLASS_RE = re.compile(r"teaser|summary|excerpt|description|intro|abstract|lead|"
                              r"bodytext|text|content|desc|preview|kurz", re.I)
_TITLE_CLASS_RE = re.compile(r"title|titel|headline|heading|header|subject|name", re.I)
_PAGINATION_CLASS_RE = re.compile(r"pag|pager|page-nav|pagenav|seiten|browse|nav-links|"
                                  r"navigation", re.I)
_TOPIC_WORDS = {
    "news": ("aktuell", "news", "nachricht", "meldung", "neuigkeit", "presse", "blog",
             "beitr", "artikel", "mitteilung", "bekanntmachung", "amtsblatt", "rathausinfo"),
    "events": ("veranstaltung", "termin", "event", "kalender", "calendar", "agenda",
               "seminar", "kurs", "programm", "tribe"),
}

# Dates as list pages show them: ISO, 27.05.2019, 27.5.19, 27. Mai 2019, with an optional
# weekday before, a range after ("3.–5.10.2024", "25.08.2023 – 26.08.2023") and a time
# ("18:00 Uhr", "@ 10:00 - 12:00"). parse_when decides whether a match is a date.
# The German month words, and the English ones a German site's CMS may print.
_MONTHS = rf"(?:{MONTH_WORDS}|january|february|march|may|june|july|october|december)\.?"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
_NUMERIC_DATE = rf"{_DAY}\.\s?(?:0?[1-9]|1[0-2])\.(?:\s?(?:\d{{4}}|\d{{2}})(?![\d.])|(?!\s?\d))"
_NAMED_DATE = rf"{_DAY}\.?\s*{_MONTHS}(?:\s*,?\s*\d{{4}})?"
_ONE_DATE = rf"(?:{_ISO_DATE}|{_NUMERIC_DATE}|{_NAMED_DATE})"
_WEEKDAY = (r"(?:(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|"
            r"mo|di|mi|do|fr|sa|so)\.?,?\s+)?")
_CLOCK = r"(?:\d{1,2}[:.]\d{2}\s*(?:uhr|h)?|\d{1,2}\s*uhr)"
_DATE_SPAN_RE = re.compile(
    rf"(?<![\w.]){_WEEKDAY}(?:{_DAY}\.\s*(?:[-–—]|bis)\s*)?{_ONE_DATE}"
    rf"(?:\s*(?:[-–—]|bis)\s*{_WEEKDAY}{_ONE_DATE})?"
    rf"(?:\s*(?:,|\||@|/|um|ab|von|-|–)?\s*{_CLOCK}(?:\s*(?:[-–—]|bis)\s*{_CLOCK})?)?",
    re.IGNORECASE,
)
_SEPARATOR = r"\s*(?:[:|–—,/]|-(?=\s)|\s)\s*"


@dataclass(frozen=True)
class Block:
    """One item of a list page as the list shows it; `link` is absolute."""

    title: str
    link: str | None
    date_text: str | None = None
    # The visible date text when it says more than the date (a range, a time of day).
    when_text: str | None = None
    summary: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class BlockList:
    """The repeated blocks found on a list page, and how they were found."""

    item: str                 # the item elements, e.g. "div.news-list-view > div.article"
    title: str                # where an item's title is, e.g. "h3 a"
    date: str | None          # where an item's date is, e.g. "time[datetime]"
    blocks: list[Block]
    # Tag and classes of the items' parent and grandparent: finds the list on further pages.
    signature: tuple[str, str, str]
    score: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """Say in one line what was found, for health.json."""
        parts = [f"list of {len(self.blocks)} block{'s' if len(self.blocks) != 1 else ''} "
                 f"{self.item} with title {self.title}"]
        if self.date:
            parts.append(f"date {self.date}")
        return ", ".join(parts)


def find_date(text: str) -> tuple[str, int, int] | None:
    """Find the first date (with its range and time) in a text: (matched text, start, end).

    >>> find_date("Am Sa, 01.06.2024, 10 Uhr im Park")[0]
    'Sa, 01.06.2024, 10 Uhr'
    >>> find_date("Version 2.1.3") is None
    True
    """
    for match in _DATE_SPAN_RE.finditer(text or ""):
        span = match.group().strip(" ,|/@-–")
        if _is_date(span):
            return span, match.start(), match.end()
    return None


def _is_date(span: str) -> bool:
    """A real date: parse_when reads it; without a year, a valid day and month will do."""
    if not re.search(r"\d", span):
        return False
    if parse_when(span) is not None:
        return True
    # "Sa, 01.06." or "27. Mai": a list of the current year; any leap year checks the day.
    return parse_when(span, default_year=2024) is not None


def strip_date(title: str) -> tuple[str, str | None]:
    """Move a date at the start or end of a title out of it: (clean title, date text).

    >>> strip_date("27.05.2019: Wahlergebnisse der Kommunalwahl")
    ('Wahlergebnisse der Kommunalwahl', '27.05.2019')
    >>> strip_date("Sommerfest (15.06.2024)")
    ('Sommerfest', '15.06.2024')
    """
    found = find_date(title)
    if found is None:
        return title, None
    span, start, end = found
    before, after = title[:start].strip(), title[end:].strip()
    if not before.strip(" :|–-,([") and after:
        rest = re.sub(rf"^{_SEPARATOR}", "", after).strip()
        if len(rest) >= 3:
            return rest, span
    if not after.strip(" )]") and before:
        rest = re.sub(rf"{_SEPARATOR}[(\[]?$", "", before).strip()
        if len(rest) >= 3:
            return rest, span
    return title, None




def page_topic(url: str, heading: str | None = None) -> str | None:
    """Say whether a URL (and its heading) is about news or events; None if neither.

    >>> page_topic("https://www.bad-belzig.de/aktuelles/"), page_topic("https://x.de/termine")
    ('news', 'events')
    """
    path = urlsplit(url).path.lower() + " " + (urlsplit(url).query or "").lower()
    text = f"{path} {(heading or '').lower()}"
    scores = {topic: sum(word in text for word in words) for topic, words in _TOPIC_WORDS.items()}
    best = max(scores, key=lambda topic: scores[topic])
    if scores[best] == 0 or list(scores.values()).count(scores[best]) > 1:
        return None
    return best


# --- the page model --------------------------------------------------------------------


def _text(element: HtmlElement) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _classes(element: HtmlElement) -> list[str]:
    return (element.get("class") or "").split()


def _words(element: HtmlElement) -> set[str]:
    """The words of an element's classes and id: 'news-list__item' gives news, list, item."""
    raw = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return {word for word in re.split(r"[\s_\-]+", raw) if word}


def _signature(element: HtmlElement | None) -> str:
    """Tag and stable classes: 'div.article' — numbered and state classes left out."""
    if element is None or not isinstance(element.tag, str):
        return ""
    return ".".join([element.tag, *sorted(_stable(_classes(element)))[:3]])


# Classes that mark one item's state, not what the items are.
_STATE_CLASSES = {"active", "current", "first", "last", "odd", "even", "selected", "open",
                  "topnews", "featured", "sticky", "clearfix", "hentry", "new", "highlight"}


def _stable(classes: list[str]) -> list[str]:
    """The classes that say what an element is, in the page's order ('post', 'type-post')."""
    return [c for c in classes if not re.search(r"\d", c) and c.lower() not in _STATE_CLASSES]


def _short(element: HtmlElement) -> str:
    """How health.json names an element: tag and its first stable class."""
    stable = [c for c in _classes(element) if not re.search(r"\d", c)
              and c.lower() not in _STATE_CLASSES]
    return f"{element.tag}.{stable[0]}" if stable else str(element.tag)


def _same_site(host: str, other: str) -> bool:
    """Same site: equal hosts, or sharing the last two labels (www.x.de, termine.x.de)."""
    host, other = host.lower().removeprefix("www."), other.lower().removeprefix("www.")
    return host == other or host.split(".")[-2:] == other.split(".")[-2:]


def _url_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}?{parts.query}"


@dataclass
class _Item:
    element: HtmlElement
    link: str
    anchors: list[HtmlElement]


@dataclass
class _Group:
    """A candidate list: item elements that look alike, with what each one says."""

    signature: tuple[str, str, str]
    items: list[_Item]
    blocks: list[Block]
    item_desc: str
    title_desc: str
    date_desc: str | None
    score: float

    def to_list(self) -> BlockList:
        return BlockList(item=self.item_desc, title=self.title_desc, date=self.date_desc,
                         blocks=self.blocks, signature=self.signature, score=self.score)




def _drop(element: etree._Element) -> None:
    """Remove an element but keep its tail text."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _contains(ancestor: HtmlElement, element: HtmlElement) -> bool:
    return ancestor is element or any(a is ancestor for a in element.iterancestors())


def _in_heading(element: HtmlElement) -> HtmlElement | None:
    for depth, ancestor in enumerate(element.iterancestors()):
        if ancestor.tag in _HEADINGS:
            return ancestor
        if depth >= 3:
            return None
    return None


def _says_more(when_text: str, date_text: str | None) -> bool:
    """Whether the visible date text has a time of day or a range the date text lacks."""
    if when_text == date_text:
        return False
    when = parse_when(when_text) or parse_when(when_text, default_year=2024)
    return when is not None and (not when.all_day or when.end is not None)


def _is_only_date(text: str) -> bool:
    found = find_date(text)
    if found is None:
        return False
    rest = (text[: found[1]] + text[found[2]:]).strip(" ,.:|–-")
    return len(re.sub(r"[^\wäöüß]", "", rest)) <= 3


def _path(item: HtmlElement, target: HtmlElement | None) -> str:
    """Describe where `target` sits inside `item`: 'h3 a', 'td.titel a'."""
    if target is None or target is item:
        return "text"
    chain = []
    node: HtmlElement | None = target
    while node is not None and node is not item and len(chain) < 3:
        chain.append(_short(node) if node is not target or node.tag != "a" else "a")
        node = node.getparent()
    return " ".join(reversed(chain))


def _share_path(links: list[str]) -> float:
    """The share of links under the most common first path segment (/aktuelles/…)."""
    firsts = Counter(urlsplit(link).path.strip("/").split("/")[0] for link in links)
    if not firsts:
        return 0.0
    segment, count = firsts.most_common(1)[0]
    return count / sum(firsts.values()) if segment else 0.0


# --- pagination --------------------------------------------------------------------------











def parse_html(html: str) -> HtmlElement | None:
    """Parse a page as UTF-8 HTML; None for an empty or unparsable one."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.fromstring(html.encode("utf-8"), parser=UTF8_PARSER)
    except (etree.ParserError, ValueError):
        return None
