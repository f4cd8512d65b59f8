"""Auto's step 5: the repeated blocks of a list page, their detail pages, and further list pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from regiofeed.models.normalise.urls import canonical_url
from regiofeed.spiders.auto_state import (
    _entry,
    _ListState,
    _prefix,
)
from regiofeed.spiders.blocks import DOCUMENT_SUFFIXES, BlockList, page_topic
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.extract import EVENT_KEY_SUFFIX, ListEntry
from regiofeed.spiders.listpage import find_list_blocks
from regiofeed.spiders.middlewares import CONDITIONAL
from regiofeed.spiders.pages import records_from_page
from regiofeed.spiders.pagination import find_next_page
from regiofeed.spiders.selectors import detail_facts


class ListSteps:
    """Read a list page's blocks, follow them to their detail pages and through the pagination."""

    def _start_list(self, response: TextResponse, blocks: BlockList, hop: int,
                    home: bool = False) -> Iterator[Any]:
        heading = " ".join(" ".join(response.css("h1 ::text").getall()).split())
        # A home page's headings name the whole site's topics, not its list's.
        topic = None if home else page_topic(response.url, heading)
        event_list = self.source.item_kind == "event" or (
            self.source.item_kind is None and topic == "events")
        source = self.source
        if event_list and source.item_kind is None:
            # An events page lists events, not news announcing them.
            source = source.model_copy(update={"item_kind": "event"})
        state = _ListState(name=f"list {response.url}", signature=blocks.signature,
                           source=source, event_list=event_list, first=blocks,
                           prefix=_prefix(hop, response.url))
        state.seen.add(canonical_url(response.url))
        yield from self._list_page(response, blocks, state)

    def _list_page(self, response: TextResponse, blocks: BlockList,
                   state: _ListState) -> Iterator[Any]:
        state.pages += 1
        state.blocks += len(blocks.blocks)
        self._note(state.name, state.describe())
        today = date.today()
        for block in blocks.blocks:
            entry = _entry(block, state.event_list, today)
            if not block.link or urlsplit(block.link).path.lower().endswith(DOCUMENT_SUFFIXES):
                # A PDF or office file: the list says all we can read.
                yield from self._emit(records_from_page(state.source, entry, response.url))
                continue
            if block.link in self.followed:
                continue
            self.followed.add(block.link)
            yield response.follow(block.link, callback=self.parse_detail,
                                  errback=self.on_detail_error,
                                  cb_kwargs={"entry": entry, "list_url": response.url,
                                             "state": state})
        if state.pages >= self.source.max_pages:
            return
        exclude = {block.link for block in blocks.blocks if block.link}
        next_url = find_next_page(response.text, response.url, exclude=exclude)
        if next_url and canonical_url(next_url) not in state.seen:
            state.seen.add(canonical_url(next_url))
            # Further list pages are fetched in full: a 304 would not say which items they hold.
            yield scrapy.Request(next_url, callback=self.parse_list, errback=self.on_page_error,
                                 cb_kwargs={"state": state}, meta={CONDITIONAL: False})

    def parse_list(self, response: Response, state: _ListState) -> Iterator[Any]:
        response = repaired(response)
        if not isinstance(response, TextResponse):
            return
        blocks = find_list_blocks(response.text, response.url, signature=state.signature)
        if blocks is None:
            self.page_errors.append(f"no list found on the further page {response.url}")
            return
        yield from self._list_page(response, blocks, state)

    def parse_detail(self, response: Response, entry: ListEntry, list_url: str,
                     state: _ListState) -> Iterator[Any]:
        key = canonical_url(response.url)
        if self.not_modified(response, key=key):
            self.unchanged_keys.add(key + EVENT_KEY_SUFFIX)
            return
        response = repaired(response)
        if not isinstance(response, TextResponse):
            yield from self._emit(records_from_page(state.source, entry, list_url))
            return
        yield from self._emit(records_from_page(
            state.source, entry, list_url, detail_html=response.text, detail_url=response.url,
            detail=detail_facts(response, None),
        ))

    def on_detail_error(self, failure: Failure) -> Iterator[Any]:
        """A detail page failed: note it, and keep what the list page said."""
        self.on_page_error(failure)
        kwargs = failure.request.cb_kwargs
        yield from self._emit(records_from_page(kwargs["state"].source, kwargs["entry"],
                                                kwargs["list_url"]))
