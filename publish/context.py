"""Settings and the read-only input every format writer renders from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any

from publish.scopes import ROOT, STREAM_KIND, Scope

Item = dict[str, Any]
"""An item object as in DESIGN.md: JSON Feed 1.1 item plus the ``_regiofeed`` extension."""

Source = dict[str, Any]
"""A configured source: id, name, publisher, url, kind, licence (URI), schedule, and where set
municipality, ags, publisher_url, publisher_email, keywords, themes (EU data theme codes)."""


@dataclass(frozen=True)
class PublishSettings:
    """What the published tree says about itself.

    ``base_url`` is the public URL of the tree (e.g. ``https://example.org/regiofeed/``); when
    it is None, links are relative and feed self-links are left out.
    ``feed_size`` is how many of the newest items go into feed.xml, atom.xml and feed.json.
    ``calendar_past_days``: events.ics carries upcoming events and those whose last day is at
    most this many days ago (data/events.csv carries every event).
    """

    title: str = "regiofeed"
    description: str = "Nachrichten und Veranstaltungen aus der Region"
    base_url: str | None = None
    language: str = "de"
    feed_size: int = 50
    calendar_past_days: int = 30
    # For the DCAT-AP.de catalogue: who runs this instance, how to reach them, GovData's id.
    publisher: str = "regiofeed"
    contact_email: str | None = None
    contact_url: str | None = None
    contributor_id: str | None = None
    datasets_per_page: int = 100
    # What every public-sector page links to (TMG/DDG § 5, DSGVO Art. 13, BITV 2.0 § 7).
    imprint_url: str | None = None
    privacy_url: str | None = None
    accessibility_url: str | None = None

    def __post_init__(self) -> None:
        if self.feed_size < 1:
            raise ValueError(f"feed_size must be at least 1, got {self.feed_size}")
        if self.calendar_past_days < 0:
            raise ValueError(f"calendar_past_days must be >= 0, got {self.calendar_past_days}")
        if self.base_url is not None and not self.base_url.endswith("/"):
            # A base without the trailing slash would make urljoin drop its last segment.
            object.__setattr__(self, "base_url", self.base_url + "/")

    def url_for(self, path: str) -> str:
        """Return the public URL of ``path`` in the tree, or ``path`` itself without base_url.

        >>> PublishSettings(base_url="https://example.org/rf").url_for("feed.xml")
        'https://example.org/rf/feed.xml'
        >>> PublishSettings().url_for("feed.xml")
        'feed.xml'
        """
        return path if self.base_url is None else self.base_url + path


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
        from publish.items import newest_first  # publish.items imports this module

        return newest_first(self.items)

    @cached_property
    def feed_items(self) -> list[Item]:
        """What the feeds carry: the newest ``feed_size`` items, leaving out events that are
        over (``data/`` keeps them). Recent news and upcoming events, as subscribers expect."""
        from publish.dates import event_days

        def current(item: Item) -> bool:
            event = (item.get("_regiofeed") or {}).get("event")
            return not event or event_days(event)[1] >= self.today

        return [item for item in self.newest if current(item)][: self.settings.feed_size]

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

    def for_scope(self, scope: Scope, items: list[Item]) -> PublishContext:
        """Return the context of ``scope`` with its ``items`` (in the order given)."""
        return replace(self, scope=scope, items=items, stream=None)

    def for_stream(self, stream: str) -> PublishContext:
        """Return this scope's context for one stream ("news" or "events"), order kept."""
        kind = STREAM_KIND[stream]
        items = [item for item in self.items if (item.get("_regiofeed") or {}).get("kind") == kind]
        return replace(self, items=items, stream=stream)


STREAM_TITLES = {"news": "Nachrichten", "events": "Veranstaltungen"}
