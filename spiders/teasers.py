"""Feed items that carry only a teaser ("… [mehr]", an excerpt): their article is fetched once
and its main text taken; an article that cannot be read leaves the teaser and a note."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from regiofeed.models.records import Record
from regiofeed.spiders.base import describe_failure
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.extract import main_content

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


class TeaserFollower:
    """For spiders that read feeds: fetch a teaser's article once, then deliver the record.

    The spider sets `teaser_keys` (records whose entry `is_teaser`), `followed` (URLs already
    requested) and `articles` (count), and delivers records through `_deliver`.
    """

    teaser_keys: set[str]
    followed: set[str]
    articles: int
    page_errors: list[str]
    unchanged_keys: set[str]

    def _deliver(self, records: Iterable[Record]) -> Iterator[Any]:
        yield from records

    def _emit_feed(self, records: list[Record]) -> Iterator[Any]:
        """Deliver a feed's records; a teaser's article is fetched first."""
        for record in records:
            if record.key not in self.teaser_keys or record.kind != "news" or not record.url \
                    or record.url in self.followed or self.articles >= MAX_ARTICLES:
                yield from self._deliver([record])
                continue
            self.followed.add(record.url)
            self.articles += 1
            # Conditional GET (the middleware's default): a 304 keeps last time's article.
            yield scrapy.Request(record.url, callback=self.parse_teaser_article,
                                 errback=self.on_teaser_error, cb_kwargs={"record": record})

    def parse_teaser_article(self, response: Response, record: Record) -> Iterator[Any]:
        if response.status == 304:
            self.unchanged_keys.add(record.key)
            return
        response = repaired(response)
        if not isinstance(response, TextResponse):
            yield from self._deliver([unreachable(record, f"no web page at {response.url}")])
            return
        html, text = main_content(response.text, response.url)
        yield from self._deliver([with_article(record, html, text)])

    def on_teaser_error(self, failure: Failure) -> Iterator[Any]:
        record: Record = failure.request.cb_kwargs["record"]
        why = describe_failure(failure)
        self.page_errors.append(f"teaser kept: {why}")
        yield from self._deliver([unreachable(record, why)])
