"""Settings and the read-only input every format writer renders from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from itertools import islice
from typing import Any

from regiofeed.models.sources import PublishConfig
from regiofeed.publish.dates import event_days
from regiofeed.publish.items import Item, Source, newest_first
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

    def source_by_id(self) -> dict[str, Source]:
        """Return the configured sources keyed by id."""
        return self._sources_by_id

    @cached_property
    def _sources_by_id(self) -> dict[str, Source]:
        return {source["id"]: source for source in self.sources}

    @cached_property
    def newest(self) -> list[Item]:
        """The items newest first (see ``items.newest_first``), sorted once per context."""
        return self.items if self.ordered else newest_first(self.items)

    @cached_property
    def feed_items(self) -> list[Item]:
        """What the feeds carry: the newest ``feed_size`` items, leaving out events that are
        over (``data/`` keeps them). Recent news and upcoming events, as subscribers expect."""
        def current(item: Item) -> bool:
            event = (item.get("_regiofeed") or {}).get("event")
            return not event or event_days(event)[1] >= self.today

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
        self, scope: Scope, items: list[Item], *, ordered: bool = False
    ) -> PublishContext:
        """Return the context of ``scope`` with its ``items`` (in the order given; ``ordered``
        says that order is newest first)."""
        return replace(self, scope=scope, items=items, stream=None, ordered=ordered)

    def for_stream(self, stream: str) -> PublishContext:
        """Return this scope's context for one stream ("news" or "events"), order kept."""
        kind = STREAM_KIND[stream]
        items = [item for item in self.items if (item.get("_regiofeed") or {}).get("kind") == kind]
        return replace(self, items=items, stream=stream)


STREAM_TITLES = {"news": "Nachrichten", "events": "Veranstaltungen"}
