"""The news on a home page that shows no dates: headline links whose addresses follow one
pattern ("/item/show/637855", "/herrmann-zeichnet-verdiente-bergretter-aus/").

A town's home page often teases its latest news in a slider, in cards and in a "Weitere
Meldungen" list, none of them dated, each in its own markup. What they share is where they
lead: the site's articles live under one address pattern, its theme pages each under their
own. The largest group of headline links that share a pattern is the news.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

from lxml.html import HtmlElement

from regiofeed.spiders.blocks import _HEADINGS, Block, BlockList
from regiofeed.spiders.listpage import ListPage
from regiofeed.spiders.pagination import is_pagination_link

# Fewer than this many headlines under one pattern are no list.
_MIN_ITEMS = 3
_NUMBER_RE = re.compile(r"\d+")
# A slug names one page: "herrmann-zeichnet-verdiente-bergretter-aus".
_SLUG_RE = re.compile(r"^[\w%]+(?:-[\w%]+){2,}(?:\.\w+)?$")
_LABEL_RE = re.compile(r"^(?:mehr|weiter|weiterlesen|details|bildergalerie\b.*|galerie\b.*)"
                       r"[\s.…:»>]*$", re.IGNORECASE)


def _template(url: str) -> str:
    """The address pattern of a link: numbers and slugs replaced by placeholders.

    >>> _template("https://s.example/item/show/637855")
    '/item/show/{n}'
    >>> _template("https://s.example/herrmann-zeichnet-verdiente-bergretter-aus/?seite=2")
    '/{slug}/'
    >>> _template("https://s.example/index.php?ModID=255&FID=2616.1")
    '/index.php?FID&ModID'
    """
    parts = urlsplit(url)
    segments = []
    for segment in parts.path.split("/"):
        if _SLUG_RE.match(segment):
            segments.append("{slug}")
        else:
            segments.append(_NUMBER_RE.sub("{n}", segment))
    path = "/".join(segments)
    if "{" in path or not parts.query:
        return path
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{path}?{'&'.join(keys)}"


_NEWS_HEADING_RE = re.compile(r"meldung|nachricht|aktuell|presse|news|neuigkeit|mitteilung",
                              re.IGNORECASE)
# How far up from a link to look for the heading of its section.
_SECTION_DEPTH = 6


def _under_news_heading(anchor: HtmlElement) -> bool:
    """Whether the link's section (a few levels up) starts with a heading that says news."""
    element = anchor.getparent()
    for _ in range(_SECTION_DEPTH):
        if element is None:
            return False
        for child in element:
            if child.tag in _HEADINGS and _NEWS_HEADING_RE.search(_text(child)):
                return True
        element = element.getparent()
    return False


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _headline(anchor: HtmlElement) -> tuple[str, bool]:
    """The words an anchor gives its target: (text, whether from a heading)."""
    parent = anchor
    while parent is not None and parent.tag not in _HEADINGS:
        parent = parent.getparent()
    if parent is not None:
        return _text(parent), True
    inner = [_text(h) for h in anchor.iter(*_HEADINGS) if _text(h)]
    if inner:
        # A kicker and a headline inside one link: the headline is the longer.
        return max(inner, key=len), True
    return _text(anchor), False


def home_news(html: str, url: str) -> BlockList | None:
    """Return the undated news of a home page as a BlockList, None when there is none."""
    page = ListPage.parse(html, url)
    if page is None:
        return None
    found: dict[str, tuple[str, bool]] = {}
    for anchor in page.root.iter("a"):
        if anchor in page.chrome or is_pagination_link(anchor):
            continue
        link = page._resolve(anchor.get("href"))
        if link is None:
            continue
        text, from_heading = _headline(anchor)
        text = re.sub(r"\s*(?:\.\.\.|…)$", "", text).strip()
        if not text or _LABEL_RE.match(text):
            continue
        # A plain link must read like a headline and stand under a news heading
        # ("Weitere Meldungen", "Pressemitteilungen"); a heading may be short ("Videoabend").
        if not from_heading and (len(text) < 20 or len(text.split()) < 3
                                 or not _under_news_heading(anchor)):
            continue
        best = found.get(link)
        if best is None or (from_heading, len(text)) > (best[1], len(best[0])):
            found[link] = (text, from_heading)
    groups: dict[str, list[str]] = {}
    for link in found:
        groups.setdefault(_template(link), []).append(link)
    patterned = [(template, links) for template, links in groups.items()
                 if "{" in template and len(links) >= _MIN_ITEMS]
    if not patterned:
        return None
    template, links = max(patterned, key=lambda pair: len(pair[1]))
    blocks = [Block(title=found[link][0], link=link) for link in links]
    return BlockList(item=f"home page links to {template}", title="link or its heading",
                     date=None, blocks=blocks, signature=("home", template, ""))


def own_news(dated: BlockList | None, undated: BlockList | None) -> BlockList | None:
    """Choose between a home page's dated list and its undated headline links: the links when
    they hold most of the dated list and more, with the dates the list shows."""
    if dated is None or undated is None:
        return dated or undated
    dates = {block.link: block for block in dated.blocks if block.link}
    shared = sum(1 for block in undated.blocks if block.link in dates)
    if len(undated.blocks) <= len(dated.blocks) or shared < 0.8 * len(dates):
        return dated
    blocks = [replace(dates[block.link], title=block.title) if block.link in dates else block
              for block in undated.blocks]
    return replace(undated, blocks=blocks)
