"""RSS 2.0 (https://www.rssboard.org/rss-specification) writer for feed.xml, via feedgen."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from feedgen.feed import FeedGenerator
from lxml import etree

from regiofeed.publish.context import Item, PublishContext, Source
from regiofeed.publish.items import (
    body_html,
    first_known_source,
    last_modified,
    published_at,
    scope_home,
)
from regiofeed.publish.licences import rights_statement
from regiofeed.publish.splice import spliced

PATH = "feed.xml"
MEDIA_TYPE = "application/rss+xml"
# Channel-wide: the items come from many publishers under their own licences.
COPYRIGHT = "Inhalte © der jeweils genannte Herausgeber; Lizenz je Eintrag (dc:rights)"


def render(ctx: PublishContext) -> bytes:
    """Render the newest ``feed_size`` items of the context as an RSS 2.0 channel, newest first.

    The output depends only on the items: lastBuildDate is the newest item change, never the
    build time, so an unchanged store gives byte-identical XML. Every item names its source
    (``<source>``), its publisher and its licence (``dc:publisher``, ``dc:rights``). An item's
    ``<item>`` is serialised once per run and spliced into every feed that carries it.
    """
    items = ctx.feed_items
    built = last_modified(items)
    return spliced(ctx, PATH, items, partial(_channel, ctx, built), b"item", b"channel")


def _channel(ctx: PublishContext, built: datetime | None, items: list[Item]) -> bytes:
    """Write the channel of ``ctx`` with ``items`` (lastBuildDate ``built``)."""
    settings = ctx.settings
    sources = ctx.source_by_id()
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.title(ctx.title)
    fg.description(settings.description or settings.title)
    fg.language(settings.language)
    fg.generator("regiofeed")
    fg.rights(COPYRIGHT)
    if settings.base_url is not None:
        # atom:link rel=self is recommended by the RSS Advisory Board; only with an absolute URL.
        fg.link(href=ctx.url(PATH), rel="self", type=MEDIA_TYPE)
    # feedgen takes the channel <link> from the last link added: the scope's page.
    fg.link(href=scope_home(ctx), rel="alternate")
    if built is not None:
        fg.lastBuildDate(built)

    for item in items:
        _add_entry(fg, item, sources)

    xml: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    if built is None:
        # feedgen falls back to the build time, which would make every empty build differ.
        xml = _drop_last_build_date(xml)
    return xml


def _add_entry(fg: FeedGenerator, item: Item, sources: dict[str, Source]) -> None:
    """Add one item as an RSS <item>; appended, so the channel keeps our order."""
    ext = item.get("_regiofeed", {})
    entry = fg.add_entry(order="append")
    entry.guid(item["id"], permalink=False)
    entry.title(item.get("title") or item["id"])
    if item.get("url"):
        entry.link(href=item["url"])
    entry.description(body_html(item))
    # pubDate is when the item was published, also for events (their dates are in the text).
    published = published_at(item)
    if published is not None:
        entry.pubDate(published)
    for tag in item.get("tags", []):
        entry.category(term=tag)
    source = first_known_source(ext.get("sources", []), sources)
    if source is not None and source.get("url"):
        # <source> names the channel the item came from: the configured source.
        entry.source(url=source["url"], title=source.get("name") or ext.get("publisher"))
    if ext.get("publisher"):
        entry.dc.dc_publisher(ext["publisher"])
    rights = rights_statement(ext.get("publisher"), ext.get("licence"))
    if rights:
        entry.dc.dc_rights(rights)


def _drop_last_build_date(xml: bytes) -> bytes:
    """Remove <lastBuildDate> from a serialised feed."""
    root = etree.fromstring(xml)
    for element in list(root.iter("lastBuildDate")):
        element.getparent().remove(element)
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
