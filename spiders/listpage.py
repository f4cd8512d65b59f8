"""The list-page reader: a parsed page, its regions (chrome, sidebars) and links, and its list."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from regiofeed.spiders.blocks import (
    _CHROME_ROLES,
    _CHROME_WORDS,
    _GENERIC_LINK_TEXTS,
    _HEADINGS,
    _INVISIBLE_TAGS,
    _NOT_PAGES,
    _SIDE_WORDS,
    _TITLE_CLASS_RE,
    BlockList,
    HtmlElement,
    _drop,
    _in_heading,
    _same_site,
    _text,
    _url_key,
    _words,
    parse_html,
    strip_date,
)
from regiofeed.spiders.listitems import ItemReader
from regiofeed.spiders.pagination import is_pagination_link


def find_list_blocks(
    html: str, url: str, *, signature: tuple[str, str, str] | None = None
) -> BlockList | None:
    """Find the list of items on a page; None when it has none (or is an article itself).

    With `signature` (from the first page's BlockList), a list that looks the same is
    preferred: further pages of one list are read alike.
    """
    page = ListPage.parse(html, url)
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


class ListPage(ItemReader):
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
    def parse(cls, html: str, url: str) -> ListPage | None:
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











