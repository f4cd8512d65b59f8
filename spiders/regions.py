"""The page's own article: its headline, and whether the page is an article at all, so that
the main content wins over "related" and "latest" teasers, sidebars, footers and menus."""

from __future__ import annotations

import json
import re
from datetime import date

from htmldate import find_date
from lxml.html import HtmlElement

from regiofeed.spiders.blocks import parse_html

# Separators between a page's headline and its site's name in <title>.
_TITLE_SEPARATORS_RE = re.compile(r"\s+[-|–—›»:]\s+|\s*::\s*|\s*\|\s*|:\s+")
_HEADINGS = ("h1", "h2", "h3")
_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportage", "report",
                  "pressrelease", "socialmediaposting", "webpage_article"}
_MIN_HEADLINE = 4
# A headline, not a section name: "Aktuelles", "Pressemitteilungen" are shorter.
_MIN_ARTICLE_HEADLINE = 20
# Characters of text beyond its teasers that make a page an article.
_ARTICLE_TEXT = 1500


def _norm(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split()).casefold()


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _links_home(element: HtmlElement) -> bool:
    """A heading that links to the site's root is the site's name, not the page's headline."""
    for anchor in element.iter("a"):
        href = (anchor.get("href") or "").strip()
        if re.fullmatch(r"(?:https?://[^/]+)?/?(?:index\.\w+)?", href):
            return True
    return False


def page_headline(html: str) -> str | None:
    """Return the page's own headline: the heading that <title> or og:title repeats (without
    the site name around it); else <title> without the site's name. None without either.

    >>> page_headline("<title>Faire Lieferketten - EJW</title><h1><a href='/'>EJW</a></h1>"
    ...               "<h2>Menü</h2><h1>Faire Lieferketten</h1>")
    'Faire Lieferketten'
    >>> page_headline("<title>CDU-Fraktion Erfurt - Entwicklung der Waldorfschule</title><p>x")
    'Entwicklung der Waldorfschule'
    """
    root = parse_html(html)
    if root is None:
        return None
    titles = [t for t in (_text(e) for e in root.iter("title")) if t]
    for meta in root.iter("meta"):
        prop = (meta.get("property") or meta.get("name") or "").lower()
        if prop in ("og:title", "twitter:title") and meta.get("content"):
            titles.append(" ".join(meta.get("content", "").split()))
    site_names = {_norm(meta.get("content") or "") for meta in root.iter("meta")
                  if (meta.get("property") or "").lower() == "og:site_name"}
    wanted = [_norm(t) for t in titles]
    whole: str | None = None
    for level in _HEADINGS:
        for heading in root.iter(level):
            text = _text(heading)
            key = _norm(text)
            if len(key) < _MIN_HEADLINE or key in site_names or _links_home(heading):
                continue
            if any(_is_part(key, t) for t in wanted):
                return text
            if whole is None and key in wanted:
                # The whole <title> as a heading may still carry the site's name.
                whole = text
    if not titles:
        return whole
    if whole is not None and not _TITLE_SEPARATORS_RE.search(whole):
        return whole
    parts = [p.strip() for p in _TITLE_SEPARATORS_RE.split(titles[0]) if p.strip()]
    parts = [p for p in parts if _norm(p) not in site_names] or parts
    # The headline is the longest part; the site's name is usually the shorter one.
    return max(parts, key=len) if len(parts) > 1 else titles[0]


def _is_part(heading: str, title: str) -> bool:
    """Whether `heading` is the start or end of `title`, cut there by a separator."""
    if title.startswith(heading):
        rest = title[len(heading):]
        return bool(_TITLE_SEPARATORS_RE.match(rest)) or rest.startswith((" -", " |", " –"))
    if title.endswith(heading):
        rest = title[: -len(heading)]
        return bool(re.search(r"(?:[-|–—›»:]|::)\s*$", rest))
    return False


def is_article_page(html: str) -> bool:
    """Whether the page says it is one article (og:type article, article:published_time,
    a schema.org Article), or shows one headline that its <title> repeats over its text."""
    root = parse_html(html)
    if root is None:
        return False
    for meta in root.iter("meta"):
        prop = (meta.get("property") or meta.get("name") or "").lower()
        if prop == "og:type" and (meta.get("content") or "").lower() == "article":
            return True
        if prop == "article:published_time":
            return True
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and _has_article_type(
                script.text or ""):
            return True
    for element in root.iter():
        itemtype = element.get("itemtype") if isinstance(element.tag, str) else None
        # Lists mark each entry an Article too: only the one holding the page's h1 counts.
        if itemtype and itemtype.rstrip("/").rsplit("/", 1)[-1].lower() in _ARTICLE_TYPES \
                and element.find(".//h1") is not None:
            return True
    return False


def beside_article(html: str, shown: int) -> bool:
    """Whether blocks whose text is `shown` characters are only a small part of the page
    (teasers beside an article) rather than the page's content.

    >>> beside_article("<body><p>" + "Text. " * 400 + "</p></body>", 150)
    True
    """
    root = parse_html(html)
    if root is None:
        return False
    main = next((found for found in (root.find(".//main"), root.find(".//body"))
                 if found is not None), root)
    total = len(_text(main))
    return total - shown > _ARTICLE_TEXT and shown < 0.2 * total


def _has_article_type(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            kinds = node.get("@type")
            for kind in kinds if isinstance(kinds, list) else [kinds]:
                if isinstance(kind, str) and kind.lower() in _ARTICLE_TYPES:
                    return True
            stack.extend(v for k, v in node.items() if k == "@graph")
    return False


def page_date(html: str, url: str) -> date | None:
    """The day the page was published as htmldate finds it in its markup and text; None when
    it finds none. Without its extensive search: a year in a copyright line is no date."""
    try:
        found = find_date(html, url=url, original_date=True, extensive_search=False)
    except (ValueError, TypeError):
        return None
    try:
        return date.fromisoformat(found[:10]) if found else None
    except ValueError:
        return None


def has_headline(html: str) -> bool:
    """Whether the page's h1 is a headline that its <title> repeats ("Lebenszeichen von
    Bavaria nach zwei Monaten Funkstille"), not a section's name ("Aktuelles").

    >>> has_headline("<title>Neue Bänke am Rundweg - Musterdorf</title><h1>Neue Bänke am "
    ...              "Rundweg</h1>")
    True
    >>> has_headline("<title>Aktuelles - Musterdorf</title><h1>Aktuelles</h1>")
    False
    """
    root = parse_html(html)
    headline = page_headline(html)
    if root is None or not headline or len(headline) < _MIN_ARTICLE_HEADLINE:
        return False
    return any(_norm(_text(h1)) == _norm(headline) for h1 in root.iter("h1"))
