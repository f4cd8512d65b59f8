"""RSS 2.0 (https://www.rssboard.org/rss-specification) writer for feed.xml, written as text
(the bytes feedgen wrote, pretty-printed by lxml)."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from regiofeed.publish.context import Item, PublishContext, Source
from regiofeed.publish.feedxml import attr, element, rfc2822, text
from regiofeed.publish.items import (
    body_html,
    first_known_source,
    last_modified,
    published_at,
    scope_home,
)
from regiofeed.publish.licences import rights_statement
from regiofeed.publish.spill import spill_of

PATH = "feed.xml"
MEDIA_TYPE = "application/rss+xml"
# Channel-wide: the items come from many publishers under their own licences.
COPYRIGHT = "Inhalte © der jeweils genannte Herausgeber; Lizenz je Eintrag (dc:rights)"
ROOT = (
    '<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"'
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n'
)
TAIL = b"  </channel>\n</rss>\n"


def render(ctx: PublishContext) -> bytes:
    """Render the newest ``feed_size`` items of the context as an RSS 2.0 channel, newest first.

    The output depends only on the items: lastBuildDate is the newest item change, never the
    build time, so an unchanged store gives byte-identical XML. Every item names its source
    (``<source>``), its publisher and its licence (``dc:publisher``, ``dc:rights``). An item's
    ``<item>`` is written once per run and kept (``publish.spill``) for every other feed.
    """
    items = ctx.feed_items
    built = last_modified(items)
    sources = ctx.source_by_id()
    entries = spill_of(ctx.memo, PATH).gather(items, lambda item: entry(item, sources))
    xml = b"".join((_head(ctx, built), *entries, TAIL))
    if built is None:
        # No dated item: no lastBuildDate (feedgen would have put the build time there, and
        # every empty build would differ). It was cut out of the parsed feed and the feed
        # written again; so it still is, as this is rare and lxml's whitespace is then its own.
        xml = _drop_last_build_date(xml)
    return xml


def _el(indent: str, name: str, value: str) -> str:
    return element(indent, name, value, short_empty=False)


def _head(ctx: PublishContext, built: datetime | None) -> bytes:
    """The XML declaration, <rss>, <channel> and the channel's own elements (feedgen's order)."""
    settings = ctx.settings
    title, description = ctx.title, settings.description or settings.title
    if not (title and description):
        raise ValueError("Required fields not set (title, description)")
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        ROOT,
        "  <channel>\n",
        _el("    ", "title", title),
        # The channel <link> is the scope's page.
        _el("    ", "link", scope_home(ctx)),
        _el("    ", "description", description),
    ]
    if settings.base_url is not None:
        # atom:link rel=self is recommended by the RSS Advisory Board; only with an absolute URL.
        out.append(
            f'    <atom:link href="{attr(ctx.url(PATH))}" rel="self" type="{MEDIA_TYPE}"/>\n'
        )
    out.append(_el("    ", "copyright", COPYRIGHT))
    out.append(_el("    ", "docs", "http://www.rssboard.org/rss-specification"))
    out.append(_el("    ", "generator", "regiofeed"))
    if settings.language:
        out.append(_el("    ", "language", settings.language))
    # Without a dated item, a placeholder that render cuts out again, as feedgen's was.
    out.append(_el("    ", "lastBuildDate", rfc2822(built) if built else "-"))
    return "".join(out).encode("utf-8")


def entry(item: Item, sources: dict[str, Source]) -> bytes:
    """Write one RSS <item>, indented as a child of <channel> (feedgen's order of elements)."""
    ext = item.get("_regiofeed", {})
    out = ["    <item>\n"]
    title = item.get("title") or item["id"]
    description = body_html(item)
    if not (title or description):
        raise ValueError(f"item {item['id']!r}: neither title nor description")
    if title:
        out.append(_el("      ", "title", title))
    if item.get("url"):
        out.append(_el("      ", "link", item["url"]))
    if description:
        out.append(_el("      ", "description", description))
    if item["id"]:
        out.append(f'      <guid isPermaLink="false">{text(item["id"])}</guid>\n')
    for tag in item.get("tags", []):
        out.append(_el("      ", "category", tag))
    # pubDate is when the item was published, also for events (their dates are in the text).
    published = published_at(item)
    if published is not None:
        out.append(_el("      ", "pubDate", rfc2822(published)))
    source = first_known_source(ext.get("sources", []), sources)
    if source is not None and source.get("url"):
        # <source> names the channel the item came from: the configured source.
        name = source.get("name") or ext.get("publisher")
        if name is not None:
            out.append(f'      <source url="{attr(source["url"])}">{text(name)}</source>\n')
    if ext.get("publisher"):
        out.append(_el("      ", "dc:publisher", ext["publisher"]))
    rights = rights_statement(ext.get("publisher"), ext.get("licence"))
    if rights:
        out.append(_el("      ", "dc:rights", rights))
    out.append("    </item>\n")
    return "".join(out).encode("utf-8")


def _drop_last_build_date(xml: bytes) -> bytes:
    """Remove <lastBuildDate> from a serialised feed."""
    root = etree.fromstring(xml)
    for element_ in list(root.iter("lastBuildDate")):
        element_.getparent().remove(element_)
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
