"""Settings and the read-only input every format writer renders from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
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
    # The same items ordered by id and the events among them soonest first, when the caller
    # dealt them so (see ``by_id`` and ``events_soonest``); None: sorted here when asked.
    ids: list[Item] | None = field(default=None, compare=False, repr=False)
    soonest: list[Item] | None = field(default=None, compare=False, repr=False)

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

    @cached_property
    def by_id(self) -> list[Item]:
        """The items ordered by id (the dumps' and tables' order)."""
        if self.ids is not None:
            return self.ids
        return sorted(self.items, key=lambda item: str(item.get("id", "")))

    @cached_property
    def events_soonest(self) -> list[Item]:
        """The events (items with an event start) soonest first, ties by id."""
        if self.soonest is not None:
            return self.soonest
        return soonest_first(self.items, self.memo)

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
        ids: list[Item] | None = None,
        soonest: list[Item] | None = None,
    ) -> PublishContext:
        """Return the context of ``scope`` with its ``items`` (in the order given; ``ordered``
        says that order is newest first; ``ids`` and ``soonest`` are the same items ordered
        as ``by_id`` and ``events_soonest`` say, when the caller has them)."""
        return replace(
            self, scope=scope, items=items, stream=None, ordered=ordered, ids=ids, soonest=soonest
        )

    def for_stream(self, stream: str) -> PublishContext:
        """Return this scope's context for one stream ("news" or "events"), order kept."""
        kind = STREAM_KIND[stream]
        items = [item for item in self.items if (item.get("_regiofeed") or {}).get("kind") == kind]
        return replace(self, items=items, stream=stream, ids=None, soonest=None)


STREAM_TITLES = {"news": "Nachrichten", "events": "Veranstaltungen"}
