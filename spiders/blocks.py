"""Find the repeated blocks of a list page (title, link, date per item) and its next page.

The detector works on any markup, without selectors:

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

`find_list_blocks` returns the best group as a `BlockList`; `find_next_page` finds the
next list page (rel=next, "weiter", "»", "Ältere Beiträge", classes named next, page numbers).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urljoin, urlsplit

import lxml.html
from lxml import etree

from regiofeed.models.normalise.dates import parse_when

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
_MONTHS = (r"(?:jan(?:uar)?|jän(?:ner)?|feb(?:ruar)?|mär(?:z)?|maerz|mrz|apr(?:il)?|mai|"
           r"juni?|juli?|aug(?:ust)?|sept?(?:ember)?|okt(?:ober)?|nov(?:ember)?|dez(?:ember)?|"
           r"january|february|march|may|june|july|october|december)\.?")
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


def find_list_blocks(
    html: str, url: str, *, signature: tuple[str, str, str] | None = None
) -> BlockList | None:
    """Find the list of items on a page; None when it has none (or is an article itself).

    With `signature` (from the first page's BlockList), a list that looks the same is
    preferred: further pages of one list are read alike.
    """
    page = _Page.parse(html, url)
    if page is None:
        return None
    groups = page.groups()
    if not groups:
        return None
    if signature is not None:
        same = [group for group in groups if group.signature == signature]
        if same:
            groups = same
    best = max(groups, key=lambda group: group.score)
    if best.score <= 0:
        return None
    if len(best.blocks) == 1 and signature is None and page.is_article_around(best):
        return None
    return best.to_list()


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


class _Page:
    """A parsed page with what the detector needs to know about its elements."""

    def __init__(self, root: HtmlElement, url: str) -> None:
        self.root = root
        self.url = url
        self.host = urlsplit(url).hostname or ""
        self.page_key = _url_key(url)
        self.chrome: set[HtmlElement] = set()
        self.title_urls: dict[HtmlElement, set[str]] = {}
        self.has_h1: set[HtmlElement] = set()
        self.has_pagination: set[HtmlElement] = set()
        self.heading = ""
        self.own_url = url
        self._mark_chrome()

    @classmethod
    def parse(cls, html: str, url: str) -> _Page | None:
        root = parse_html(html)
        if root is None:
            return None
        own_url = url
        base = root.find(".//base[@href]")
        if base is not None:
            url = urljoin(url, base.get("href"))
        for bad in root.xpath("//comment() | //processing-instruction()"):
            _drop(bad)
        for tag in _INVISIBLE_TAGS:
            for element in root.iter(tag):
                _drop(element)
        page = cls(root, url)
        page.own_url = own_url
        return page

    # -- regions

    def _mark_chrome(self) -> None:
        for element in self.root.iter():
            if not isinstance(element.tag, str) or element in self.chrome:
                continue
            if self._is_chrome(element):
                self.chrome.update(element.iter())

    def _is_chrome(self, element: HtmlElement) -> bool:
        if element.tag == "nav" or (element.get("role") or "").lower() in _CHROME_ROLES:
            return True
        words = _words(element)
        if words & _CHROME_WORDS and not words & {"news", "article", "event", "events", "teaser",
                                                  "pagination", "pager"}:
            return True
        # Mobile menus and dialogs the page keeps hidden.
        return element.get("hidden") is not None

    def _side_factor(self, element: HtmlElement) -> float:
        """Lower the score of lists in sidebars, page headers and footers."""
        factor = 1.0
        for ancestor in element.iterancestors():
            if not isinstance(ancestor.tag, str):
                continue
            if ancestor.tag in ("main", "article") or (ancestor.get("role") == "main"):
                return factor
            if ancestor.tag in ("aside", "header", "footer") or _words(ancestor) & _SIDE_WORDS:
                factor *= 0.3
        return factor

    # -- links

    def _resolve(self, href: str | None) -> str | None:
        href = (href or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            return None
        absolute = urljoin(self.url, href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        if not _same_site(self.host, parts.hostname):
            return None
        path = parts.path.lower()
        if path.endswith(_NOT_PAGES) or (path in ("", "/") and not parts.query):
            return None
        absolute = absolute.split("#", 1)[0]
        key = _url_key(absolute)
        if key == self.page_key:
            return None
        # A link up the path ("/aktuelles/" from "/aktuelles/seite-2/") is a section, not an item.
        own = urlsplit(self.url).path.rstrip("/")
        if not parts.query and own.startswith(parts.path.rstrip("/") + "/"):
            return None
        return absolute

    def anchor_kind(self, anchor: HtmlElement) -> str | None:
        """'title' for a link naming an item, 'support' for 'Weiterlesen' and pictures."""
        if anchor in self.chrome or is_pagination_link(anchor):
            return None
        text = _text(anchor)
        if _in_heading(anchor) is not None or any(
                child.tag in _HEADINGS for child in anchor.iter()):
            return "title" if text or anchor.get("title") else "support"
        cleaned, _ = strip_date(text)
        low = cleaned.lower().strip(" .:»›>…-")
        if low in _GENERIC_LINK_TEXTS or low.startswith(("weiterlesen", "mehr zu", "mehr über",
                                                        "weiterlesen:", "read more")):
            return "support"
        if len(cleaned) >= 12 and len(cleaned.split()) >= 2:
            return "title"
        if _TITLE_CLASS_RE.search(" ".join(_words(anchor))) and len(cleaned) >= 4:
            return "title"
        return "support"

    # -- items

    def groups(self) -> list[_Group]:
        anchors: dict[str, list[HtmlElement]] = {}
        # Links in document order, so that items come out in the page's order.
        titled: dict[str, None] = {}
        for anchor in self.root.iter("a"):
            link = self._resolve(anchor.get("href"))
            if link is None:
                continue
            kind = self.anchor_kind(anchor)
            if kind is None:
                continue
            anchors.setdefault(link, []).append(anchor)
            if kind == "title":
                titled[link] = None
        for element in self.root.iter(*_HEADINGS):
            if element.tag == "h1" and element not in self.chrome:
                self.heading = self.heading or _text(element)
                for ancestor in element.iterancestors():
                    self.has_h1.add(ancestor)
        for anchor in self.root.iter("a"):
            if is_pagination_link(anchor):
                for ancestor in anchor.iterancestors():
                    self.has_pagination.add(ancestor)
        # First the items of links that carry a title, bounded by each other; then, outside
        # them, items of links named only "Mehr erfahren" (cards whose title is a heading),
        # bounded by all links. Secondary links inside an item (author, category) thus never
        # split it.
        items: dict[HtmlElement, _Item] = {}
        self._add_items(items, {link: anchors[link] for link in titled})
        covered = {element for item in items for element in item.iter()}
        rest = {link: [a for a in link_anchors if a not in covered]
                for link, link_anchors in anchors.items() if link not in titled}
        rest = {link: link_anchors for link, link_anchors in rest.items() if link_anchors}
        if rest:
            self._add_items(items, {**{link: anchors[link] for link in titled}, **rest},
                            only=set(rest))
        # Support anchors (picture, "Weiterlesen") inside an item belong to it.
        for item in items.values():
            for anchor in anchors.get(item.link, []):
                if anchor not in item.anchors and _contains(item.element, anchor):
                    item.anchors.append(anchor)
        by_signature: dict[tuple[str, str, str], list[_Item]] = {}
        for item in items.values():
            parent = item.element.getparent()
            grand = parent.getparent() if parent is not None else None
            key = (str(item.element.tag), _signature(parent), _signature(grand))
            by_signature.setdefault(key, []).append(item)
        # The page's own address says its topic, not its <base href> ("/aktuelles.html").
        topic = page_topic(self.own_url, self.heading)
        groups = []
        for key, members in by_signature.items():
            group = self._group(key, members, topic)
            if group is not None:
                groups.append(group)
        return groups

    def _add_items(self, items: dict[HtmlElement, _Item], links: dict[str, list[HtmlElement]],
                   only: set[str] | None = None) -> None:
        """Find the item elements of `links` (or of those in `only`), each bounded by all."""
        self.title_urls = {}
        for link, link_anchors in links.items():
            for anchor in link_anchors:
                for ancestor in anchor.iterancestors():
                    seen = self.title_urls.setdefault(ancestor, set())
                    if len(seen) < 2:
                        seen.add(link)
        for link, link_anchors in links.items():
            if only is not None and link not in only:
                continue
            for anchor in link_anchors:
                element = self._item_element(anchor, link)
                if element in items:
                    if items[element].link == link:
                        items[element].anchors.append(anchor)
                    continue
                items[element] = _Item(element, link, [anchor])

    def _item_element(self, anchor: HtmlElement, link: str) -> HtmlElement:
        node = anchor
        while True:
            if node.tag == "article":
                return node
            parent = node.getparent()
            if parent is None or parent.tag in ("body", "html", "main", "form") or (
                parent.get("role") == "main"
            ):
                return node
            if node.tag in _ITEM_TAGS and parent.tag in _LIST_TAGS:
                return node
            if len(self.title_urls.get(parent, ())) > 1:
                return node
            if parent in self.has_h1 and node not in self.has_h1:
                return node
            if parent in self.has_pagination and node not in self.has_pagination:
                return node
            if parent in self.chrome:
                return node
            node = parent

    def _group(
        self, key: tuple[str, str, str], members: list[_Item], topic: str | None
    ) -> _Group | None:
        blocks: list[Block] = []
        title_paths: Counter[str] = Counter()
        date_paths: Counter[str] = Counter()
        headings = 0
        seen_links: set[str] = set()
        kept: list[_Item] = []
        for item in members:
            if item.link in seen_links:
                continue
            read = self._read(item)
            if read is None:
                continue
            block, title_path, date_path, from_heading = read
            seen_links.add(item.link)
            kept.append(item)
            blocks.append(block)
            title_paths[title_path] += 1
            if date_path:
                date_paths[date_path] += 1
            headings += from_heading
        n = len(blocks)
        if n == 0:
            return None
        dated = sum(1 for b in blocks if b.date_text) / n
        teasers = sum(1 for b in blocks if b.summary) / n
        heading_share = headings / n
        sensible = sum(1 for b in blocks if 8 <= len(b.title) <= 250
                       and len(b.title.split()) >= 2) / n
        coherent = _share_path([b.link for b in blocks if b.link])
        # Undated lists only on pages that call themselves news or events, and only when
        # they look like teasers (a heading, or on old pages a headline link, and text),
        # never a set of links.
        if dated < 0.5 and not (topic and n >= 3 and (heading_share >= 0.8 or sensible >= 0.8)
                                and teasers >= 0.5):
            return None
        if n == 1:
            block = blocks[0]
            if not block.date_text or not (
                headings or kept[0].element.tag in ("article", "tr", "li", "dd")
                or _words(kept[0].element) & {"item", "article", "news", "event", "entry",
                                              "teaser", "post", "termin"}
            ):
                return None
        side = min(self._side_factor(item.element) for item in kept)
        score = n * (1 + 2 * dated + heading_share + 0.5 * teasers + 0.5 * sensible
                     + 0.5 * coherent) * side
        shared = set(_classes(kept[0].element))
        for item in kept[1:]:
            shared &= set(_classes(item.element))
        stable = _stable([c for c in _classes(kept[0].element) if c in shared])
        parent = kept[0].element.getparent()
        item_desc = ".".join([str(kept[0].element.tag), *stable[:2]])
        if parent is not None and parent.tag not in ("body", "html"):
            item_desc = f"{_short(parent)} > {item_desc}"
        return _Group(
            signature=key, items=kept, blocks=blocks, item_desc=item_desc,
            title_desc=title_paths.most_common(1)[0][0],
            date_desc=date_paths.most_common(1)[0][0] if date_paths else None,
            score=score,
        )

    def _read(self, item: _Item) -> tuple[Block, str, str | None, bool] | None:
        """Read one item: (block, title path, date path, title from a heading)."""
        element = item.element
        title, title_element, from_heading = self._title(item)
        if not title:
            return None
        title, date_in_title = strip_date(title)
        date_text, when_text, date_path = self._date(element, title_element)
        if date_text is None and date_in_title:
            date_text, date_path = date_in_title, "title prefix"
        if date_text is None:
            inherited = self._inherited_date(element)
            if inherited:
                date_text, when_text, date_path = inherited[0], inherited[0], inherited[1]
        block = Block(
            title=title,
            link=item.link,
            date_text=date_text,
            when_text=when_text if when_text and _says_more(when_text, date_text) else None,
            summary=self._summary(element, title_element, title),
            location=self._location(element),
        )
        return block, _path(element, title_element), date_path, from_heading

    def _title(self, item: _Item) -> tuple[str, HtmlElement | None, bool]:
        element = item.element
        for anchor in item.anchors:
            heading = _in_heading(anchor)
            if heading is not None and _contains(element, heading):
                return _text(heading), anchor, True
            inner = next((h for h in anchor.iter(*_HEADINGS)), None)
            if inner is not None and _text(inner):
                return _text(inner), inner, True
        headings = [h for h in element.iter(*_HEADINGS)
                    if _text(h) and not _is_only_date(_text(h))]
        texts = [(len(_text(a)), a) for a in item.anchors if self.anchor_kind(a) == "title"]
        if texts:
            anchor = max(texts, key=lambda pair: pair[0])[1]
            return _text(anchor), anchor, False
        if len(headings) == 1:
            return _text(headings[0]), headings[0], True
        for anchor in item.anchors:
            if anchor.get("title") and len(anchor.get("title", "").strip()) >= 8:
                return " ".join(anchor.get("title", "").split()), anchor, False
        return "", None, False

    def _date(
        self, element: HtmlElement, title_element: HtmlElement | None
    ) -> tuple[str | None, str | None, str | None]:
        """Return (date text, visible date text, where it was found) of an item."""
        for time_element in element.iter("time"):
            value = (time_element.get("datetime") or "").strip()
            visible = _text(time_element)
            found = find_date(visible)
            if value and _is_date(value):
                return value, found[0] if found else None, "time[datetime]"
            if found:
                return found[0], found[0], "time"
        for prop in element.xpath(".//*[@itemprop='datePublished' or @itemprop='startDate'"
                                  " or @itemprop='dateCreated'][@content]"):
            value = prop.get("content", "").strip()
            if _is_date(value):
                return value, None, f"[itemprop={prop.get('itemprop')}]"
        for candidate in element.iter():
            if not isinstance(candidate.tag, str) or candidate is element:
                continue
            if not _DATE_CLASS_RE.search(f"{candidate.get('class') or ''}"):
                continue
            found = find_date(_text(candidate))
            if found:
                return found[0], found[0], _short(candidate)
        for node in element.iter():
            if not isinstance(node.tag, str):
                continue
            pieces = [(node.text, node)]
            if node is not element:
                pieces.append((node.tail, node.getparent()))
            for text, owner in pieces:
                found = find_date(" ".join((text or "").split()))
                if found:
                    where = _short(owner) if owner is not None and owner is not element else "text"
                    return found[0], found[0], where
        return None, None, None

    def _inherited_date(self, element: HtmlElement) -> tuple[str, str] | None:
        """A date shown before the item: a `dt` for its `dd`, a date heading above a group,
        or the text right before a link in "27.05.2019: <a>…</a><br>28.05.2019: <a>…</a>"."""
        if element.tag == "a":
            before_element = element.getprevious()
            parent = element.getparent()
            before = before_element.tail if before_element is not None else (
                parent.text if parent is not None else None)
            found = find_date(" ".join((before or "").split())[-60:])
            if found:
                return found[0], "text before the link"
        previous = element.getprevious()
        steps = 0
        while previous is not None and steps < 30:
            if isinstance(previous.tag, str):
                text = _text(previous)
                if _is_only_date(text):
                    found = find_date(text)
                    if found:
                        return found[0], f"{_short(previous)} before"
                if element.tag == "dd" and previous.tag == "dt":
                    found = find_date(text)
                    return (found[0], "dt") if found else None
                # Stop at the previous heading that is no date: a new section starts there.
                if previous.tag in _HEADINGS:
                    return None
            previous = previous.getprevious()
            steps += 1
        return None

    def _summary(
        self, element: HtmlElement, title_element: HtmlElement | None, title: str
    ) -> str | None:
        """The teaser: an element classed teaser/summary/text…, else the longest paragraph."""
        classed: str | None = None
        longest: str | None = None
        for candidate in element.iter("p", "div", "span", "td", "dd", "section"):
            if candidate is element or (title_element is not None and (
                    _contains(candidate, title_element) or _contains(title_element, candidate))):
                continue
            text = _text(candidate)
            if len(text) < 30 or (title in text and len(text) < len(title) + 30):
                continue
            if classed is None and _TEASER_CLASS_RE.search(candidate.get("class") or ""):
                classed = text
            if candidate.tag == "p" and (longest is None or len(text) > len(longest)):
                longest = text
        if classed or longest:
            return classed or longest
        # Old markup: "<b><a>Titel</a></b><br>Text" in a <font>: the text beside the title.
        rest = _text(element).replace(title, "", 1).strip(" -–:|")
        return rest if len(rest) >= 30 and not find_date(rest[:40]) else None

    def _location(self, element: HtmlElement) -> str | None:
        for candidate in element.iter():
            if candidate is element or not isinstance(candidate.tag, str):
                continue
            if candidate.tag == "address" or _PLACE_CLASS_RE.search(
                    candidate.get("class") or "") or candidate.get("itemprop") == "location":
                text = _text(candidate)
                if 2 <= len(text) <= 200:
                    return text
        return None

    def is_article_around(self, group: _Group) -> bool:
        """Whether a single item is only a teaser beside an article (the page is one)."""
        item = group.items[0].element
        main = next((found for found in (self.root.find(".//main"), self.root.find(".//body"))
                     if found is not None), self.root)
        total = len(_text(main))
        inside = len(_text(item))
        return total - inside > 1500 and inside < 0.2 * total


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

_NEXT_WORDS = {
    "weiter", "nächste", "nächste seite", "nächster", "vor", "vorwärts", "next", "next page",
    "ältere beiträge", "ältere einträge", "ältere artikel", "ältere nachrichten",
    "ältere meldungen", "ältere posts", "older posts", "older entries", "nächste veranstaltungen",
    "weitere veranstaltungen", "weitere termine", "nächste termine", "weitere meldungen",
    "weitere beiträge", "mehr meldungen", "mehr beiträge", "seite vor", "eine seite vor",
    "nächste einträge", "gehe zur nächsten seite", "zur nächsten seite", "go to next page",
}
_ARROWS = "»›>→⟩▸▶"
_PAGE_PARAM_RE = re.compile(
    r"(?:^|[^a-z])(?:page|seite|currentpage|paged|pg|p|start|limitstart|offset|tribe_paged"
    r"|pagenum|pagenr|seitennr)\]?$", re.I)
_PAGE_PATH_RE = re.compile(r"(?:/page/|/seite/|/seite-|/page-|/p/)(\d+)", re.I)


_PREVIOUS_WORDS = {"zurück", "vorherige", "vorherige seite", "previous", "prev", "erste", "letzte",
                   "ende", "start", "anfang", "neuere beiträge", "neuere einträge", "newer posts",
                   "vorherige veranstaltungen", "vorherige termine"}


def is_pagination_link(anchor: HtmlElement) -> bool:
    """Whether a link is a page number or a next/previous control of a list.

    Its text is a number, arrows or next/previous words, and it sits in a pager (classes
    such as pagination, page-navigation, nav-links), says rel=next/prev or links a page
    number (?page=2, /page/2/); a lone "weiter" inside an item is a read-more link.
    """
    text = _text(anchor).lower()
    stripped = text.strip(_ARROWS + "«‹<←⟨◂◀ .")
    if not ((not stripped and text) or re.fullmatch(r"\d{1,4}", stripped)
            or stripped in _NEXT_WORDS or stripped in _PREVIOUS_WORDS):
        return False
    if {"next", "prev", "previous"} & set((anchor.get("rel") or "").lower().split()):
        return True
    href = anchor.get("href") or ""
    if _PAGE_PATH_RE.search(href) or any(
            _PAGE_PARAM_RE.search(name) for name, _ in parse_qsl(urlsplit(href).query)):
        return True
    return any(_PAGINATION_CLASS_RE.search(f"{a.get('class') or ''} {a.get('id') or ''}")
               for a in [anchor, *list(anchor.iterancestors())[:4]] if isinstance(a.tag, str))


def find_next_page(
    html: str | HtmlElement, url: str, *, exclude: set[str] | frozenset[str] = frozenset()
) -> str | None:
    """Return the absolute URL of a list page's next page, or None on the last page.

    Tried in order: `rel="next"`; a link classed or labelled next ("li.next a",
    ".pagination-next a", aria-label "Nächste Seite"); a link whose text says next
    ("weiter", "»", "Ältere Beiträge"); the link to the page number after the current one.
    `exclude` holds URLs that are items, not pages ("weiter" as a read-more link).
    """
    root = html if isinstance(html, HtmlElement) else parse_html(html)
    if root is None:
        return None
    here = _url_key(url)
    host = urlsplit(url).hostname or ""
    excluded = {_url_key(link) for link in exclude}

    def usable(href: str | None) -> str | None:
        href = (href or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            return None
        absolute = urljoin(url, href).split("#", 1)[0]
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not _same_site(host, parts.hostname or ""):
            return None
        key = _url_key(absolute)
        if key == here or key in excluded:
            return None
        return absolute

    for element in root.xpath("//link[@href] | //a[@href]"):
        rel = (element.get("rel") or "").lower().split()
        if "next" in rel:
            found = usable(element.get("href"))
            if found:
                return found
    anchors = [a for a in root.iter("a") if a.get("href")]
    for anchor in anchors:
        own = _words(anchor)
        label = f"{anchor.get('aria-label') or ''} {anchor.get('title') or ''}".lower()
        parent = anchor.getparent()
        parent_words = _words(parent) if parent is not None and parent.tag in ("li", "span",
                                                                                "div") else set()
        if "next" in own | parent_words or any(
                word in label for word in ("nächste seite", "next page", "nächsten seite")):
            found = usable(anchor.get("href"))
            if found:
                return found
    for anchor in anchors:
        text = _text(anchor).lower()
        stripped = text.strip(_ARROWS + " .").strip()
        arrows_only = bool(text) and not text.strip(_ARROWS + " ")
        if stripped in _NEXT_WORDS or (arrows_only and "»" in text) or text in ("›", ">", "→"):
            found = usable(anchor.get("href"))
            if found:
                return found
    current = current_page_number(url)
    for anchor in anchors:
        if _text(anchor) == str(current + 1):
            in_pager = any(_PAGINATION_CLASS_RE.search(
                f"{a.get('class') or ''} {a.get('id') or ''}")
                for a in [anchor, *list(anchor.iterancestors())[:4]])
            href = anchor.get("href") or ""
            if in_pager or _PAGE_PATH_RE.search(href) or any(
                    _PAGE_PARAM_RE.search(name) for name, _ in parse_qsl(urlsplit(href).query)):
                found = usable(href)
                if found:
                    return found
    return None


def current_page_number(url: str) -> int:
    """Read the page number from a list URL (?page=3, /page/3/, seite-3, currentPage=3).

    >>> current_page_number("https://x.de/aktuelles/page/3/"), current_page_number("https://x.de/")
    (3, 1)
    """
    parts = urlsplit(url)
    match = _PAGE_PATH_RE.search(parts.path)
    if match:
        return int(match.group(1))
    for name, value in parse_qsl(parts.query):
        if value.isdigit() and _PAGE_PARAM_RE.search(name) and not name.lower().endswith(
                ("start", "offset")):
            return int(value)
    return 1


def parse_html(html: str) -> HtmlElement | None:
    """Parse a page as UTF-8 HTML; None for an empty or unparsable one."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.fromstring(html.encode("utf-8"), parser=UTF8_PARSER)
    except (etree.ParserError, ValueError):
        return None
