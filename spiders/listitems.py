"""Reading the items of a list page: candidate groups of look-alike elements, and what each says."""

from __future__ import annotations

from collections import Counter

from regiofeed.spiders.blocks import (
    _DATE_CLASS_RE,
    _HEADINGS,
    _ITEM_TAGS,
    _LIST_TAGS,
    _PLACE_CLASS_RE,
    _TEASER_CLASS_RE,
    Block,
    HtmlElement,
    _classes,
    _contains,
    _Group,
    _in_heading,
    _is_date,
    _is_only_date,
    _Item,
    _path,
    _says_more,
    _share_path,
    _short,
    _signature,
    _stable,
    _text,
    _words,
    find_date,
    page_topic,
    strip_date,
)
from regiofeed.spiders.pagination import is_pagination_link


class ItemReader:
    """Find the groups of items on a page and read each item's title, date, teaser and place."""

    root: HtmlElement
    url: str
    host: str
    page_key: str
    chrome: set[HtmlElement]
    title_urls: dict[HtmlElement, set[str]]
    has_h1: set[HtmlElement]
    has_pagination: set[HtmlElement]
    heading: str

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
