"""Atom 1.0 (RFC 4287) writer for atom.xml, written as text (the bytes feedgen and lxml wrote)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from regiofeed.publish.context import Item, PublishContext, Source
from regiofeed.publish.feedxml import attr, clean, element, text
from regiofeed.publish.items import (
    body_html,
    first_known_source,
    last_modified,
    modified_at,
    published_at,
    scope_home,
)
from regiofeed.publish.licences import licence_label, rights_statement
from regiofeed.publish.spill import spill_of

PATH = "atom.xml"
MEDIA_TYPE = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
# atom:updated is required; an empty feed has no item to take it from, and the build time
# would make every empty build differ.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Names ids that are not IRIs themselves (RFC 4287 4.2.6 wants an IRI): urn:uuid from the id.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://regiofeed/atom/")
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
# The file was feedgen's output, parsed back by lxml, indented by two spaces and written again:
# an empty element is written short (<x/>), and nothing follows the closing tag.
TAIL = b"</feed>"


def render(ctx: PublishContext) -> bytes:
    """Render the newest ``feed_size`` items of the context as an Atom 1.0 feed, newest first.

    atom:updated is the newest item change, never the build time, so unchanged content gives
    byte-identical XML. Every entry carries atom:source (the configured source: its name and
    address) and atom:rights (publisher and licence). An item's atom:entry is written once per
    run and kept (``publish.spill``) for every other feed that carries it.
    """
    items = ctx.feed_items
    sources = ctx.source_by_id()
    entries = spill_of(ctx.memo, PATH).gather(items, lambda item: entry(item, sources))
    return b"".join((_head(ctx, last_modified(items) or EPOCH), *entries, TAIL))


def _el(indent: str, name: str, value: str) -> str:
    return element(indent, name, value, short_empty=True)


def _head(ctx: PublishContext, updated: datetime) -> bytes:
    """The XML declaration, <feed> and the feed's own elements (feedgen's order)."""
    settings = ctx.settings
    title = clean(ctx.title)
    if not title:
        raise ValueError("Required fields not set (title)")
    lang = f' xml:lang="{attr(settings.language)}"' if settings.language else ""
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        f'<feed xmlns="{ATOM_NS}"{lang}>\n',
        _el("  ", "id", _feed_id(ctx)),
        _el("  ", "title", title),
        _el("  ", "updated", updated.isoformat()),
    ]
    # atom:author is required on the feed unless every entry has one; ours always do, but
    # naming who runs this instance is useful anyway.
    if settings.publisher:
        out += ["  <author>\n", _el("    ", "name", settings.publisher)]
        if settings.contact_email:
            out.append(_el("    ", "email", settings.contact_email))
        if settings.contact_url:
            out.append(_el("    ", "uri", settings.contact_url))
        out.append("  </author>\n")
    if settings.base_url is not None:
        out.append(_link("  ", ctx.url(PATH), "self", MEDIA_TYPE))
    out.append(_link("  ", scope_home(ctx), "alternate", "text/html"))
    out.append(_el("  ", "generator", "regiofeed"))
    out.append(_el("  ", "rights", "Inhalte © der jeweils genannte Herausgeber; Lizenz je Eintrag"))
    subtitle = clean(settings.description) if settings.description else ""
    if subtitle:
        out.append(_el("  ", "subtitle", subtitle))
    return "".join(out).encode("utf-8")


def entry(item: Item, sources: dict[str, Source]) -> bytes:
    """Write one atom:entry, indented as a child of <feed> (feedgen's order of elements, then
    the links and atom:source feedgen 1.0 cannot write: it drops an entry link's rel and type,
    and its atom:source holds title and link only, where RFC 4287 4.2.11 and RFC 4946 allow
    id, author, licence and rights)."""
    ext = item.get("_regiofeed", {})
    title = clean(item.get("title") or item["id"])
    if not title:
        raise ValueError(f"item {item['id']!r}: no title")
    out = [
        "  <entry>\n",
        _el("    ", "id", item_iri(item["id"])),
        _el("    ", "title", title),
        _el("    ", "updated", (modified_at(item) or EPOCH).isoformat()),
    ]
    names = [author["name"] for author in item.get("authors", []) if author.get("name")]
    for name in map(clean, names or [ext.get("publisher") or "unbekannt"]):
        if name:  # Atom requires a name: feedgen skipped an author without one
            out += ["    <author>\n", _el("      ", "name", name), "    </author>\n"]
    content = clean(body_html(item))
    if content:
        out.append(f'    <content type="html">{text(content)}</content>\n')
    else:
        out.append('    <content type="html"/>\n')
    if item.get("summary"):
        out.append(_el("    ", "summary", clean(item["summary"])))
    for tag in item.get("tags", []):
        out.append(f'    <category term="{attr(clean(tag))}"/>\n')
    published = published_at(item)
    if published is not None:
        out.append(_el("    ", "published", published.isoformat()))
    rights = clean(rights_statement(ext.get("publisher"), ext.get("licence")) or "")
    if rights:
        out.append(_el("    ", "rights", rights))
    if item.get("url"):
        out.append(_link("    ", item["url"], "alternate", "text/html"))
    for url in ext.get("also_at", []):
        # The same story at the other sites that carry it.
        out.append(_link("    ", url, "related", "text/html"))
    source = first_known_source(ext.get("sources", []), sources)
    if source is not None:
        out.append(_source(source, ext.get("licence")))
    out.append("  </entry>\n")
    return "".join(out).encode("utf-8")


def _source(source: Source, licence: str | None) -> str:
    """atom:source (RFC 4287 4.2.11): the feed the entry was copied from, as configured."""
    out = ["    <source>\n"]
    if source.get("url"):
        out.append(_el("      ", "id", clean(source["url"])))
    out.append(_el("      ", "title", clean(source.get("name") or source["id"])))
    if source.get("url"):
        # A feed source is the feed the entry was copied from (rel=self, its media type); a web
        # page is its alternate; "auto" may be either, so it is not typed.
        media_type = SOURCE_MEDIA_TYPES.get(source.get("kind", ""))
        rel = "alternate" if media_type in (None, "text/html") else "self"
        out.append(_link("      ", source["url"], rel, media_type))
    if source.get("publisher"):
        out += ["      <author>\n", _el("        ", "name", clean(source["publisher"]))]
        if source.get("publisher_url"):
            out.append(_el("        ", "uri", clean(source["publisher_url"])))
        out.append("      </author>\n")
    licence = source.get("licence") or licence
    if licence:
        out.append(_link("      ", licence, "license", None))  # RFC 4946: the source's licence
        out.append(_el("      ", "rights", clean(licence_label(licence))))
    out.append("    </source>\n")
    return "".join(out)


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


def _link(indent: str, href: str, rel: str, media_type: str | None) -> str:
    kind = f' type="{attr(media_type)}"' if media_type else ""
    return f'{indent}<link href="{attr(href)}" rel="{rel}"{kind}/>\n'
