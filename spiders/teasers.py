"""Feed items that carry only a teaser ("… [mehr]", an excerpt): their article is fetched once
and its main text taken; an article that cannot be read leaves the teaser and a note."""

from __future__ import annotations

import re
from typing import Any

from spiders.records import Record

# Text cut off with "…", "[…]", "[mehr]" or "Weiterlesen" is a teaser; full content of
# more than twice this length is none.
_SHORT_TEXT = 300
_CUT_RE = re.compile(r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.|&hellip;|&#8230;|mehr)\s*\]|"
                     r"weiterlesen|weiter lesen|read more)\W*$", re.IGNORECASE)
_MORE_LINK_RE = re.compile(r">\s*(?:mehr|weiterlesen|weiter lesen|read more)\s*(?:…|\.\.\.)?"
                           r"\s*</a>\s*\]?\s*$", re.IGNORECASE)
# Articles fetched per feed at most: a feed of 500 teasers is not 500 requests a run.
MAX_ARTICLES = 50


def is_teaser(entry: Any) -> bool:
    """Whether a feedparser entry carries only a teaser of its article.

    >>> is_teaser({"link": "https://s.example/n/1",
    ...            "summary": "Der Anfang ... [<a href='/n/1'>mehr</a>]"})
    True
    >>> is_teaser({"link": "https://s.example/n/1", "summary": "x" * 400,
    ...            "content": [{"value": "<p>" + "y" * 2000 + "</p>"}]})
    False
    """
    if not str(entry.get("link") or "").startswith(("http://", "https://")):
        return False
    if entry.get("content"):
        full = max(len(part.get("value") or "") for part in entry["content"])
        if full > 2 * _SHORT_TEXT:
            return False
    summary = (entry.get("summary") or "").strip()
    if _MORE_LINK_RE.search(summary):
        return True
    # A short text is not yet a teaser (many feeds say all in one sentence): only one cut off.
    text = re.sub(r"<[^>]+>", " ", summary)
    return bool(_CUT_RE.search(" ".join(text.split())))


def with_article(record: Record, html: str, text: str) -> Record:
    """The record with its article's main text instead of the teaser (when it is longer)."""
    if len(text) <= len(record.content_text or ""):
        return record
    summary = record.summary or record.content_text
    return record.model_copy(update={"content_html": html or None, "content_text": text,
                                     "summary": summary})


def unreachable(record: Record, why: str) -> Record:
    """The teaser as it is, with a note that its article could not be read."""
    note = f"only the feed's teaser: the article could not be read ({why})"
    return record.model_copy(update={"notes": [*(record.notes or []), note]})
