"""Pagination of list pages: the link to the next page, and which page a URL is."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

from regiofeed.spiders.blocks import (
    _PAGINATION_CLASS_RE,
    HtmlElement,
    _same_site,
    _text,
    _url_key,
    _words,
    parse_html,
)

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
