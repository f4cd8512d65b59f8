"""OPML 2.0 (http://opml.org/spec2.opml) writer for feeds.opml: every feed of the tree, to
import into a feed reader at once."""

from __future__ import annotations

from email.utils import format_datetime

from lxml import etree

from regiofeed.publish.context import PublishContext
from regiofeed.publish.items import last_modified
from regiofeed.publish.scopes import FEED_RSS, INDEX_HTML, scopes

PATH = "feeds.opml"
MEDIA_TYPE = "text/x-opml"
KIND_TITLES = {"all": "Region", "municipality": "Gemeinden", "source": "Quellen"}


def render(ctx: PublishContext) -> bytes:
    """Render one outline per scope (the region, each municipality, each source), each with
    its RSS feed and, below it, its news-only and events-only feeds.

    Addresses are absolute with ``base_url``, else relative to feeds.opml (the root).
    dateModified is the newest item change, so an unchanged store gives identical bytes.
    """
    settings = ctx.settings
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{settings.title} – alle Feeds"
    changed = last_modified(ctx.items)
    if changed is not None:
        etree.SubElement(head, "dateModified").text = format_datetime(changed)  # RFC 822
    if settings.contact_email:
        etree.SubElement(head, "ownerEmail").text = settings.contact_email
    body = etree.SubElement(root, "body")
    tree = list(ctx.scopes) or scopes(ctx.sources, ctx.items)
    for kind in ("all", "municipality", "source"):
        members = [scope for scope in tree if scope.kind == kind]
        if not members:
            continue
        group = etree.SubElement(body, "outline", text=KIND_TITLES[kind])
        for scope in members:
            title = scope.title or settings.title
            outline = _feed(group, title, scope.file(FEED_RSS), scope.path + INDEX_HTML, ctx)
            for stream, label in (("news", "Nachrichten"), ("events", "Veranstaltungen")):
                _feed(outline, f"{title} – {label}", scope.file(FEED_RSS, stream),
                      scope.path + INDEX_HTML, ctx)  # fmt: skip
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)


def _feed(parent: etree._Element, title: str, feed: str, page: str,
          ctx: PublishContext) -> etree._Element:
    url = ctx.settings.url_for
    return etree.SubElement(parent, "outline", type="rss", text=title, title=title,
                            xmlUrl=url(feed), htmlUrl=url(page))  # fmt: skip

