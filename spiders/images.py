"""The first image of a feed item or page: enclosure, media:content, or an <img>, with its alt."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import lxml.html

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg")


def _is_image(url: str, mime: str | None) -> bool:
    if mime:
        return mime.lower().startswith("image/")
    return url.lower().split("?", 1)[0].endswith(_IMAGE_SUFFIXES)


def first_img(html: str | None, base: str | None) -> tuple[str, str | None] | None:
    """Return (absolute src, alt text) of the first <img> in `html` with a real source.

    >>> first_img('<p>x</p><img src="data:," alt=""><img src="/a.jpg" alt="Rathaus">', "https://s.example/n")
    ('https://s.example/a.jpg', 'Rathaus')
    """
    if not html or "<img" not in html.lower():
        return None
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return None
    for img in root.iter("img"):
        src = (img.get("src") or img.get("data-src") or "").strip()
        if not src or src.startswith("data:"):
            continue
        # Tracking pixels and spacers are no pictures of the item.
        if img.get("width") in ("0", "1") or img.get("height") in ("0", "1"):
            continue
        alt = " ".join((img.get("alt") or "").split()) or None
        return (urljoin(base or "", src), alt)
    return None


def entry_image(entry: Any, html: str | None, base: str | None) -> tuple[str, str | None] | None:
    """The first image of a feedparser entry: enclosure, then media:content or media:thumbnail,
    then the first <img> of its HTML; alt text from media:description or the <img>."""
    for enclosure in entry.get("enclosures") or []:
        href = enclosure.get("href") or enclosure.get("url")
        if href and _is_image(href, enclosure.get("type")):
            return (urljoin(base or "", href), None)
    for media in list(entry.get("media_content") or []) + list(entry.get("media_thumbnail")
                                                              or []):
        url = media.get("url")
        if url and (media.get("medium") == "image" or _is_image(url, media.get("type"))):
            alt = entry.get("media_description") or None
            return (urljoin(base or "", url), alt if isinstance(alt, str) else None)
    return first_img(html, base)
