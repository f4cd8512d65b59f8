"""atom.xml and feed.xml, written as text, equal what feedgen and lxml write for varied items."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import Any

import pytest
from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from regiofeed.publish import PublishSettings, atom, rss
from regiofeed.publish import items as facts
from regiofeed.publish.context import PublishContext
from regiofeed.publish.feedxml import NOT_XML
from regiofeed.publish.licences import licence_label, rights_statement
from regiofeed.publish.scopes import Scope

# ---- The writers as they were, through feedgen and lxml: the reference. -------------------

ATOM_NS = atom.ATOM_NS


def feedgen_atom(ctx: PublishContext) -> bytes:
    """atom.xml of ``ctx`` as feedgen wrote it, cleaned up and indented by lxml."""
    items = ctx.feed_items
    updated = facts.last_modified(items) or atom.EPOCH
    settings, sources = ctx.settings, ctx.source_by_id()
    fg = FeedGenerator()
    fg.register_extension("extras", BaseExtension, _Extras, atom=True, rss=False)
    fg.id(atom._feed_id(ctx))
    fg.title(_clean(ctx.title))
    if settings.description:
        fg.subtitle(_clean(settings.description))
    fg.language(settings.language)
    fg.updated(updated)
    author = {"name": settings.publisher}
    if settings.contact_url:
        author["uri"] = settings.contact_url
    if settings.contact_email:
        author["email"] = settings.contact_email
    fg.author(author)
    if settings.base_url is not None:
        fg.link(href=ctx.url(atom.PATH), rel="self", type=atom.MEDIA_TYPE)
    fg.link(href=facts.scope_home(ctx), rel="alternate", type="text/html")
    fg.rights("Inhalte © der jeweils genannte Herausgeber; Lizenz je Eintrag")
    fg.generator("regiofeed")
    for item in items:
        _atom_entry(fg.add_entry(order="append"), item, sources)
    root = etree.fromstring(fg.atom_str(encoding="UTF-8"))
    etree.cleanup_namespaces(root, top_nsmap={None: ATOM_NS})
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


class _Extras(BaseEntryExtension):  # type: ignore[misc]
    def __init__(self) -> None:
        self.builders: list[Callable[[etree._Element], None]] = []

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for build in self.builders:
            build(entry)
        return entry


def _atom_entry(entry: FeedEntry, item: dict[str, Any], sources: dict[str, Any]) -> None:
    ext = item.get("_regiofeed", {})
    entry.id(atom.item_iri(item["id"]))
    entry.title(_clean(item.get("title") or item["id"]))
    entry.updated(facts.modified_at(item) or atom.EPOCH)
    published = facts.published_at(item)
    if published is not None:
        entry.published(published)
    names = [author["name"] for author in item.get("authors", []) if author.get("name")]
    names = names or [ext.get("publisher") or "unbekannt"]
    entry.author([{"name": _clean(name)} for name in names])
    extras = entry.extras.builders
    if item.get("url"):
        extras.append(partial(_link, href=item["url"], rel="alternate", media_type="text/html"))
    for url in ext.get("also_at", []):
        extras.append(partial(_link, href=url, rel="related", media_type="text/html"))
    for tag in item.get("tags", []):
        entry.category(term=_clean(tag))
    if item.get("summary"):
        entry.summary(_clean(item["summary"]))
    entry.content(_clean(facts.body_html(item)), type="html")
    rights = rights_statement(ext.get("publisher"), ext.get("licence"))
    if rights:
        entry.rights(_clean(rights))
    source = facts.first_known_source(ext.get("sources", []), sources)
    if source is not None:
        extras.append(partial(_source, source=source, licence=ext.get("licence")))


def _clean(text: str) -> str:
    return NOT_XML.sub("", text)


def _source(parent: etree._Element, source: dict[str, Any], licence: str | None) -> None:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}source")
    if source.get("url"):
        _text(element, "id", source["url"])
    _text(element, "title", source.get("name") or source["id"])
    if source.get("url"):
        media_type = atom.SOURCE_MEDIA_TYPES.get(source.get("kind", ""))
        rel = "alternate" if media_type in (None, "text/html") else "self"
        _link(element, source["url"], rel, media_type)
    if source.get("publisher"):
        author = etree.SubElement(element, f"{{{ATOM_NS}}}author")
        _text(author, "name", source["publisher"])
        if source.get("publisher_url"):
            _text(author, "uri", source["publisher_url"])
    licence = source.get("licence") or licence
    if licence:
        _link(element, licence, "license", None)
        _text(element, "rights", licence_label(licence))


def _text(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, f"{{{ATOM_NS}}}{name}").text = NOT_XML.sub("", text)


def _link(parent: etree._Element, href: str, rel: str, media_type: str | None) -> None:
    link = etree.SubElement(parent, f"{{{ATOM_NS}}}link", href=href, rel=rel)
    if media_type:
        link.set("type", media_type)


def feedgen_rss(ctx: PublishContext) -> bytes:
    """feed.xml of ``ctx`` as feedgen wrote it."""
    items = ctx.feed_items
    built = facts.last_modified(items)
    settings, sources = ctx.settings, ctx.source_by_id()
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.title(ctx.title)
    fg.description(settings.description or settings.title)
    fg.language(settings.language)
    fg.generator("regiofeed")
    fg.rights(rss.COPYRIGHT)
    if settings.base_url is not None:
        fg.link(href=ctx.url(rss.PATH), rel="self", type=rss.MEDIA_TYPE)
    fg.link(href=facts.scope_home(ctx), rel="alternate")
    if built is not None:
        fg.lastBuildDate(built)
    for item in items:
        ext = item.get("_regiofeed", {})
        entry = fg.add_entry(order="append")
        entry.guid(item["id"], permalink=False)
        entry.title(item.get("title") or item["id"])
        if item.get("url"):
            entry.link(href=item["url"])
        entry.description(facts.body_html(item))
        published = facts.published_at(item)
        if published is not None:
            entry.pubDate(published)
        for tag in item.get("tags", []):
            entry.category(term=tag)
        source = facts.first_known_source(ext.get("sources", []), sources)
        if source is not None and source.get("url"):
            entry.source(url=source["url"], title=source.get("name") or ext.get("publisher"))
        if ext.get("publisher"):
            entry.dc.dc_publisher(ext["publisher"])
        rights = rights_statement(ext.get("publisher"), ext.get("licence"))
        if rights:
            entry.dc.dc_rights(rights)
    xml: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    if built is None:
        root = etree.fromstring(xml)
        for element in list(root.iter("lastBuildDate")):
            element.getparent().remove(element)
        xml = etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return xml


# ---- Varied input. --------------------------------------------------------------------------

TODAY = date(2026, 12, 7)
# Escaping and encoding at every turn: markup, CDATA's end, quotes, whitespace lxml writes as
# character references, four-byte characters, right-to-left text, C1 and DEL (allowed).
PIECES = (
    "Straße", "&", "<b>", "]]>", "&amp;", '"', "'", "\t", "\n", "\r", "\r\n", "🎉", "👩‍👩‍👧",
    "שלום", "مرحبا", "\u202e", "\x7f", "\x85", "\u2028", "  ", "Bad Belzig", "<!--", "-->",
    "&#x26;", "<![CDATA[", "?>", "\\", "",
)  # fmt: skip
FORBIDDEN = ("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff")
LICENCES = (None, "http://dcat-ap.de/def/licenses/dl-by-de/2.0", "http://example.org/eigene")
KINDS = ("rss", "atom", "jsonfeed", "ical", "html", "jsonld", "sitemap", "auto", "")


def nasty(rng: random.Random, pieces: tuple[str, ...] = PIECES) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))


def make_sources(rng: random.Random) -> list[dict[str, Any]]:
    sources = []
    for number in range(8):
        source: dict[str, Any] = {"id": f"q{number}", "kind": KINDS[number % len(KINDS)]}
        if number % 4:
            source["url"] = f"https://q{number}.example/feed?a=1&b={nasty(rng)}"
        if number % 3:
            source["name"] = nasty(rng)
        if number % 2:
            source["publisher"] = nasty(rng)
        if number % 5 == 1:
            source["publisher_url"] = f"https://pub.example/{number}?x&y"
        if number % 3 == 2:
            source["licence"] = rng.choice(LICENCES[1:])
        sources.append(source)
    return sources


def moment(rng: random.Random) -> str:
    offset = rng.choice(("+01:00", "+02:00", "Z", "+05:30", ""))
    stamp = datetime(2026, 1, 1) + (TODAY - date(2026, 1, 1)) * rng.random()
    text = stamp.replace(microsecond=rng.choice((0, 0, 123456))).isoformat()
    return rng.choice((text + offset, text[:10]))


def make_item(rng: random.Random, number: int, pieces: tuple[str, ...] = PIECES) -> dict:
    ext: dict[str, Any] = {
        "kind": rng.choice(("news", "event")),
        "sources": rng.sample(["q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "gone"], 2),
    }
    if rng.random() < 0.8:
        ext["publisher"] = nasty(rng, pieces)
    if rng.random() < 0.7:
        ext["licence"] = rng.choice(LICENCES)
    if rng.random() < 0.3:
        ext["also_at"] = [f"https://other.example/{number}?a&b=\"{k}\"" for k in range(2)]
    if ext["kind"] == "event" and rng.random() < 0.8:
        ext["event"] = {"start": f"2026-12-{rng.randint(1, 28):02d}T18:00:00+01:00",
                        "all_day": False,
                        "location": {"name": nasty(rng, pieces), "locality": "Görzke"}}
        if rng.random() < 0.2:
            ext["event"]["status"] = "cancelled"
    item: dict[str, Any] = {
        "id": rng.choice((f"rf-{number}", f"https://ex.org/i/{number}?a&b", f"id {number}")),
        "title": nasty(rng, pieces) if rng.random() < 0.95 else "",
        "_regiofeed": ext,
    }
    for key, chance in (("date_published", 0.8), ("date_modified", 0.6)):
        if rng.random() < chance:
            item[key] = moment(rng)
    if rng.random() < 0.8:
        item["url"] = f"https://q.example/{number}?x=1&y=<{number}>"
    body = rng.random()
    if body < 0.5:
        item["content_html"] = f"<p>{nasty(rng, pieces)}</p>"
    elif body < 0.8:
        item["content_text"] = f"{nasty(rng, pieces)}\n\n{nasty(rng, pieces)}"
    if rng.random() < 0.3:
        item["summary"] = nasty(rng, pieces)
    if rng.random() < 0.6:
        item["tags"] = [nasty(rng, pieces) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.2:
        item["authors"] = [{"name": nasty(rng, pieces)}, {"url": "https://a.example/"}, {}]
    return item


SETTINGS = (
    PublishSettings(title="Hoher Fläming & <Partheland>",
                    base_url="https://daten.example.org/hf/?a&b", contact_email="d@example.org"),
    PublishSettings(title="regiofeed", description="Neues \"aus\" der Region ]]> 🎉",
                    contact_url="https://example.org/kontakt", contact_email="d@example.org"),
    PublishSettings(title="ohne Sprache", language="", publisher=""),
)  # fmt: skip


def contexts(items: list[dict], sources: list[dict]) -> list[PublishContext]:
    """The root, a source scope and the news stream, under each of the settings."""
    result = []
    for settings in SETTINGS:
        ctx = PublishContext(items, sources, {}, settings, TODAY)
        scope = Scope("sources/q1/", "Quelle <1> & Co", "source", "q1")
        result += [ctx, replace(ctx, scope=scope, memo={}), ctx.for_stream("news")]
    return result


@pytest.mark.parametrize("seed", range(12))
def test_feeds_equal_feedgens_output_on_varied_items(seed: int) -> None:
    rng = random.Random(seed)
    sources = make_sources(rng)
    items = [make_item(rng, number) for number in range(rng.choice((0, 1, 5, 60)))]
    for ctx in contexts(items, sources):
        assert atom.render(ctx) == feedgen_atom(ctx)
        assert rss.render(ctx) == feedgen_rss(ctx)
    assert not items or contexts(items, sources)[0].feed_items  # the feeds carry entries


def test_kept_entries_make_the_same_feeds_as_entries_written_whole() -> None:
    rng = random.Random(99)
    sources = make_sources(rng)
    items = [make_item(rng, number) for number in range(80)]
    shared: dict[Any, Any] = {}  # one run's memo: entries are written once, then kept
    for ctx in contexts(items, sources):
        assert atom.render(replace(ctx, memo=shared)) == feedgen_atom(ctx)
        assert rss.render(replace(ctx, memo=shared)) == feedgen_rss(ctx)


def test_undated_and_empty_feeds_have_no_last_build_date_as_before() -> None:
    rng = random.Random(5)
    sources = make_sources(rng)
    undated = [make_item(rng, number) for number in range(4)]
    for item in undated:
        item.pop("date_published", None)
        item.pop("date_modified", None)
        item["_regiofeed"].pop("event", None)
    for items in ([], undated):
        for ctx in contexts(items, sources):
            written = rss.render(ctx)
            assert written == feedgen_rss(ctx)
            assert b"lastBuildDate" not in written
            assert atom.render(ctx) == feedgen_atom(ctx)


def test_forbidden_characters_are_dropped_from_atom_and_refused_in_rss_as_before() -> None:
    rng = random.Random(7)
    sources = make_sources(rng)
    for number in range(40):
        item = make_item(rng, number, PIECES + FORBIDDEN)
        item["title"] = nasty(rng) + rng.choice(FORBIDDEN) + "x"
        item["_regiofeed"].pop("event", None)  # an event that is over is in no feed
        ctx = PublishContext([item], sources, {}, SETTINGS[0], TODAY)
        assert atom.render(ctx) == feedgen_atom(ctx)
        etree.fromstring(atom.render(ctx))  # well-formed
        with pytest.raises(ValueError):
            feedgen_rss(ctx)
        with pytest.raises(ValueError):
            rss.render(ctx)
    # Where lxml refused an uncleaned value in atom.xml (an address), so does the writer.
    item = make_item(rng, 1)
    item["url"] = "https://q.example/\x01"
    ctx = PublishContext([item], sources, {}, SETTINGS[0], TODAY)
    with pytest.raises(ValueError):
        feedgen_atom(ctx)
    with pytest.raises(ValueError):
        atom.render(ctx)


def test_written_feeds_parse_back_to_the_text_given() -> None:
    rng = random.Random(11)
    sources = make_sources(rng)
    items = [make_item(rng, number) for number in range(30)]
    ctx = PublishContext(items, sources, {}, SETTINGS[0], TODAY)
    assert len(ctx.feed_items) > 10
    ns = {"a": ATOM_NS}
    feed = etree.fromstring(atom.render(ctx))
    channel = etree.fromstring(rss.render(ctx)).find("channel")
    for item, entry, rss_item in zip(
        ctx.feed_items, feed.findall("a:entry", ns), channel.findall("item"), strict=True
    ):
        title = _clean(item.get("title") or item["id"])
        assert entry.findtext("a:title", namespaces=ns) == title
        assert (rss_item.findtext("title") or "") == (item.get("title") or item["id"])
        assert [c.get("term") for c in entry.findall("a:category", ns)] == [
            _clean(tag) for tag in item.get("tags", [])
        ]
        assert entry.findtext("a:id", namespaces=ns) == atom.item_iri(item["id"])
