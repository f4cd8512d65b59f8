"""Auto's steps 1 and 2: the URL as a feed or calendar, then the feeds a page names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from regiofeed.models.records import Record
from regiofeed.spiders.auto_state import (
    _FEED_KINDS,
    _MAX_FEED_TRIES,
    _content_type,
    _FeedAttempt,
    _items,
    _prefix,
)
from regiofeed.spiders.base import describe_failure
from regiofeed.spiders.blocks import page_topic
from regiofeed.spiders.degraded import read_feed
from regiofeed.spiders.discover import (
    FeedLink,
    choose_feeds,
    find_feeds,
    sniff,
)
from regiofeed.spiders.event_feed import as_event_feed
from regiofeed.spiders.extract import records_from_entry
from regiofeed.spiders.feed import feed_input
from regiofeed.spiders.ical import records_from_ical
from regiofeed.spiders.jsonfeed import NotAJsonFeed, parse_json_feed
from regiofeed.spiders.middlewares import CONDITIONAL
from regiofeed.spiders.probes import ProbeLink, cms_probes, with_probes
from regiofeed.spiders.teasers import is_teaser


class FeedSteps:
    """Read the URL as a feed, or find and try the feeds and calendars of the page."""

    def _feed_records(self, response: Response, kind: str | None) -> list[Record] | None:
        """Read a feed or calendar response; None when it is none."""
        if kind == "ical":
            try:
                return records_from_ical(response.body, self.source, response.url)
            except ValueError:
                return None
        title: str | None = None
        if kind == "jsonfeed":
            try:
                entries = parse_json_feed(response.body)
            except NotAJsonFeed:
                return None
        elif kind in ("rss", "atom"):
            body, headers = feed_input(response)
            parsed, degraded = read_feed(body, headers, response.url)
            self.page_errors.extend(degraded)
            if not parsed.entries and not parsed.get("version"):
                return None
            entries = parsed.entries
            title = parsed.feed.get("title")
        else:
            return None
        source = as_event_feed(self.source, title, response.url, entries)
        records = []
        for entry in entries:
            found = records_from_entry(entry, source, response.url)
            if found and self.source.follow_teasers and is_teaser(entry):
                self.teaser_keys.add(found[0].key)
            records += found
        return records

    def _discover(self, response: TextResponse, hop: int) -> Iterator[Any]:
        title = " ".join(response.css("title::text").get(default="").split())
        plan = choose_feeds(find_feeds(response.text, response.url), response.url, title)
        # Ask the CMS first: its feeds at their known addresses (spiders.probes).
        topic = page_topic(response.url, title)
        probes = [probe for probe in cms_probes(response.text, response.url, topic)
                  if not (topic == "news" and probe.family == "calendar")
                  and not (topic == "events" and probe.family == "feed")]
        if probes:
            plan = with_probes(plan, probes)
        if plan:
            yield from self._next_feed(_FeedAttempt(page=response, hop=hop, families=plan))
            return
        yield from self._without_feeds(response, hop)

    def _next_feed(self, attempt: _FeedAttempt) -> Iterator[Any]:
        while attempt.family < len(attempt.families):
            candidates = attempt.families[attempt.family]
            if attempt.index < min(len(candidates), _MAX_FEED_TRIES):
                feed = candidates[attempt.index]
                attempt.index += 1
                if feed.url in self.followed:
                    continue
                self.followed.add(feed.url)
                yield scrapy.Request(feed.url, callback=self.parse_feed,
                                     errback=self.on_feed_error, dont_filter=True,
                                     cb_kwargs={"attempt": attempt, "feed": feed},
                                     meta={CONDITIONAL: False})
                return
            attempt.family += 1
            attempt.index = 0
        if not attempt.used:
            yield from self._without_feeds(attempt.page, attempt.hop)

    def parse_feed(self, response: Response, attempt: _FeedAttempt, feed: FeedLink) -> Any:
        kind = sniff(response.body, _content_type(response))
        records = self._feed_records(response, kind) if kind in _FEED_KINDS else None
        if records:
            found = replace(feed, kind=kind or feed.kind)
            attempt.used.append(feed.url)
            prefix = _prefix(attempt.hop, attempt.page.url)
            self._note(f"feed {feed.url}",
                       f"{prefix}{found.describe()}, {_items(len(records))}"
                       f"{self._teasers_note()}")
            yield from self._emit_feed(records)
            attempt.family += 1
            attempt.index = 0
        else:
            self.tried.append(f"{feed.url}: {'no items' if records is not None else 'no feed'}")
            if isinstance(feed, ProbeLink):
                self.probe_misses.append(
                    f"{feed.describe()}: {'no items' if records is not None else 'no feed'}")
        yield from self._next_feed(attempt)

    def on_feed_error(self, failure: Failure) -> Iterator[Any]:
        self.tried.append(describe_failure(failure))
        feed = failure.request.cb_kwargs["feed"]
        if isinstance(feed, ProbeLink):
            self.probe_misses.append(f"{feed.describe()}: {describe_failure(failure)}")
        yield from self._next_feed(failure.request.cb_kwargs["attempt"])
