"""schema.org Event and Article records from JSON-LD, microdata and RDFa (read by extruct)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any

import extruct
import scrapy
from extruct.jsonld import JsonLdExtractor
from extruct.rdfa import RDFaExtractor
from extruct.utils import parse_html, parse_xmldom_html
from pydantic import TypeAdapter, ValidationError
from scrapy.http import Response, TextResponse

from regiofeed.models.normalise.dates import parse_date
from regiofeed.models.normalise.places import parse_location
from regiofeed.models.normalise.text import clean_text, html_to_text, sanitize_html
from regiofeed.models.normalise.urls import canonical_url
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.models.sources import Source
from regiofeed.spiders.base import SourceSpider
from regiofeed.spiders.encoding import repaired
from regiofeed.spiders.extract import (
    EVENT_KEY_SUFFIX,
    event_from_text,
    main_content,
    place_and_online,
    split_announced,
)

_SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:", "http://www.schema.org/")
# schema.org Article and the subtypes news sites use.
_ARTICLE_TYPES = {
    "Article", "NewsArticle", "BlogPosting", "LiveBlogPosting", "Report", "AnalysisNewsArticle",
    "BackgroundNewsArticle", "OpinionNewsArticle", "ReportageNewsArticle", "ReviewNewsArticle",
    "AskPublicQuestionAction", "SocialMediaPosting", "TechArticle", "SatiricalArticle",
}
# Types that are named "*Event" but are no events one can go to.
_NOT_EVENTS = {"PublicationEvent", "BroadcastEvent", "OnDemandEvent"}
# Event subtypes whose names do not end in "Event".
_OTHER_EVENTS = {"EventSeries", "Festival", "Hackathon"}
_STATUS = {"EventCancelled": "cancelled", "EventPostponed": "postponed",
           "EventRescheduled": "rescheduled"}
_DURATION = TypeAdapter(timedelta)
# Nesting deeper than this is no real page's markup; it guards against reference cycles.
_MAX_DEPTH = 12


@dataclass
class StructuredPage:
    """What a page's schema.org data says: full records, and items that are only a link."""

    records: list[Record] = field(default_factory=list)
    # (detail URL, what the list says about it or None): followed by the JsonLdSpider.
    stubs: list[tuple[str, Record | None]] = field(default_factory=list)


def records_from_structured(html: str | bytes, url: str, source: Source) -> list[Record]:
    """Return the schema.org Events and Articles embedded in a page as records.

    JSON-LD (with `@graph` and `@id` references), microdata and RDFa are read alike. An
    Article that announces an Event yields both (see spiders.extract.split_announced). Items
    that only link to their page (an ItemList of URLs) are left out; the JsonLdSpider follows
    them. Markup that cannot be read gives no records, never an exception.
    """
    page = structured_page(html, url, source)
    return page.records + [stub for _, stub in page.stubs if stub is not None]


def structured_page(html: str | bytes, url: str, source: Source) -> StructuredPage:
    """Read a page's schema.org data into records and links to follow (see above)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    page = StructuredPage()
    if not html.strip():
        return page
    seen: set[str] = set()
    found = _Finder()
    for node in schema_nodes(html, url):
        found.walk(node)
    for article, events in found.articles:
        records = _article_records(article, events, html, url, source)
        if len(records) == 1 and _is_teaser(article, records[0], url):
            page.stubs.append((records[0].key, records[0]))
        else:
            _add(page, records, seen)
    sole = len(found.events) == 1 and not found.articles
    for node in found.events:
        record = _event_record(node, url, source, sole=sole)
        if record is None:
            link = _url(node.get("url"), url)
            if link and canonical_url(link) != canonical_url(url):
                page.stubs.append((link, None))
            continue
        _add(page, [record], seen)
    for link in found.links:
        try:
            link = canonical_url(link, url)
        except ValueError:  # mailto:, tel:, javascript: skip that entry, never the page
            continue
        if link not in seen and link != canonical_url(url):
            page.stubs.append((link, None))
    # Keep the first of several items with one link, and never a link to what we already have.
    unique: dict[str, Record | None] = {}
    for link, stub in page.stubs:
        if link not in seen and (link not in unique or unique[link] is None):
            unique[link] = stub
    page.stubs = list(unique.items())
    return page


def _is_teaser(node: dict[str, Any], record: Record, page_url: str) -> bool:
    """Whether an Article is a list page's teaser: it links elsewhere and has no body."""
    return not node.get("articleBody") and record.key != canonical_url(page_url)


def _add(page: StructuredPage, records: list[Record], seen: set[str]) -> None:
    for record in records:
        if record.key in seen:
            continue
        seen.add(record.key)
        page.records.append(record)


def schema_nodes(html: str, url: str) -> list[dict[str, Any]]:
    """Return the page's top-level schema.org nodes, compacted: short types and keys, nested.

    Each JSON-LD block and each syntax is read on its own, so one broken block hides nothing
    else on the page.
    """
    nodes: list[dict[str, Any]] = []
    if not _may_hold_schema(html):
        return nodes
    try:
        document = parse_html(html.encode("utf-8"), encoding="utf-8")
    except Exception:  # lxml gives up only on input that is no markup at all
        return nodes
    reader = JsonLdExtractor()
    blocks: list[Any] = []
    for script in document.xpath('//script[@type="application/ld+json"]'):
        try:
            blocks.extend(reader.extract_items(script))
        except Exception:  # not JSON even after extruct's clean-up: skip this block
            continue
    nodes.extend(_jsonld_nodes(blocks))
    try:
        data = extruct.extract(document, base_url=url, syntaxes=["microdata"], uniform=True,
                               errors="strict")
        nodes.extend(_compact([i for i in data.get("microdata") or [] if isinstance(i, dict)]))
    except Exception:  # broken microdata means no data in it
        pass
    nodes.extend(_rdfa(html, url))
    return nodes


# What a page must contain to hold schema.org data in any of the three syntaxes: attribute
# names are literal in HTML (in any case); an attribute value, such as a script's type, may
# be written with character references, so a page with a script and an "&" is read in full.
_ITEMSCOPE_RE = re.compile("itemscope", re.IGNORECASE)
_SCRIPT_RE = re.compile("<script", re.IGNORECASE)


def _may_hold_schema(html: str) -> bool:
    """False when `schema_nodes` would find nothing without parsing the page (most pages).

    >>> _may_hold_schema("<p>Text</p>"), _may_hold_schema('<div ItemScope itemtype="x">')
    (False, True)
    """
    if "property=" in html or "typeof=" in html:  # RDFa: read by `_rdfa`
        return True
    if "application/ld+json" in html or _ITEMSCOPE_RE.search(html):
        return True
    return "&" in html and _SCRIPT_RE.search(html) is not None


def _rdfa(html: str, url: str) -> list[dict[str, Any]]:
    """Read RDFa with pyRdfa (through extruct), which needs its own kind of parsed tree."""
    if "property=" not in html and "typeof=" not in html:
        return []
    try:
        document = parse_xmldom_html(html.encode("utf-8"), encoding="utf-8")
        # HTML+RDFa 1.1 (§3.1): a <time> element's value is its datetime attribute, which
        # pyRdfa does not read; as @content it is what RDFa takes first.
        for element in document.xpath("//time[@property and @datetime and not(@content)]"):
            element.set("content", element.get("datetime"))
        expanded = RDFaExtractor().extract_items(document, base_url=url)
    except Exception:  # broken RDFa means no data in it
        return []
    return _rdfa_nodes([item for item in expanded if isinstance(item, dict)])


def _short(term: str) -> str:
    """'https://schema.org/Event' → 'Event'."""
    for prefix in _SCHEMA_PREFIXES:
        if term.startswith(prefix):
            return term[len(prefix):]
    return term


def _compact(value: Any) -> Any:
    """Shorten schema.org IRIs in keys and @type values (microdata, prefixed JSON-LD)."""
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "@type":
            out[key] = [_short(t) for t in item if isinstance(t, str)] if isinstance(item, list) \
                else _short(item) if isinstance(item, str) else item
        else:
            out[_short(key)] = _compact(item)
    return out


def _jsonld_nodes(items: list[Any]) -> list[dict[str, Any]]:
    """Flatten arrays and @graph, and replace {"@id": …} references by the nodes they name."""
    roots: list[dict[str, Any]] = []

    def collect(obj: Any) -> None:
        if isinstance(obj, list):
            for item in obj:
                collect(item)
        elif isinstance(obj, dict):
            if "@graph" in obj:
                collect(obj["@graph"])
            else:
                roots.append(_compact(obj))

    collect(items)
    by_id: dict[str, dict[str, Any]] = {}

    def index(obj: Any, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(obj, list):
            for item in obj:
                index(item, depth + 1)
        elif isinstance(obj, dict):
            ident = obj.get("@id")
            if isinstance(ident, str) and len(obj) > 1:
                by_id.setdefault(ident, obj)
            for value in obj.values():
                index(value, depth + 1)

    index(roots, 0)

    def resolve(obj: Any, depth: int, trail: frozenset[str]) -> Any:
        if depth > _MAX_DEPTH:
            return obj
        if isinstance(obj, list):
            return [resolve(item, depth + 1, trail) for item in obj]
        if not isinstance(obj, dict):
            return obj
        ident = obj.get("@id")
        if isinstance(ident, str) and len(obj) == 1:
            target = by_id.get(ident)
            if target is None or ident in trail:
                return ident
            obj, trail = target, trail | {ident}
        elif isinstance(ident, str):
            trail = trail | {ident}
        return {key: resolve(value, depth + 1, trail) for key, value in obj.items()}

    return [resolve(root, 0, frozenset()) for root in roots]


def _rdfa_nodes(expanded: list[Any]) -> list[dict[str, Any]]:
    """Turn extruct's RDFa (flat, expanded JSON-LD) into nested, compacted nodes."""
    nodes = [n for n in expanded if isinstance(n, dict)]
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    referenced = {
        value["@id"]
        for node in nodes for key, values in node.items() if not key.startswith("@")
        for value in (values if isinstance(values, list) else [values])
        if isinstance(value, dict) and "@id" in value
    }

    def convert(node: dict[str, Any], trail: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        types = node.get("@type") or []
        out["@type"] = [_short(t) for t in (types if isinstance(types, list) else [types])]
        ident = node.get("@id")
        if isinstance(ident, str) and not ident.startswith("_:"):
            out["@id"] = ident
        for key, values in node.items():
            if key.startswith("@"):
                continue
            converted = []
            for value in values if isinstance(values, list) else [values]:
                if not isinstance(value, dict):
                    continue
                if "@value" in value:
                    converted.append(value["@value"])
                elif "@id" in value:
                    target = by_id.get(value["@id"])
                    if target is not None and value["@id"] not in trail and len(trail) < _MAX_DEPTH:
                        converted.append(convert(target, trail | {value["@id"]}))
                    else:
                        converted.append(value["@id"])
            if converted:
                out[_short(key)] = converted[0] if len(converted) == 1 else converted
        return out

    return [convert(n, frozenset({n["@id"]}) if isinstance(n.get("@id"), str) else frozenset())
            for n in nodes if n.get("@type") and n.get("@id") not in referenced]


def _types(node: dict[str, Any]) -> set[str]:
    """The node's types, with `additionalType` (microdata's way to give a second type)."""
    values: list[Any] = []
    for key in ("@type", "additionalType"):
        value = node.get(key)
        values.extend(value if isinstance(value, list) else [value])
    return {_short(v) for v in values if isinstance(v, str)}


def is_event(node: dict[str, Any]) -> bool:
    """Tell whether a node is a schema.org Event (any subtype one can attend)."""
    return any((t.endswith("Event") and t not in _NOT_EVENTS) or t in _OTHER_EVENTS
               for t in _types(node))


def is_article(node: dict[str, Any]) -> bool:
    """Tell whether a node is a schema.org Article, NewsArticle, BlogPosting or the like."""
    return bool(_types(node) & _ARTICLE_TYPES)


class _Finder:
    """Walk nodes, collecting Articles (with the Events inside them), Events and bare links."""

    def __init__(self) -> None:
        self.articles: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.events: list[dict[str, Any]] = []
        self.links: list[str] = []
        self._seen: set[int] = set()

    def walk(self, node: Any, article: list[dict[str, Any]] | None = None, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(node, list):
            for item in node:
                self.walk(item, article, depth + 1)
            return
        if not isinstance(node, dict) or id(node) in self._seen:
            return
        self._seen.add(id(node))
        if is_event(node):
            (article if article is not None else self.events).append(node)
            return
        if is_article(node):
            events: list[dict[str, Any]] = []
            self.articles.append((node, events))
            article = events
        elif "ListItem" in _types(node) and not isinstance(node.get("item"), dict):
            # An ItemList of links: the item's page carries the data.
            link = _text(node.get("url")) or _text(node.get("item"))
            if link:
                self.links.append(link)
            return
        for key, value in node.items():
            if not key.startswith("@"):
                self.walk(value, article, depth + 1)


def _text(value: Any) -> str | None:
    """The first text of a value: a string, a number, {"@value"}, or a list of those."""
    if isinstance(value, list):
        return next((t for t in (_text(v) for v in value) if t), None)
    if isinstance(value, dict):
        return _text(value.get("@value") if "@value" in value else value.get("@id"))
    if isinstance(value, bool) or value is None:
        return None
    # Writers leave HTML entities in JSON-LD strings ("Kinder &amp; Jugend").
    return clean_text(unescape(str(value))) or None


def _name(value: Any) -> str | None:
    """A person's, organisation's or thing's name; several names joined by commas."""
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        return _text(value.get("name")) or _text(value.get("legalName"))
    text = _text(value)
    return text.removeprefix("mailto:") if text else None


def _url(value: Any, base: str) -> str | None:
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    text = _text(value)
    if not text or text.startswith("_:"):
        return None
    try:
        return canonical_url(text, base)
    except ValueError:
        return None


def _body(value: Any, base: str) -> tuple[str | None, str | None]:
    """(sanitised HTML, plain text) of a description that may or may not be HTML."""
    text = _text(value) if not isinstance(value, str) else value
    if not text or not text.strip():
        return None, None
    if "<" in text and ">" in text:
        return sanitize_html(text, base) or None, html_to_text(text) or None
    # Plain text, though JSON-LD writers often leave HTML entities in it ("&mdash;").
    return None, clean_text(unescape(text)) or None


def _whole_days(
    start: date | datetime, end: date | datetime | None
) -> tuple[date | datetime, date | datetime | None]:
    """T00:00:00–T23:59:59 (or a midnight start without end) is an all-day event: its days,
    the last one inclusive."""
    if not isinstance(start, datetime) or (start.hour, start.minute, start.second) != (0, 0, 0):
        return start, end
    if end is None:
        return start.date(), None
    if isinstance(end, datetime) and (end.hour, end.minute) == (23, 59):
        return start.date(), end.date()
    return start, end


def _event_info(node: dict[str, Any], base: str) -> EventInfo | None:
    """When, where and how an Event happens, as schema.org says it; None without a start."""
    start = parse_date(_text(node.get("startDate")) or "")
    if start is None:
        return None
    end = parse_date(_text(node.get("endDate")) or "")
    start, end = _whole_days(start, end)
    all_day = not isinstance(start, datetime)
    if all_day and isinstance(end, datetime):
        end = end.date()
    if end is None and not all_day and _text(node.get("duration")):
        try:
            end = start + _DURATION.validate_python(_text(node.get("duration")))
        except ValidationError:
            end = None
    if end is not None and (type(end) is not type(start) or end <= start):  # type: ignore[operator]
        end = None
    location, online, online_url = _location(node.get("location"), base)
    mode = _short(_text(node.get("eventAttendanceMode")) or "")
    if mode in ("OnlineEventAttendanceMode", "MixedEventAttendanceMode"):
        online = True
    status_name = _short(_text(node.get("eventStatus")) or "").rsplit("/", 1)[-1]
    if status_name == "EventMovedOnline":
        online = True
    return EventInfo(
        start=start,
        end=end,
        all_day=all_day,
        online=online,
        location=location,
        status=_STATUS.get(status_name),  # type: ignore[arg-type]
        organizer=_name(node.get("organizer")),
        online_url=online_url,
        offers=_offers(node),
    )


def _location(value: Any, base: str) -> tuple[Location | None, bool, str | None]:
    """Read `location`: a Place (with PostalAddress, geo), a VirtualLocation, text, or several."""
    location: Location | None = None
    online, online_url = False, None
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            place, is_virtual, link = place_and_online(clean_text(item))
            online, online_url = online or is_virtual, online_url or link
            location = location or place
            continue
        if not isinstance(item, dict):
            continue
        if "VirtualLocation" in _types(item):
            online = True
            online_url = online_url or _url(item.get("url"), base)
            continue
        if location is None:
            location = _place(item)
    if location is not None and location.is_empty() and location.lat is None:
        location = None
    return location, online, online_url


def _place(node: dict[str, Any]) -> Location | None:
    """A schema.org Place: its name, PostalAddress (or address text) and geo coordinates."""
    name = _text(node.get("name"))
    address = node.get("address")
    if isinstance(address, dict):
        fields = {
            "name": name,
            "street": _text(address.get("streetAddress")),
            "postal_code": _text(address.get("postalCode")),
            "locality": _text(address.get("addressLocality")),
        }
    else:
        parsed = parse_location(", ".join(t for t in (name, _text(address)) if t))
        fields = parsed.model_dump() if parsed is not None else {}
        if name and _text(address):
            fields["name"] = name
    geo = node.get("geo")
    if isinstance(geo, dict):
        fields["lat"] = _number(geo.get("latitude"))
        fields["lon"] = _number(geo.get("longitude"))
    return Location(**fields) if any(v is not None for v in fields.values()) else None


def _number(value: Any) -> float | None:
    try:
        return float(str(_text(value)).replace(",", "."))
    except (TypeError, ValueError):
        return None


def _offers(node: dict[str, Any]) -> str | None:
    """Prices as text: '13.00 USD', '5–10 EUR', or 'kostenlos' for a price of 0."""
    if node.get("isAccessibleForFree") in (True, "true", "True"):
        return "kostenlos"
    offers = node.get("offers")
    texts = []
    for offer in offers if isinstance(offers, list) else [offers]:
        if not isinstance(offer, dict):
            continue
        currency = _text(offer.get("priceCurrency")) or ""
        price = _text(offer.get("price"))
        low, high = _text(offer.get("lowPrice")), _text(offer.get("highPrice"))
        if price is None and low is not None:
            price = f"{low}–{high}" if high and high != low else low
        if price is None:
            continue
        if _number(price) == 0:
            texts.append("kostenlos")
        else:
            texts.append(f"{price} {currency}".strip())
    return "; ".join(dict.fromkeys(texts)) or None


def _event_key(node: dict[str, Any], page_url: str, event: EventInfo, title: str) -> str:
    """The Event's own URL or IRI; else the page URL plus a digest of its name and start."""
    own = _url(node.get("url"), page_url)
    if own:
        return own
    ident = _text(node.get("@id"))
    if ident and ident.startswith(("http://", "https://")):
        try:
            return canonical_url(ident)
        except ValueError:
            pass
    digest = hashlib.sha256(f"{title}\n{event.start.isoformat()}".encode()).hexdigest()[:16]
    return f"{canonical_url(page_url)}#event-{digest}"


def _event_record(
    node: dict[str, Any], page_url: str, source: Source, *, sole: bool = False
) -> Record | None:
    """A stand-alone Event (a calendar's list or detail page) as an event record.

    The sole event of a page without its own URL is keyed by the page's URL.
    """
    event = _event_info(node, page_url)
    title = _text(node.get("name"))
    if event is None or not title:
        return None
    content_html, content_text = _body(node.get("description"), page_url)
    return Record(
        source_id=source.id,
        key=_event_key(node, page_url, event, title) if not sole or node.get("url")
        else canonical_url(page_url),
        url=_url(node.get("url"), page_url) or canonical_url(page_url),
        title=title,
        content_text=content_text,
        content_html=content_html,
        image=_url(node.get("image"), page_url),
        tags=_keywords(node.get("keywords")),
        kind="event",
        event=event,
    )


def _keywords(value: Any) -> list[str]:
    words = value if isinstance(value, list) else str(value or "").split(",")
    return sorted({t for t in (_text(w) for w in words) if t})


def _article_records(
    node: dict[str, Any], events: list[dict[str, Any]], html: str, page_url: str, source: Source
) -> list[Record]:
    """An Article and the events it announces (embedded Events, else labelled facts)."""
    title = _text(node.get("headline")) or _text(node.get("name"))
    if not title:
        return []
    own_url = _url(node.get("url"), page_url) or _url(node.get("mainEntityOfPage"), page_url)
    key = own_url or canonical_url(page_url)
    content_html, content_text = _body(node.get("articleBody"), page_url)
    summary = _body(node.get("description"), page_url)[1]
    if not content_text and key == canonical_url(page_url):
        # The article is this page, but its markup has no body (Yoast and most CMSs):
        # read the main text of the page itself.
        content_html, content_text = main_content(html, page_url)
        content_html, content_text = content_html or None, content_text or None
    if not content_text:
        content_text, summary = summary, None
    published = parse_date(_text(node.get("datePublished")) or "")
    modified = parse_date(_text(node.get("dateModified")) or "")
    record = Record(
        source_id=source.id,
        key=key,
        url=key,
        title=title,
        content_text=content_text,
        content_html=content_html,
        summary=summary if summary != content_text else None,
        date_published=published,
        date_modified=modified if isinstance(modified, datetime) and modified != published
        else None,
        tags=_keywords(node.get("keywords")),
        author=_name(node.get("author")),
        image=_url(node.get("image"), page_url),
        kind="news",
    )
    infos = [(e, _event_info(e, page_url)) for e in events]
    announced = [(e, info) for e, info in infos if info is not None]
    if not announced:
        year = published.year if isinstance(published, date) else None
        found = event_from_text(content_text or "", default_year=year)
        return split_announced(record.model_copy(update={"event": found}), source)
    first, info = announced[0]
    records = split_announced(record.model_copy(update={"event": info}), source,
                              event_name=_text(first.get("name")))
    for number, (extra, extra_info) in enumerate(announced[1:], start=2):
        records.append(record.model_copy(update={
            "kind": "event",
            "key": f"{key}{EVENT_KEY_SUFFIX}-{number}",
            "announced_by": key if source.item_kind != "event" else None,
            "title": _text(extra.get("name")) or title,
            "event": extra_info,
        }))
    return records


class JsonLdSpider(SourceSpider):
    """Read schema.org data from the source page, following items that only carry a link.

    The source page counts as the first of `max_pages`; detail pages fill the rest. A detail
    page that cannot be read keeps what the list said about its item, if anything.
    """

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.pages_left = source.max_pages - 1

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.source.url, callback=self.parse, errback=self.on_entry_error)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if self.not_modified(response):
            return
        response = repaired(response)
        if not isinstance(response, TextResponse):
            self.fail(f"not an HTML page at {response.url}")
            return
        page = structured_page(response.text, response.url, self.source)
        if not page.records and not page.stubs:
            self.fail(f"no schema.org Event or Article at {response.url}")
            return
        yield from page.records
        for link, stub in page.stubs:
            if self.pages_left <= 0:
                if stub is not None:
                    yield stub
                continue
            self.pages_left -= 1
            yield scrapy.Request(link, callback=self.parse_detail, errback=self.on_detail_error,
                                 cb_kwargs={"stub": stub})

    def parse_detail(self, response: Response, stub: Record | None) -> Iterator[Any]:
        key = canonical_url(response.url)
        if self.not_modified(response, key=key):
            self.unchanged_keys.add(key + EVENT_KEY_SUFFIX)
            return
        response = repaired(response)
        records = []
        if isinstance(response, TextResponse):
            records = records_from_structured(response.text, response.url, self.source)
        if not records and stub is not None:
            records = [stub]
        if not records:
            self.page_errors.append(f"no schema.org Event or Article at {response.url}")
        yield from records

    def on_detail_error(self, failure: Any) -> Iterator[Any]:
        """A detail page failed: note it, and keep what the list page said."""
        self.on_page_error(failure)
        stub = failure.request.cb_kwargs.get("stub")
        if stub is not None:
            yield stub
