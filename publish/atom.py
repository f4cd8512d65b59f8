"""Atom 1.0 (RFC 4287) writer for atom.xml, built with lxml."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from lxml import etree

from publish.context import Item, PublishContext, Source
from publish.items import (
    body_html,
    first_known_source,
    last_modified,
    modified_at,
    published_at,
    scope_home,
)
from publish.licences import licence_label, rights_statement

PATH = "atom.xml"
MEDIA_TYPE = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
# atom:updated is required; an empty feed has no item to take it from, and the build time
# would make every empty build differ.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Names ids that are not IRIs themselves (RFC 4287 4.2.6 wants an IRI): urn:uuid from the id.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://regiofeed/atom/")
# XML 1.0 forbids these characters even escaped; a scraped title may still hold one.
# What a source's configured URL serves, by its kind (spiders/sources.py).
SOURCE_MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "jsonfeed": "application/feed+json",
    "ical": "text/calendar",
    "html": "text/html",
    "jsonld": "text/html",
    "sitemap": "application/xml",
}
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(ctx: PublishContext) -> bytes:
    """Render the newest ``feed_size`` items of the context as an Atom 1.0 feed, newest first.

    atom:updated is the newest item change, never the build time, so unchanged content gives
    byte-identical XML. Every entry carries atom:source (the configured source: its name and
    address) and atom:rights (publisher and licence).
    """
    settings = ctx.settings
    items = ctx.feed_items
    sources = ctx.source_by_id()

    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", settings.language)
    _text(feed, "id", _feed_id(ctx))
    _text(feed, "title", ctx.title)
    if settings.description:
        _text(feed, "subtitle", settings.description)
    _text(feed, "updated", _instant(last_modified(items) or EPOCH))
    # atom:author is required on the feed unless every entry has one; ours always do, but
    # naming who runs this instance is useful anyway.
    author = etree.SubElement(feed, f"{{{ATOM_NS}}}author")
    _text(author, "name", settings.publisher)
    if settings.contact_url:
        _text(author, "uri", settings.contact_url)
    if settings.contact_email:
        _text(author, "email", settings.contact_email)
    if settings.base_url is not None:
        _link(feed, ctx.url(PATH), "self", MEDIA_TYPE)
    _link(feed, scope_home(ctx), "alternate", "text/html")
    _text(feed, "rights", "Inhalte © der jeweils genannte Herausgeber; Lizenz je Eintrag")
    _text(feed, "generator", "regiofeed")

    for item in items:
        feed.append(_entry(item, sources))
    return etree.tostring(feed, pretty_print=True, encoding="UTF-8", xml_declaration=True)


def _entry(item: Item, sources: dict[str, Source]) -> etree._Element:
    """Build one atom:entry."""
    ext = item.get("_regiofeed", {})
    entry = etree.Element(f"{{{ATOM_NS}}}entry")
    _text(entry, "id", item_iri(item["id"]))
    _text(entry, "title", item.get("title") or item["id"])
    updated = modified_at(item) or EPOCH
    _text(entry, "updated", _instant(updated))
    published = published_at(item)
    if published is not None:
        _text(entry, "published", _instant(published))
    names = [author["name"] for author in item.get("authors", []) if author.get("name")]
    for name in names or [ext.get("publisher") or "unbekannt"]:
        author = etree.SubElement(entry, f"{{{ATOM_NS}}}author")
        _text(author, "name", name)
    if item.get("url"):
        _link(entry, item["url"], "alternate", "text/html")
    for url in ext.get("also_at", []):
        # The same story at the other sites that carry it.
        _link(entry, url, "related", "text/html")
    for tag in item.get("tags", []):
        etree.SubElement(entry, f"{{{ATOM_NS}}}category", term=tag)
    if item.get("summary"):
        _text(entry, "summary", item["summary"])
    content = _text(entry, "content", body_html(item))
    content.set("type", "html")
    rights = rights_statement(ext.get("publisher"), ext.get("licence"))
    if rights:
        _text(entry, "rights", rights)
    source = first_known_source(ext.get("sources", []), sources)
    if source is not None:
        entry.append(_source(source, ext.get("licence")))
    return entry


def _source(source: Source, licence: str | None) -> etree._Element:
    """Build atom:source (RFC 4287 4.2.11): the feed the entry was copied from, as configured."""
    element = etree.Element(f"{{{ATOM_NS}}}source")
    if source.get("url"):
        _text(element, "id", source["url"])
    _text(element, "title", source.get("name") or source["id"])
    if source.get("url"):
        # A feed source is the feed the entry was copied from (rel=self, its media type); a web
        # page is its alternate; "auto" may be either, so it is not typed.
        media_type = SOURCE_MEDIA_TYPES.get(source.get("kind", ""))
        rel = "alternate" if media_type in (None, "text/html") else "self"
        _link(element, source["url"], rel, media_type)
    if source.get("publisher"):
        author = etree.SubElement(element, f"{{{ATOM_NS}}}author")
        _text(author, "name", source["publisher"])
        if source.get("publisher_url"):
            _text(author, "uri", source["publisher_url"])
    licence = source.get("licence") or licence
    if licence:
        _link(element, licence, "license", None)  # RFC 4946: the licence of the source feed
        _text(element, "rights", licence_label(licence))
    return element


def item_iri(item_id: str) -> str:
    """Return the atom:id of an item: the id itself if it is an IRI, else a urn:uuid from it.

    >>> item_iri("05045e442d35d178eef3")
    'urn:uuid:61698b98-46af-50e6-abcd-98353dde6469'
    >>> item_iri("https://example.org/items/1")
    'https://example.org/items/1'
    """
    if ":" in item_id and " " not in item_id:
        return item_id
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, item_id)}"


def _feed_id(ctx: PublishContext) -> str:
    """Return the feed's atom:id: its own URL when known, else a urn:uuid of title and path."""
    if ctx.settings.base_url is not None:
        return ctx.url(PATH)
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, ctx.settings.title + '/' + ctx.path(PATH))}"


def _instant(moment: datetime) -> str:
    """Format an RFC 3339 date-time in UTC, seconds precision (RFC 4287 3.3)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}")
    element.text = NOT_XML.sub("", text)
    return element


def _link(parent: etree._Element, href: str, rel: str, media_type: str | None) -> None:
    link = etree.SubElement(parent, f"{{{ATOM_NS}}}link", href=href, rel=rel)
    if media_type:
        link.set("type", media_type)
