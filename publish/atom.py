"""Atom 1.0 (RFC 4287) writer for atom.xml, via feedgen (as feed.xml), atom:source via lxml."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from regiofeed.publish.context import Item, PublishContext, Source
from regiofeed.publish.items import (
    body_html,
    first_known_source,
    last_modified,
    modified_at,
    published_at,
    scope_home,
)
from regiofeed.publish.licences import licence_label, rights_statement
from regiofeed.publish.splice import spliced

PATH = "atom.xml"
MEDIA_TYPE = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
# atom:updated is required; an empty feed has no item to take it from, and the build time
# would make every empty build differ.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Names ids that are not IRIs themselves (RFC 4287 4.2.6 wants an IRI): urn:uuid from the id.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://regiofeed/atom/")
# XML 1.0 forbids these characters even escaped; a scraped title may still hold one.
# What a source's configured URL serves, by its kind (models/sources.py).
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
    address) and atom:rights (publisher and licence). An item's atom:entry is serialised once
    per run and spliced into every feed that carries it.
    """
    items = ctx.feed_items
    updated = last_modified(items) or EPOCH
    return spliced(ctx, PATH, items, partial(_feed, ctx, updated), b"entry", b"feed")


def _feed(ctx: PublishContext, updated: datetime, items: list[Item]) -> bytes:
    """Write the feed of ``ctx`` with ``items`` (atom:updated ``updated``)."""
    settings = ctx.settings
    sources = ctx.source_by_id()

    fg = FeedGenerator()
    fg.register_extension("extras", BaseExtension, _Extras, atom=True, rss=False)
    fg.id(_feed_id(ctx))
    fg.title(_clean(ctx.title))
    if settings.description:
        fg.subtitle(_clean(settings.description))
    fg.language(settings.language)  # xml:lang on atom:feed
    fg.updated(updated)
    # atom:author is required on the feed unless every entry has one; ours always do, but
    # naming who runs this instance is useful anyway.
    author = {"name": settings.publisher}
    if settings.contact_url:
        author["uri"] = settings.contact_url
    if settings.contact_email:
        author["email"] = settings.contact_email
    fg.author(author)
    if settings.base_url is not None:
        fg.link(href=ctx.url(PATH), rel="self", type=MEDIA_TYPE)
    fg.link(href=scope_home(ctx), rel="alternate", type="text/html")
    fg.rights("Inhalte © der jeweils genannte Herausgeber; Lizenz je Eintrag")
    fg.generator("regiofeed")

    for item in items:
        _add_entry(fg.add_entry(order="append"), item, sources)
    # The elements _Extras adds come out with an ns0: prefix for the Atom namespace; one pass
    # of lxml declares it once, as the default, at the top.
    root = etree.fromstring(fg.atom_str(encoding="UTF-8"))
    etree.cleanup_namespaces(root, top_nsmap={None: ATOM_NS})
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


class _Extras(BaseEntryExtension):  # type: ignore[misc]
    """Entry elements feedgen 1.0 cannot write, appended to its atom:entry as built here.

    feedgen writes an entry's atom:link without its rel and type (its loop variable shadows
    the link), so a related link would turn into a second alternate one, which RFC 4287
    4.1.1 forbids; and its atom:source holds title and link only, where RFC 4287 4.2.11 and
    RFC 4946 allow id, author, licence and rights.
    """

    def __init__(self) -> None:
        # Each adds its elements under the entry (as sub-elements: the entry's namespace map,
        # no ns0 prefixes).
        self.builders: list[Callable[[etree._Element], None]] = []

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for build in self.builders:
            build(entry)
        return entry


def _add_entry(entry: FeedEntry, item: Item, sources: dict[str, Source]) -> None:
    """Fill one atom:entry."""
    ext = item.get("_regiofeed", {})
    entry.id(item_iri(item["id"]))
    entry.title(_clean(item.get("title") or item["id"]))
    entry.updated(modified_at(item) or EPOCH)
    published = published_at(item)
    if published is not None:
        entry.published(published)
    names = [author["name"] for author in item.get("authors", []) if author.get("name")]
    names = names or [ext.get("publisher") or "unbekannt"]
    entry.author([{"name": _clean(name)} for name in names])
    extras: list[Callable[[etree._Element], None]] = entry.extras.builders
    if item.get("url"):
        extras.append(partial(_link, href=item["url"], rel="alternate", media_type="text/html"))
    for url in ext.get("also_at", []):
        # The same story at the other sites that carry it.
        extras.append(partial(_link, href=url, rel="related", media_type="text/html"))
    for tag in item.get("tags", []):
        entry.category(term=_clean(tag))
    if item.get("summary"):
        entry.summary(_clean(item["summary"]))
    entry.content(_clean(body_html(item)), type="html")
    rights = rights_statement(ext.get("publisher"), ext.get("licence"))
    if rights:
        entry.rights(_clean(rights))
    source = first_known_source(ext.get("sources", []), sources)
    if source is not None:
        extras.append(partial(_source, source=source, licence=ext.get("licence")))


def _clean(text: str) -> str:
    """Drop the characters XML 1.0 forbids even escaped (a scraped title may hold one)."""
    return NOT_XML.sub("", text)


def _source(parent: etree._Element, source: Source, licence: str | None) -> None:
    """Add atom:source (RFC 4287 4.2.11): the feed the entry was copied from, as configured."""
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}source")
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


def _text(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}")
    element.text = NOT_XML.sub("", text)
    return element


def _link(parent: etree._Element, href: str, rel: str, media_type: str | None) -> None:
    link = etree.SubElement(parent, f"{{{ATOM_NS}}}link", href=href, rel=rel)
    if media_type:
        link.set("type", media_type)
