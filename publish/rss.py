"""RSS 2.0 (https://www.rssboard.org/rss-specification) writer for feed.xml, via feedgen."""

from __future__ import annotations

from html import escape

from feedgen.feed import FeedGenerator
from lxml import etree

from publish.context import Item, PublishContext, Source
from publish.dates import format_event_when
from publish.items import event_place, last_modified, newest_first, published_at

PATH = "feed.xml"
MEDIA_TYPE = "application/rss+xml"


def render(ctx: PublishContext) -> bytes:
    """Render the newest ``feed_size`` items as an RSS 2.0 channel, newest first.

    The output depends only on the items: lastBuildDate is the newest item change, never the
    build time, so an unchanged store gives byte-identical XML.
    """
    settings = ctx.settings
    items = newest_first(ctx.items)[: settings.feed_size]
    sources = ctx.source_by_id()

    fg = FeedGenerator()
    fg.title(settings.title)
    fg.description(settings.description or settings.title)
    fg.language(settings.language)
    fg.generator("regiofeed")
    if settings.base_url is not None:
        # atom:link rel=self is recommended by the RSS Advisory Board; only with an absolute URL.
        fg.link(href=settings.url_for(PATH), rel="self", type=MEDIA_TYPE)
    # feedgen takes the channel <link> from the last link added.
    fg.link(href=settings.base_url or "./", rel="alternate")
    built = last_modified(items)
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
    entry.description(_description(item))
    # pubDate is when the item was published, also for events (their dates are in the text).
    published = published_at(item)
    if published is not None:
        entry.pubDate(published)
    for tag in item.get("tags", []):
        entry.category(term=tag)
    source = _first_known_source(ext.get("sources", []), sources)
    if source is not None and source.get("url"):
        # <source> names the channel the item came from: the configured source.
        entry.source(url=source["url"], title=source.get("name") or ext.get("publisher"))


def _description(item: Item) -> str:
    """Return the item's body as HTML (content_html, else escaped text).

    Events start with a line saying when and where.
    """
    body = item.get("content_html")
    if not body:
        text = item.get("content_text") or item.get("summary") or ""
        body = "".join(f"<p>{escape(para)}</p>" for para in text.split("\n\n") if para.strip())
    event = item.get("_regiofeed", {}).get("event")
    if not event:
        return body
    # Feed readers show only the description, so say when and where the event is.
    lines = [escape(format_event_when(event))]
    place = event_place(event)
    if place:
        lines.append(escape(place))
    return f"<p><strong>{'<br/>'.join(lines)}</strong></p>{body}"


def _first_known_source(ids: list[str], sources: dict[str, Source]) -> Source | None:
    """Return the first of the item's sources that is configured, or None."""
    return next((sources[source_id] for source_id in ids if source_id in sources), None)


def _drop_last_build_date(xml: bytes) -> bytes:
    """Remove <lastBuildDate> from a serialised feed."""
    root = etree.fromstring(xml)
    for element in list(root.iter("lastBuildDate")):
        element.getparent().remove(element)
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
