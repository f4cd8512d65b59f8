"""Settings and the read-only input every format writer renders from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property
from itertools import islice
from typing import Any

from regiofeed.models.sources import PublishConfig
from regiofeed.publish.items import (
    Item,
    ItemFacts,
    Source,
    item_facts,
    newest_first,
    soonest_first,
)
from regiofeed.publish.scopes import ROOT, STREAM_KIND, Scope

# The `[publish]` table of sources.toml is what the published tree says about itself.
PublishSettings = PublishConfig


@dataclass(frozen=True)
class PublishContext:
    """Everything a format needs; each format's ``render(ctx) -> bytes`` reads only this.

    ``items`` are the items of ``scope`` (and of ``stream``, when set): a writer renders what
    it is given and asks ``ctx.path``/``ctx.url`` where its file goes. ``scopes`` lists every
    scope of the tree (for links between them); empty means "just this one".
    ``today`` is the calendar day in Europe/Berlin that "upcoming" is relative to (index.html
    and events.ics use it).
    """

    items: list[Item]
    sources: list[Source]
    health: dict[str, Any]
    settings: PublishSettings
    today: date
    scope: Scope = ROOT
    stream: str | None = None
    scopes: tuple[Scope, ...] = field(default=())
    # True when ``items`` are already newest first (as render_all deals them): ``newest`` is
    # then the list itself, not a sort of 100,000 items per scope and stream.
    ordered: bool = False
    # Shared by every context derived from one (for_scope, for_stream): writers keep what they
    # made of one item here, keyed by (format, item id), so an item in five scopes is rendered
    # once. Only valid for one publish run, which is all a context lives for.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    # The items of this context in the orders of ORDERS, by name, when the caller sorted all
    # items once and dealt them to the scopes; any other order is made here when asked.
    dealt: dict[str, list[Item]] = field(default_factory=dict, compare=False, repr=False)

    def source_by_id(self) -> dict[str, Source]:
        """Return the configured sources keyed by id."""
        return self._sources_by_id

    @cached_property
    def _sources_by_id(self) -> dict[str, Source]:
        return {source["id"]: source for source in self.sources}

    @cached_property
    def newest(self) -> list[Item]:
        """The items newest first (see ``items.newest_first``), sorted once per context."""
        return self.items if self.ordered else newest_first(self.items, self.memo)

    def sorted_as(self, name: str) -> list[Item]:
        """The items (or some of them) in the order ``name`` of ORDERS, made once per context."""
        found = self.dealt.get(name)
        if found is None:
            found = self._orders.get(name)
            if found is None:
                found = self._orders[name] = ORDERS[name](self)
        return found

    @cached_property
    def _orders(self) -> dict[str, list[Item]]:
        return {}

    @property
    def by_id(self) -> list[Item]:
        """The items ordered by id (the dumps' and tables' order)."""
        return self.sorted_as("by_id")

    @property
    def events_soonest(self) -> list[Item]:
        """The events (items with an event start) soonest first, ties by id."""
        return self.sorted_as("soonest")

    def facts(self, item: Item) -> ItemFacts:
        """What the writers parse from ``item``'s dates, parsed once per run."""
        return item_facts(item, self.memo)

    @cached_property
    def feed_items(self) -> list[Item]:
        """What the feeds carry: the newest ``feed_size`` items, leaving out events that are
        over (``data/`` keeps them). Recent news and upcoming events, as subscribers expect."""
        def current(item: Item) -> bool:
            last_day = self.facts(item).last_day
            return last_day is None or last_day >= self.today

        # Stops at feed_size: a scope of 100,000 items looks at the newest few only.
        return list(islice(filter(current, self.newest), self.settings.feed_size))

    def path(self, name: str) -> str:
        """Return the tree path of file ``name`` in this context's scope and stream.

        >>> ctx = PublishContext([], [], {}, PublishSettings(), date(2024, 9, 1), stream="news")
        >>> ctx.path("feed.xml")
        'news/feed.xml'
        """
        return self.scope.file(name, self.stream)

    def url(self, name: str) -> str:
        """Return the public URL of file ``name`` here (relative when there is no base_url)."""
        return self.settings.url_for(self.path(name))

    @property
    def title(self) -> str:
        """The title of this scope's feeds, e.g. "regiofeed – Bad Belzig – Veranstaltungen"."""
        parts = [self.settings.title]
        if self.scope.title:
            parts.append(self.scope.title)
        if self.stream:
            parts.append(STREAM_TITLES[self.stream])
        return " – ".join(parts)

    def for_scope(
        self,
        scope: Scope,
        items: list[Item],
        *,
        ordered: bool = False,
        dealt: dict[str, list[Item]] | None = None,
    ) -> PublishContext:
        """Return the context of ``scope`` with its ``items`` (in the order given; ``ordered``
        says that order is newest first; ``dealt`` has them in orders of ORDERS already)."""
        return replace(
            self, scope=scope, items=items, stream=None, ordered=ordered, dealt=dealt or {}
        )

    def for_stream(self, stream: str, items: list[Item] | None = None) -> PublishContext:
        """Return this scope's context for one stream ("news" or "events"), order kept;
        ``items`` are the scope's items of that stream when the caller has them."""
        if items is None:
            kind = STREAM_KIND[stream]
            items = [
                item for item in self.items if (item.get("_regiofeed") or {}).get("kind") == kind
            ]
        return replace(self, items=items, stream=stream, dealt={})


STREAM_TITLES = {"news": "Nachrichten", "events": "Veranstaltungen"}


def _by_id(ctx: PublishContext) -> list[Item]:
    return sorted(ctx.items, key=lambda item: str(item.get("id", "")))


def _soonest(ctx: PublishContext) -> list[Item]:
    return soonest_first(ctx.items, ctx.memo)


def _calendar(ctx: PublishContext) -> list[Item]:
    oldest = ctx.today - timedelta(days=ctx.settings.calendar_past_days)
    return [item for item in ctx.events_soonest if _last_day(ctx, item) >= oldest]


def _page_order(ctx: PublishContext) -> Callable[[Item], tuple[Any, ...]]:
    """The page's order of events: start instant, then title and id for a total order."""
    facts = ctx.facts
    return lambda item: (facts(item).soonest, item.get("title", ""), item.get("id", ""))


def _upcoming(ctx: PublishContext) -> list[Item]:
    events = [item for item in ctx.events_soonest if _last_day(ctx, item) >= ctx.today]
    # Sorted by start already: this only breaks ties by title.
    return sorted(events, key=_page_order(ctx))


def _past(ctx: PublishContext) -> list[Item]:
    events = [item for item in ctx.events_soonest if _last_day(ctx, item) < ctx.today]
    return sorted(events, key=_page_order(ctx), reverse=True)


def _changed(ctx: PublishContext) -> list[Item]:
    facts = ctx.facts
    changed = [item for item in ctx.newest if facts(item).changed is not None]
    # Stable: of equal instants, the first in ``newest`` order comes first (last_modified).
    changed.sort(key=lambda item: facts(item).changed or 0.0, reverse=True)
    return changed


def _last_day(ctx: PublishContext, item: Item) -> date:
    return ctx.facts(item).last_day or date.min  # every event with a start has one


ORDERS: dict[str, Callable[[PublishContext], list[Item]]] = {
    "by_id": _by_id,  # every item by id: the dumps and tables
    "soonest": _soonest,  # events soonest first, ties by id: events.csv
    "calendar": _calendar,  # of those, the ones events.ics carries (calendar_past_days)
    "upcoming": _upcoming,  # events not over by today, in the page's order
    "past": _past,  # events over before today, most recent first
    "changed": _changed,  # items with a date, last changed first: [0] is the newest change
}
"""Orders of a scope's items the writers ask for; publish_all sorts all items once in each
and deals them to the scopes (PublishContext.dealt), in place of a sort per scope."""
