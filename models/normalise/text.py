"""Plain text and sanitised HTML from page content, without the duplicate blocks pages carry."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html
import nh3
from lxml import etree

# Invisible characters that break equality and word matching but carry nothing for a reader.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES_RE = re.compile("[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS_RE = re.compile("\r\n|[\r\u2028\u2029\x85]")

# A repeated line is dropped only as part of a run at least this long: a repeated sentence is a
# copy (mobile + desktop versions of the body), while a repeated short line is usually a label
# ("Ort:", "Münster") that belongs to a second entry.
_MIN_REPEATED_RUN_CHARS = 80

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "div", "dl",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "main", "ol", "p", "pre", "section", "summary", "table", "ul",
}  # fmt: skip
_LINE_TAGS = {"li", "dt", "dd", "tr", "caption"}
_CELL_TAGS = {"td", "th"}
# Markers for breaks while collecting text; runs of them collapse into one break.
_PARAGRAPH, _LINE, _BR = "\x02", "\x01", "\x03"
_BREAKS_RE = re.compile("[ \x01-\x03]*[\x01-\x03][ \x01-\x03]*")
_DROPPED_TAGS = {
    "script", "style", "nav", "noscript", "template", "head", "title", "svg", "iframe",
    "object", "embed", "canvas", "select", "button", "math",
}  # fmt: skip

_ALLOWED_TAGS = {
    "p", "br", "a", "ul", "ol", "li", "strong", "em", "b", "i", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "figure", "figcaption", "img", "table", "thead", "tbody", "tr", "th", "td",
    "caption", "time", "dl", "dt", "dd",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt"},
    "time": {"datetime"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Removed with their content; every other unknown tag is unwrapped and its text kept.
_CLEAN_CONTENT_TAGS = _DROPPED_TAGS | {"form", "textarea", "audio", "video", "map"}
# Blocks compared for repeats (what nh3 leaves of the page's structure).
_DEDUPE_TAGS = {"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figure", "table", "dl"}
_HTML_BLOCK_TAGS = _DEDUPE_TAGS | {"ul", "ol", "figcaption", "dt", "dd"}
_VOID_TAGS = {"br", "img"}
# Layout containers that are not in the allow-list but separate blocks of text.
_LAYOUT_TAGS = {
    "div", "section", "article", "main", "header", "footer", "aside", "address", "center",
    "details", "summary", "fieldset", "hgroup",
}  # fmt: skip
_STRUCTURE_TAGS = _HTML_BLOCK_TAGS | _LAYOUT_TAGS | {"h1", "table", "pre", "hr", "form", "nav"}


def clean_text(text: str) -> str:
    """Normalise whitespace and paragraphs of plain text and drop repeated paragraphs.

    Paragraphs are separated by one blank line; a paragraph equal (ignoring case and
    whitespace) to an earlier one is dropped, and so is a run of lines repeating earlier
    lines once it is long enough to be copied prose rather than a label.

    >>> clean_text("Titel\\u00a0 eins\\r\\n\\r\\n\\r\\nText.\\n\\nTitel eins")
    'Titel eins\\n\\nText.'
    """
    text = _INVISIBLE_RE.sub("", _LINE_BREAKS_RE.sub("\n", text or ""))
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    seen_paragraphs: set[str] = set()
    seen_lines: set[str] = set()
    kept: list[str] = []
    for paragraph in paragraphs:
        key = _key(" ".join(paragraph))
        if not key or key in seen_paragraphs:
            continue
        seen_paragraphs.add(key)
        unique = _drop_repeated_runs(paragraph, seen_lines)
        if unique:
            kept.append("\n".join(unique))
    return "\n\n".join(kept)


def _key(text: str) -> str:
    """Return what two copies of a block have in common: case-folded, single-spaced text."""
    return " ".join(text.split()).casefold()


def _drop_repeated_runs(lines: list[str], seen: set[str]) -> list[str]:
    """Drop runs of lines already in `seen` whose text is long enough; add lines to `seen`."""
    kept: list[str] = []
    run: list[str] = []
    for line in [*lines, ""]:
        key = _key(line)
        if key and key in seen:
            run.append(line)
            continue
        if sum(len(part) for part in run) < _MIN_REPEATED_RUN_CHARS:
            kept.extend(run)
        run = []
        if key:
            kept.append(line)
            seen.add(key)
    return kept


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML document or fragment, one paragraph per block.

    Block elements become paragraphs, ``<br>`` and list items line breaks; scripts, styles
    and navigation are dropped. The result goes through clean_text.

    >>> html_to_text("<p>Eins<br>zwei</p><ul><li>a</li><li>b</li></ul><script>x()</script>")
    'Eins\\nzwei\\n\\na\\nb'
    """
    root = _parse(html)
    if root is None:
        return ""
    parts: list[str] = []
    _collect_text(root, parts)
    return clean_text(_BREAKS_RE.sub(_break, "".join(parts)))


def _break(match: re.Match[str]) -> str:
    """Turn a run of break markers into a line break, or a paragraph break for a block or
    for two ``<br>`` in a row (how many editors separate paragraphs)."""
    markers = match.group()
    return "\n\n" if _PARAGRAPH in markers or markers.count(_BR) > 1 else "\n"


def _parse(html: str) -> lxml.html.HtmlElement | None:
    """Parse a document or fragment; None when there is nothing to parse."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _collect_text(element: etree._Element, parts: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else None
    if tag in _DROPPED_TAGS or tag is None:
        # A comment or processing instruction has no tag name; only its tail is text.
        parts.append(_inline(element.tail))
        return
    if tag == "br":
        parts += [_BR, _inline(element.tail)]
        return
    separator = _PARAGRAPH if tag in _BLOCK_TAGS else _LINE if tag in _LINE_TAGS else ""
    parts.append(separator)
    if tag == "pre":
        parts.append(element.text_content())
    else:
        parts.append(_inline(element.text))
        for child in element:
            _collect_text(child, parts)
    parts.append(separator or (" " if tag in _CELL_TAGS else ""))
    parts.append(_inline(element.tail))


def _inline(text: str | None) -> str:
    """Collapse source formatting: a newline in HTML source is a space, not a line break."""
    return re.sub(r"\s+", " ", text) if text else ""


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Return safe, tidy HTML from a fragment: a conservative allow-list, absolute URLs.

    Links get ``rel="noopener noreferrer"``; scripts, styles, event handlers and
    ``javascript:`` URLs go; a block whose text repeats an earlier block is removed, and so
    are elements left empty. Loose text between blocks is wrapped in ``<p>``.

    >>> sanitize_html('<div><p>Hi <a href="/x" onclick="y()">x</a></p><p>Hi x</p></div>',
    ...               "https://example.org/a/")
    '<p>Hi <a href="https://example.org/x" rel="noopener noreferrer">x</a></p>'
    """
    if not html or not html.strip():
        return ""
    source = _parse_fragment(_INVISIBLE_RE.sub("", html))
    if source is None:
        return ""
    _keep_block_boundaries(source)
    cleaned = _nh3_clean(lxml.html.tostring(source, encoding="unicode"))
    root = _parse_fragment(cleaned)
    if root is None:
        return ""
    _absolutise_urls(root, base_url)
    _drop_repeated_blocks(root)
    _drop_empty_elements(root)
    _wrap_loose_inline(root)
    _tidy_whitespace(root)
    body = "\n".join(
        lxml.html.tostring(child, encoding="unicode", with_tail=False).strip() for child in root
    )
    # A second pass costs little and guarantees the rewritten tree is as safe as the first.
    return _nh3_clean(body).strip()


def _parse_fragment(html: str) -> lxml.html.HtmlElement | None:
    """Parse HTML into one ``<div>`` holding the fragment, or the body of a whole document."""
    if not html.strip():
        return None
    try:
        if re.search(r"<(?:html|body)\b", html, re.IGNORECASE):
            document = lxml.html.document_fromstring(html)
            root = document.find("body")
            if root is None:
                return None
            root.tag = "div"
            return root
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def _keep_block_boundaries(root: lxml.html.HtmlElement) -> None:
    """Turn layout blocks nh3 would unwrap into paragraphs, so their texts do not run together.

    A ``<div>`` of inline content becomes a ``<p>``; one holding blocks is unwrapped, its
    loose text wrapped in ``<p>``. ``<h1>`` (the page title's level) becomes ``<h2>``.
    """
    for heading in root.iter("h1"):
        heading.tag = "h2"
    for element in reversed(list(root.iter(*_LAYOUT_TAGS))):
        if element is root:
            continue
        if any(child.tag in _STRUCTURE_TAGS for child in element):
            _wrap_loose_inline(element)
            element.drop_tag()
        else:
            element.tag = "p"


def _nh3_clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        clean_content_tags=_CLEAN_CONTENT_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _absolutise_urls(root: lxml.html.HtmlElement, base_url: str | None) -> None:
    """Resolve links and image sources against `base_url`; drop those that are not web URLs."""
    targets = [(a, "href") for a in root.iter("a")] + [(i, "src") for i in root.iter("img")]
    for element, attribute in targets:
        value = (element.get(attribute) or "").strip()
        url = urljoin(base_url, value) if base_url and value else value
        scheme = urlsplit(url).scheme.lower()
        if url and (scheme in _URL_SCHEMES or (not scheme and not base_url)):
            element.set(attribute, url)
        elif element.tag == "img":
            element.drop_tree()
        else:
            element.drop_tag()  # a link to nowhere is just its text


def _block_key(element: lxml.html.HtmlElement) -> str:
    key = _key(element.text_content())
    if key:
        return key
    images = " ".join(image.get("src", "") for image in element.iter("img"))
    return f"img:{images}" if images.strip() else ""


def _drop_repeated_blocks(root: lxml.html.HtmlElement) -> None:
    """Remove each block whose text equals that of an earlier block (not one containing it)."""
    seen: dict[str, lxml.html.HtmlElement] = {}
    for element in list(root.iter(*_DEDUPE_TAGS)):
        if element.getparent() is None or not _is_attached(element, root):
            continue  # inside a block already removed
        key = _block_key(element)
        if not key:
            continue
        earlier = seen.get(key)
        if earlier is not None and earlier not in element.iterancestors():
            element.drop_tree()  # keeps the tail text
        else:
            seen.setdefault(key, element)


def _is_attached(element: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    return any(ancestor is root for ancestor in element.iterancestors())


def _drop_empty_elements(root: lxml.html.HtmlElement) -> None:
    """Remove elements without text or images, and line breaks at the edges of blocks."""
    for element in reversed(list(root.iter())):
        if element is root:
            continue
        if element.tag == "br":
            if _is_edge_break(element, root):
                element.drop_tree()
            continue
        if element.tag == "img" or element.tag in _VOID_TAGS:
            continue
        if not element.text_content().strip() and next(element.iter("img"), None) is None:
            element.drop_tree()


def _is_edge_break(br: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    """Tell whether a ``<br>`` starts or ends a block (or stands between blocks)."""
    parent = br.getparent()
    if parent is root or parent.tag in _HTML_BLOCK_TAGS - {"p", "li", "dd", "dt", "figcaption"}:
        return True
    before = br.getprevious()
    text_before = (before.tail if before is not None else parent.text) or ""
    nothing_before = before is None and not text_before.strip()
    nothing_after = br.getnext() is None and not (br.tail or "").strip()
    return nothing_before or nothing_after


def _wrap_loose_inline(root: lxml.html.HtmlElement) -> None:
    """Wrap runs of text and inline elements between the blocks of `root` in ``<p>``."""
    items: list[str | lxml.html.HtmlElement] = [root.text or ""]
    for child in list(root):
        tail, child.tail = child.tail or "", None
        root.remove(child)
        items += [child, tail]
    root.text = None
    paragraph: lxml.html.HtmlElement | None = None
    for item in items:
        if isinstance(item, str):
            if item.strip() and paragraph is None:
                paragraph = etree.SubElement(root, "p")
            if paragraph is not None:
                _append_text(paragraph, item)
        elif item.tag in _STRUCTURE_TAGS or not isinstance(item.tag, str):
            paragraph = None
            root.append(item)
        else:
            if paragraph is None:
                paragraph = etree.SubElement(root, "p")
            paragraph.append(item)


def _append_text(element: lxml.html.HtmlElement, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _tidy_whitespace(root: lxml.html.HtmlElement) -> None:
    """Collapse whitespace runs; trim it at the start and end of every block."""
    for element in root.iter():
        if element.text:
            element.text = _SPACES_RE.sub(" ", re.sub(r"\s+", " ", element.text))
        if element.tail:
            element.tail = _SPACES_RE.sub(" ", re.sub(r"\s+", " ", element.tail))
    for element in root.iter(*_HTML_BLOCK_TAGS):
        if element.text:
            element.text = element.text.lstrip()
        last = element[-1] if len(element) else None
        if last is None:
            element.text = (element.text or "").rstrip()
        elif last.tail:
            last.tail = last.tail.rstrip()
        for child in element:
            if child.tag in _HTML_BLOCK_TAGS and child.tail and not child.tail.strip():
                child.tail = None
