"""Settings and the read-only input every format writer renders from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

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
    ``feed_size`` is how many of the newest items go into feed.xml and feed.json.
    """

    title: str = "regiofeed"
    description: str = "Nachrichten und Veranstaltungen aus der Region"
    base_url: str | None = None
    language: str = "de"
    feed_size: int = 50
    # For the DCAT-AP.de catalogue: who runs this instance, how to reach them, GovData's id.
    publisher: str = "regiofeed"
    contact_email: str | None = None
    contact_url: str | None = None
    contributor_id: str | None = None
    datasets_per_page: int = 100

    def __post_init__(self) -> None:
        if self.feed_size < 1:
            raise ValueError(f"feed_size must be at least 1, got {self.feed_size}")
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

    ``today`` is the calendar day in Europe/Berlin that "upcoming" is relative to (only
    index.html uses it).
    """

    items: list[Item]
    sources: list[Source]
    health: dict[str, Any]
    settings: PublishSettings
    today: date

    def source_by_id(self) -> dict[str, Source]:
        """Return the configured sources keyed by id."""
        return {source["id"]: source for source in self.sources}
