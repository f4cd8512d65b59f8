"""DCAT-AP.de 3.0 catalogue (https://www.dcat-ap.de/def/) of the published tree, for GovData & co.

Writes ``catalog.ttl``, ``catalog.rdf`` and ``catalog.jsonld``: one graph in three
serialisations. What it describes:

- one dcat:Dataset per publishing body and stream, i.e. per configured source and kind —
  "Nachrichten Stadt Bad Belzig" (``<base>datasets/<source-id>-news``) and "Veranstaltungen
  Stadt Bad Belzig" (``<base>datasets/<source-id>-events``). A source has a stream's dataset
  when it has items of that kind, or when its ``item_kind`` declares the kind;
- three regional all-in-one datasets of the root scope: ``<base>datasets/news``,
  ``<base>datasets/events`` and ``<base>datasets/all`` (everything).

Distributions, one per published file (``<dataset>/<format>``, see DISTRIBUTIONS):

- news: ``<scope>news/feed.xml``, ``news/atom.xml``, ``news/feed.json``, plus the scope's
  ``data/items.json`` and ``data/items.csv`` (all items of the scope, news and events,
  told apart by their kind);
- events: ``<scope>events/feed.xml``, ``events/atom.xml``, ``events/feed.json``,
  ``events.ics``, ``data/events.csv`` and ``data/items.json``;
- all: ``feed.xml``, ``atom.xml``, ``feed.json``, ``events.ics``, ``data/items.json``,
  ``data/items.csv``.

Every node has an HTTP URI under ``[publish] base_url`` (no blank nodes): ``<base>catalog``,
``<base>datasets/…``, ``<base>publishers/<slug>``, ``<base>contacts/<slug>``,
``<base>datasets/<name>/period``. Dates come from the items only (dct:modified is the newest
item change, never the build time), so an unchanged store gives byte-identical files.

With more datasets than ``datasets_per_page`` the catalogue is paged as ckanext-dcat does it
(hydra:PagedCollection): ``catalog.<ext>`` is page 1, ``catalog/page-<n>.<ext>`` the others;
each serialisation's paging links point to pages of the same serialisation.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, FOAF, RDF, XSD

from regiofeed.models.sources import schedule_interval
from regiofeed.publish.context import Item, PublishContext, PublishSettings, Source
from regiofeed.publish.dates import BERLIN, local_day
from regiofeed.publish.dcat_serialize import (
    JSON_LD,
    RDF_XML,
    SERIALISATIONS,
    TURTLE,
    Index,
    Triples,
    serialize_index,
)
from regiofeed.publish.dcat_vocab import (
    CONTRIBUTORS,
    DATA_THEME,
    DCATDE,
    DCT,
    DEFAULT_KEYWORDS,
    DEFAULT_THEMES,
    EU,
    FILE_FORMATS,
    FILE_TYPE,
    FREQUENCIES,
    FREQUENCY,
    GEOCODING_LEVEL_MUNICIPALITY,
    HYDRA,
    IANA,
    LANGUAGE,
    LANGUAGES,
    LICENSES,
    MUNICIPALITY_KEY,
    VCARD,
)
from regiofeed.publish.items import ItemFacts
from regiofeed.publish.scopes import (
    CALENDAR,
    EVENTS_CSV,
    FEED_ATOM,
    FEED_JSON,
    FEED_RSS,
    ITEMS_CSV,
    ITEMS_JSON,
    ROOT,
    SOURCES_DIR,
    STREAM_KIND,
    Scope,
    municipality_slug,
)
from regiofeed.publish.tables import EVENTS_EXCEL, ITEMS_EXCEL

logger = logging.getLogger(__name__)

# Operators MUST set `[publish] base_url` (or REGIOFEED_BASE_URL): without it the catalogue's
# URIs and download URLs fall under this placeholder, which no harvester can fetch.
PLACEHOLDER_BASE = "http://localhost/regiofeed/"

PATH = "catalog.ttl"
MEDIA_TYPE = TURTLE
RDF_PATH = "catalog.rdf"
JSONLD_PATH = "catalog.jsonld"
PAGE_DIR = "catalog/"  # pages 2… : catalog/page-2.ttl, catalog/page-2.rdf, …

# Which published file is which distribution of a stream's dataset: (format key, file, stream
# sub-folder or None). JSON and CSV dumps cover the whole scope (see the module docstring).
DISTRIBUTIONS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "news": (
        ("rss", FEED_RSS, "news"),
        ("atom", FEED_ATOM, "news"),
        ("jsonfeed", FEED_JSON, "news"),
        ("json", ITEMS_JSON, None),
        ("csv", ITEMS_CSV, None),
        ("csv-excel", ITEMS_EXCEL, None),
    ),
    "events": (
        ("rss", FEED_RSS, "events"),
        ("atom", FEED_ATOM, "events"),
        ("jsonfeed", FEED_JSON, "events"),
        ("ical", CALENDAR, None),
        ("csv", EVENTS_CSV, None),
        ("csv-excel", EVENTS_EXCEL, None),
        ("json", ITEMS_JSON, None),
    ),
    "all": (
        ("rss", FEED_RSS, None),
        ("atom", FEED_ATOM, None),
        ("jsonfeed", FEED_JSON, None),
        ("ical", CALENDAR, None),
        ("json", ITEMS_JSON, None),
        ("csv", ITEMS_CSV, None),
        ("csv-excel", ITEMS_EXCEL, None),
    ),
}
STREAM_TITLES = {"news": "Nachrichten", "events": "Veranstaltungen"}
OPEN_MIXED_LICENCE = LICENSES + "other-open"  # regional data whose sources differ in licence
DEFAULT_SCHEDULE = "hourly"  # as in sources.toml


@dataclass
class Summary:
    """What the catalogue says about a dataset's items, gathered in one pass over them."""

    count: int = 0
    issued: datetime | None = None  # the oldest publication
    modified: datetime | None = None  # the newest change
    first_day: date | None = None  # of the events, in Europe/Berlin
    last_day: date | None = None
    sources: set[str] = field(default_factory=set)  # ids named by the items

    def add(self, item: Item, published: datetime | None, changed: datetime | None,
            days: list[date]) -> None:  # fmt: skip
        self.count += 1
        if published is not None and (self.issued is None or published < self.issued):
            self.issued = published
        if changed is not None and (self.modified is None or changed > self.modified):
            self.modified = changed
        if days:
            low, high = min(days), max(days)
            self.first_day = low if self.first_day is None else min(self.first_day, low)
            self.last_day = high if self.last_day is None else max(self.last_day, high)
        self.sources.update(_ext(item).get("sources", []))


@dataclass(frozen=True)
class Dataset:
    """One dcat:Dataset: a stream ("news", "events" or "all") of one scope."""

    name: str  # last URI segment: "news", "events", "all" or "<source id>-<stream>"
    stream: str
    scope: Scope
    title: str
    description: str
    sources: tuple[Source, ...]  # whose content it carries (publisher, licence, place)
    summary: Summary

    @property
    def source(self) -> Source | None:
        """The source of a per-source dataset, None for a regional one."""
        return self.sources[0] if self.scope.kind == "source" else None


def render(ctx: PublishContext) -> bytes:
    """Render page 1 of the catalogue as Turtle (catalog.ttl)."""
    return _render_page(ctx, "ttl", 1)


def render_rdfxml(ctx: PublishContext) -> bytes:
    """Render page 1 of the catalogue as RDF/XML (catalog.rdf)."""
    return _render_page(ctx, "rdf", 1)


def render_jsonld(ctx: PublishContext) -> bytes:
    """Render page 1 of the catalogue as JSON-LD (catalog.jsonld)."""
    return _render_page(ctx, "jsonld", 1)


# (path, media type, render) of the three catalogue files, for the registry's FORMATS.
CATALOG_FILES = (
    (PATH, TURTLE, render),
    (RDF_PATH, RDF_XML, render_rdfxml),
    (JSONLD_PATH, JSON_LD, render_jsonld),
)


def render_pages(ctx: PublishContext, *, first: int = 1) -> dict[str, bytes]:
    """Render pages ``first``… in every serialisation: {tree path: bytes}.

    There is more than one page only when there are more datasets than datasets_per_page.
    """
    datasets = plan_datasets(ctx)
    pages = page_count(len(datasets), ctx.settings.datasets_per_page)
    return {
        page_path(number, extension): _render_page(ctx, extension, number, datasets)
        for number in range(first, pages + 1)
        for extension in SERIALISATIONS
    }


def extra_pages(ctx: PublishContext) -> dict[str, bytes]:
    """Render pages 2… (page 1 is in the registry's FORMATS); empty while one page suffices."""
    return render_pages(ctx, first=2)


def page_path(number: int, extension: str) -> str:
    """Return the tree path of catalogue page ``number`` (1-based) in one serialisation.

    >>> page_path(1, "ttl"), page_path(2, "jsonld")
    ('catalog.ttl', 'catalog/page-2.jsonld')
    """
    return f"catalog.{extension}" if number == 1 else f"{PAGE_DIR}page-{number}.{extension}"


def page_count(datasets: int, per_page: int) -> int:
    """Return how many catalogue pages ``datasets`` datasets fill (at least one).

    >>> page_count(0, 100), page_count(7, 2)
    (1, 4)
    """
    return max(1, math.ceil(datasets / max(1, per_page)))


def _render_page(
    ctx: PublishContext, extension: str, number: int, datasets: list[Dataset] | None = None
) -> bytes:
    if ctx.settings.base_url is None and extension == "ttl" and number == 1:
        logger.warning("dcat: no [publish] base_url set; catalogue URIs use %s", PLACEHOLDER_BASE)
    datasets = plan_datasets(ctx) if datasets is None else datasets
    # The page's triples are made once and shared by its three serialisations; only the
    # paging links differ (they point to pages of the same serialisation).
    key = ("dcat", "page", number, id(datasets))
    if key not in ctx.memo:
        ctx.memo.pop(("dcat", "page", number - 1, id(datasets)), None)  # done with that one
        triples = catalog_triples(ctx, datasets, page=number, paging=False)
        ctx.memo[key] = (datasets, triples, Index(triples))
    _, shared, index = ctx.memo[key]
    paging: Triples = set()
    _add_paging_of(paging, ctx, datasets, number, extension)
    return serialize_index(index, (triple for triple in paging if triple not in shared), extension)


# --- which datasets there are -------------------------------------------------------------


def plan_datasets(ctx: PublishContext) -> list[Dataset]:
    """List the catalogue's datasets: the regional ones, then per source (by id) news, events.

    The order is fixed for the same input, so paging is stable. Made once per publish run
    (every page of every serialisation shares it), in one pass over the items.
    """
    key = ("dcat", "plan")
    if key not in ctx.memo:
        ctx.memo[key] = _plan(ctx)
    plan: list[Dataset] = ctx.memo[key]
    return plan


def _plan(ctx: PublishContext) -> list[Dataset]:
    settings = ctx.settings
    sources = sorted(ctx.sources, key=lambda source: source["id"])
    # How many sources each publishing body has; with two or more the titles name the source.
    per_publisher = Counter(_slug(source.get("publisher") or source["id"]) for source in sources)
    summaries = _summaries(ctx.items, ctx.facts)

    result = [
        _regional_dataset(stream, sources, summaries.get(stream, Summary()), settings)
        for stream in ("all", "news", "events")
    ]
    for source in sources:
        for stream in ("news", "events"):
            summary = summaries.get((source["id"], stream))
            if summary is None and source.get("item_kind") != STREAM_KIND[stream]:
                continue  # a stream the source has never shown is not announced
            shared = per_publisher[_slug(source.get("publisher") or source["id"])] > 1
            result.append(_source_dataset(source, stream, summary or Summary(), shared))
    return result


def _summaries(items: Iterable[Item], facts: Callable[[Item], ItemFacts]) -> dict[Any, Summary]:
    """Summarise the items per regional stream ("all", "news", "events") and per (source id,
    stream), each item's dates parsed once."""
    summaries: dict[Any, Summary] = {}
    streams = {kind: stream for stream, kind in STREAM_KIND.items()}
    for item in items:
        ext = _ext(item)
        stream = streams.get(ext.get("kind"))
        known = facts(item)  # parsed once per run, shared with the other writers
        published, changed = known.published, known.modified
        days = _event_days(item) if stream == "events" else []
        keys: list[Any] = ["all"]
        if stream:
            keys.append(stream)
            keys += [(source_id, stream) for source_id in dict.fromkeys(ext.get("sources", []))]
        for key in keys:
            summary = summaries.get(key)
            if summary is None:
                summary = summaries[key] = Summary()
            summary.add(item, published, changed, days)
    return summaries


def _event_days(item: Item) -> list[date]:
    """Return the Europe/Berlin days of an event's start and end (those that parse)."""
    event = _ext(item).get("event") or {}
    days = []
    for key in ("start", "end"):
        if event.get(key):
            try:
                days.append(local_day(event[key]))
            except ValueError:
                continue
    return days


def _regional_dataset(
    stream: str, sources: list[Source], summary: Summary, settings: PublishSettings
) -> Dataset:
    contributing = summary.sources
    # Attribution and licence follow the sources that contributed; all of them while empty.
    carried = [source for source in sources if source["id"] in contributing] or sources
    publishers = ", ".join(dict.fromkeys(s.get("publisher") or s["id"] for s in carried))
    what = {"all": "Nachrichten und Veranstaltungen", "news": "Nachrichten",
            "events": "Veranstaltungen"}[stream]  # fmt: skip
    title = f"{settings.title}: {what} aus der Region"
    description = (
        f"Alle {what} der Region aus {len(carried)} Quelle{'n' if len(carried) != 1 else ''}"
        f"{f' ({publishers})' if publishers else ''}, zusammengeführt und ohne Dubletten."
    )
    return Dataset(stream, stream, ROOT, title, description, tuple(carried), summary)


def _source_dataset(source: Source, stream: str, summary: Summary, shared: bool) -> Dataset:
    publisher = source.get("publisher") or source["id"]
    label = source.get("name") or source["id"]
    # dct:title — "Nachrichten Stadt Bad Belzig"; the source name tells apart two of one body.
    title = f"{STREAM_TITLES[stream]} {publisher}" + (f" ({label})" if shared else "")
    place = f" aus {source['municipality']}" if source.get("municipality") else ""
    formats = {
        "news": "als RSS-, Atom- und JSON-Feed sowie als JSON- und CSV-Datei",
        "events": "als Kalender (iCalendar), als RSS-, Atom- und JSON-Feed sowie als CSV- und "
        "JSON-Datei",
    }[stream]
    description = (
        f"{STREAM_TITLES[stream]}{place}, veröffentlicht von {publisher} auf {source['url']}"
        f" („{label}“), {formats}."
    )
    scope = Scope(f"{SOURCES_DIR}{source['id']}/", label, "source", source["id"])
    name = f"{source['id']}-{stream}"
    return Dataset(name, stream, scope, title, description, (source,), summary)


# --- the graph ----------------------------------------------------------------------------


class _Uris:
    """The catalogue's URI scheme, under the configured base URL."""

    def __init__(self, settings: PublishSettings) -> None:
        self.base = settings.base_url or PLACEHOLDER_BASE

    def file(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    def catalog(self) -> URIRef:
        return URIRef(self.base + "catalog")

    def dataset(self, dataset: Dataset) -> URIRef:
        return URIRef(f"{self.base}datasets/{dataset.name}")

    def distribution(self, dataset: Dataset, key: str) -> URIRef:
        return URIRef(f"{self.dataset(dataset)}/{key}")

    def period(self, dataset: Dataset) -> URIRef:
        return URIRef(f"{self.dataset(dataset)}/period")

    def publisher(self, name: str) -> URIRef:
        return URIRef(f"{self.base}publishers/{_slug(name)}")

    def contact(self, name: str) -> URIRef:
        return URIRef(f"{self.base}contacts/{_slug(name)}")


@dataclass
class _Body:
    """A publishing body as agent and contact point, merged over the sources naming it."""

    name: str
    homepage: str | None = None
    email: str | None = None
    fallback_url: str | None = None  # vcard:hasURL when neither e-mail nor web page is known


def catalog_graph(
    ctx: PublishContext, datasets: list[Dataset], *, page: int = 1, extension: str = "ttl"
) -> Graph:
    """Build the rdflib graph of catalogue page ``page`` (1-based): the catalog, its datasets.

    ``extension`` ("ttl", "rdf", "jsonld") is only used for the paging links, which point to
    pages of the same serialisation. The files are written from ``catalog_triples`` directly;
    this graph is what rdflib's own serialisers would be given (tests compare the two).
    """
    g = Graph(bind_namespaces="none")
    for triple in catalog_triples(ctx, datasets, page=page, extension=extension):
        g.add(triple)
    return g


def catalog_triples(
    ctx: PublishContext,
    datasets: list[Dataset],
    *,
    page: int = 1,
    extension: str = "ttl",
    paging: bool = True,
) -> Triples:
    """Return the triples of catalogue page ``page`` (see ``catalog_graph``); without the
    paging links when ``paging`` is False."""
    settings = ctx.settings
    uris = _Uris(settings)
    g: Triples = set()
    per_page = max(1, settings.datasets_per_page)
    on_page = datasets[(page - 1) * per_page : page * per_page]
    bodies = _bodies(ctx.sources, settings, uris.base)
    modified = [d.summary.modified for d in datasets if d.summary.modified is not None]
    issued = [d.summary.issued for d in datasets if d.summary.issued is not None]

    catalog = uris.catalog()
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCT.title, _text(settings.title, settings)))
    g.add((catalog, DCT.description, _text(settings.description or settings.title, settings)))
    # dct:publisher — who runs this regiofeed instance
    g.add((catalog, DCT.publisher, _agent(g, uris, bodies[_slug(settings.publisher)])))
    g.add((catalog, DCT.language, _language(settings)))
    g.add((catalog, FOAF.homepage, URIRef(uris.base)))
    g.add((catalog, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    if issued:
        g.add((catalog, DCT.issued, _datetime(min(issued))))
    if modified:
        # dct:modified — the newest change of any dataset (all pages), not build time
        g.add((catalog, DCT.modified, _datetime(max(modified))))
    for dataset in on_page:
        g.add((catalog, DCAT.dataset, _add_dataset(g, uris, dataset, ctx, bodies)))

    if paging:
        _add_paging_of(g, ctx, datasets, page, extension)
    return g


def _add_paging_of(
    g: Triples, ctx: PublishContext, datasets: list[Dataset], page: int, extension: str
) -> None:
    per_page = max(1, ctx.settings.datasets_per_page)
    pages = page_count(len(datasets), per_page)
    if pages > 1:
        _add_paging(g, _Uris(ctx.settings), page, pages, len(datasets), per_page, extension)


def _add_dataset(
    g: Triples, uris: _Uris, dataset: Dataset, ctx: PublishContext, bodies: dict[str, _Body]
) -> URIRef:
    settings = ctx.settings
    ref = uris.dataset(dataset)
    source = dataset.source
    g.add((ref, RDF.type, DCAT.Dataset))
    # dct:identifier — the dataset URI itself, stable forever (source ids are)
    g.add((ref, DCT.identifier, Literal(str(ref))))
    g.add((ref, DCT.title, _text(dataset.title, settings)))
    g.add((ref, DCT.description, _text(dataset.description, settings)))

    # dct:publisher and dcat:contactPoint — the publishing body; regional data: the operator
    owner = (source.get("publisher") or source["id"]) if source else settings.publisher
    body = bodies[_slug(owner)]
    g.add((ref, DCT.publisher, _agent(g, uris, body)))
    g.add((ref, DCAT.contactPoint, _contact(g, uris, body)))

    # dcat:theme — EU data themes: the source's own, else the stream's defaults
    themes = (source or {}).get("themes") or DEFAULT_THEMES[dataset.stream]
    for code in sorted(set(themes)):
        g.add((ref, DCAT.theme, DATA_THEME[code]))
    # dcat:keyword — the stream's defaults, the municipalities, the source's keywords
    keywords = set(DEFAULT_KEYWORDS[dataset.stream])
    for carried in dataset.sources:
        if carried.get("municipality"):
            keywords.add(carried["municipality"])
    keywords.update((source or {}).get("keywords") or [])
    for keyword in sorted(k.strip() for k in keywords if k and k.strip()):
        g.add((ref, DCAT.keyword, _text(keyword, settings)))

    # dct:spatial, dcatde:politicalGeocodingURI/-LevelURI — from the Gemeindeschlüssel
    keys = sorted({s["ags"] for s in dataset.sources if s.get("ags")})
    for ags in keys:
        g.add((ref, DCT.spatial, MUNICIPALITY_KEY[ags]))
        g.add((MUNICIPALITY_KEY[ags], RDF.type, DCT.Location))
        g.add((ref, DCATDE.politicalGeocodingURI, MUNICIPALITY_KEY[ags]))
    if keys:
        g.add((ref, DCATDE.politicalGeocodingLevelURI, URIRef(GEOCODING_LEVEL_MUNICIPALITY)))

    # dct:accrualPeriodicity — how often it is crawled; regional data: its busiest source
    intervals = [_interval(s.get("schedule") or DEFAULT_SCHEDULE) for s in dataset.sources]
    known = [interval for interval in intervals if interval is not None]
    if known:
        g.add((ref, DCT.accrualPeriodicity, FREQUENCY[frequency_code(min(known))]))
    g.add((ref, DCT.language, _language(settings)))
    # dcat:landingPage — the source's own page; regional data: the published tree's index
    g.add((ref, DCAT.landingPage, URIRef(source["url"]) if source else URIRef(uris.base)))

    # dct:issued — the oldest item; dct:modified — the newest item change, not build time
    oldest, newest = dataset.summary.issued, dataset.summary.modified
    if oldest is not None:
        g.add((ref, DCT.issued, _datetime(oldest)))
    if newest is not None:
        g.add((ref, DCT.modified, _datetime(newest)))
    # dct:temporal — for events, the days on which they take place
    if dataset.stream == "events":
        _add_period(g, uris.period(dataset), ref, dataset.summary)

    # dcatde:contributorID — GovData's id of the harvested catalogue, only where assigned
    if settings.contributor_id:
        g.add((ref, DCATDE.contributorID, _contributor(settings.contributor_id)))

    for key, name, stream in DISTRIBUTIONS[dataset.stream]:
        path = dataset.scope.file(name, stream)
        g.add((ref, DCAT.distribution, _add_distribution(g, uris, dataset, key, path, settings)))
    return ref


def _add_distribution(
    g: Triples, uris: _Uris, dataset: Dataset, key: str, path: str, settings: PublishSettings
) -> URIRef:
    fmt = FILE_FORMATS[key]
    ref = uris.distribution(dataset, key)
    url = uris.file(path)
    g.add((ref, RDF.type, DCAT.Distribution))
    g.add((ref, DCT.title, _text(fmt.title, settings)))
    g.add(
        (ref, DCT.description, _text(_distribution_description(dataset, key, settings), settings))
    )
    # dcat:accessURL and dcat:downloadURL — the file itself, a static download
    g.add((ref, DCAT.accessURL, url))
    g.add((ref, DCAT.downloadURL, url))
    # dct:format — EU file type; dcat:mediaType — IANA register; dct:conformsTo — the spec
    g.add((ref, DCT["format"], FILE_TYPE[fmt.file_type]))
    g.add((FILE_TYPE[fmt.file_type], RDF.type, DCT.MediaTypeOrExtent))
    g.add((ref, DCAT.mediaType, IANA[fmt.media_type]))
    g.add((IANA[fmt.media_type], RDF.type, DCT.MediaType))
    g.add((ref, DCT.conformsTo, URIRef(fmt.standard)))
    g.add((URIRef(fmt.standard), RDF.type, DCT.Standard))
    # dct:license — from dcat-ap.de/def/licenses; dcatde:licenseAttributionByText — who, where
    g.add((ref, DCT.license, URIRef(_licence(dataset.sources))))
    g.add((URIRef(_licence(dataset.sources)), RDF.type, DCT.LicenseDocument))
    g.add((ref, DCATDE.licenseAttributionByText, _text(_attribution(dataset, settings), settings)))
    return ref


def _distribution_description(dataset: Dataset, key: str, settings: PublishSettings) -> str:
    whose = "der Quelle" if dataset.source else "der Region"
    what = {"news": "Nachrichten", "events": "Veranstaltungen",
            "all": "Nachrichten und Veranstaltungen"}[dataset.stream]  # fmt: skip
    newest = f"Die neuesten {settings.feed_size} {what} {whose}"
    return {
        "rss": f"{newest} als RSS 2.0.",
        "atom": f"{newest} als Atom 1.0 (RFC 4287).",
        "jsonfeed": f"{newest} als JSON Feed 1.1.",
        "ical": f"Alle Veranstaltungen {whose} als Kalender zum Abonnieren (iCalendar, RFC 5545).",
        "json": f"Alle Einträge {whose} (Nachrichten und Veranstaltungen, unterschieden durch "
        "_regiofeed.kind) als JSON-Array von JSON-Feed-1.1-Items.",
        "csv": f"Alle Veranstaltungen {whose} als Tabelle (CSV, UTF-8)."
        if dataset.stream == "events"
        else f"Alle Einträge {whose} (Nachrichten und Veranstaltungen, Spalte kind) als "
        "Tabelle (CSV, UTF-8).",
        "csv-excel": f"Dieselbe Tabelle {whose} für Excel in deutscher Einstellung: Semikolon "
        "als Trennzeichen, UTF-8 mit Byte Order Mark.",
    }[key]


def _add_period(g: Triples, ref: URIRef, dataset: URIRef, summary: Summary) -> None:
    """Add dct:temporal: a dct:PeriodOfTime from the first event's start to the last's end."""
    if summary.first_day is None or summary.last_day is None:
        return
    g.add((dataset, DCT.temporal, ref))
    g.add((ref, RDF.type, DCT.PeriodOfTime))
    g.add((ref, DCAT.startDate, Literal(summary.first_day.isoformat(), datatype=XSD.date)))
    g.add((ref, DCAT.endDate, Literal(summary.last_day.isoformat(), datatype=XSD.date)))


def _add_paging(
    g: Triples, uris: _Uris, page: int, pages: int, total: int, per_page: int, extension: str
) -> None:
    """Add the hydra:PagedCollection of this page as ckanext-dcat writes it.

    Like ckanext-dcat (RDFSerializer._add_pagination_triples) the page links are literals and
    both the current Hydra terms (hydra:next, …) and the older ones its harvesters and GovData
    read (hydra:nextPage, …) are written.
    """
    current = uris.file(page_path(page, extension))
    links = {"first": 1, "last": pages}
    if page > 1:
        links["previous"] = page - 1
    if page < pages:
        links["next"] = page + 1
    g.add((current, RDF.type, HYDRA.PagedCollection))
    g.add((current, HYDRA.totalItems, Literal(total)))
    g.add((current, HYDRA.itemsPerPage, Literal(per_page)))
    for name, number in links.items():
        url = Literal(str(uris.file(page_path(number, extension))))
        g.add((current, HYDRA[f"{name}Page"], url))
        g.add((current, HYDRA[name], url))


def _agent(g: Triples, uris: _Uris, body: _Body) -> URIRef:
    """Add a publisher (foaf:Agent, foaf:Organization with foaf:name) and return its URI."""
    ref = uris.publisher(body.name)
    g.add((ref, RDF.type, FOAF.Agent))
    g.add((ref, RDF.type, FOAF.Organization))
    g.add((ref, FOAF.name, Literal(body.name)))
    if body.homepage:
        g.add((ref, FOAF.homepage, URIRef(body.homepage)))
    if body.email:
        g.add((ref, FOAF.mbox, URIRef(_mailto(body.email))))
    return ref


def _contact(g: Triples, uris: _Uris, body: _Body) -> URIRef:
    """Add a contact point (vcard:Organization with vcard:fn and e-mail or URL); return it."""
    ref = uris.contact(body.name)
    g.add((ref, RDF.type, VCARD.Kind))
    g.add((ref, RDF.type, VCARD.Organization))
    g.add((ref, VCARD.fn, Literal(body.name)))
    if body.email:
        g.add((ref, VCARD.hasEmail, URIRef(_mailto(body.email))))
    url = body.homepage or (None if body.email else body.fallback_url)
    if url:
        g.add((ref, VCARD.hasURL, URIRef(url)))
    return ref


def _bodies(sources: list[Source], settings: PublishSettings, base: str) -> dict[str, _Body]:
    """Collect every publishing body by slug: the sources' publishers and the operator.

    Sources naming the same body are merged in id order: the first web page and the first
    e-mail address win. Without either, the contact point links to the source's website.
    """
    bodies: dict[str, _Body] = {}
    for source in sorted(sources, key=lambda source: source["id"]):
        name = source.get("publisher") or source["id"]
        body = bodies.setdefault(_slug(name), _Body(name))
        body.homepage = body.homepage or source.get("publisher_url")
        body.email = body.email or source.get("publisher_email")
        body.fallback_url = body.fallback_url or _site_root(source["url"])
    operator = bodies.setdefault(_slug(settings.publisher), _Body(settings.publisher))
    operator.homepage = operator.homepage or settings.contact_url
    operator.email = operator.email or settings.contact_email
    operator.fallback_url = operator.fallback_url or base
    return bodies


# --- values -------------------------------------------------------------------------------


def frequency_code(interval: timedelta) -> str:
    """Return the EU frequency code nearest to a crawl interval (log scale; ties: less often).

    >>> frequency_code(timedelta(hours=1)), frequency_code(timedelta(hours=6))
    ('HOURLY', '12HRS')
    >>> frequency_code(timedelta(days=2)), frequency_code(timedelta(minutes=30))
    ('WEEKLY_3', '30MIN')
    """
    seconds = max(interval.total_seconds(), 1.0)

    def distance(entry: tuple[int, tuple[str, timedelta]]) -> tuple[float, int]:
        index, (_, period) = entry
        return round(abs(math.log(period.total_seconds() / seconds)), 9), -index

    return min(enumerate(FREQUENCIES), key=distance)[1][0]


def _interval(schedule: str) -> timedelta | None:
    """The interval of a source's schedule, None for one that is not valid."""
    try:
        return schedule_interval(schedule)
    except ValueError:
        return None


def _licence(sources: Iterable[Source]) -> str:
    """Return the licence IRI the sources share, else dcat-ap.de's "other-open"."""
    licences = {_licence_iri(source.get("licence") or "") for source in sources}
    licences.discard("")
    return licences.pop() if len(licences) == 1 else OPEN_MIXED_LICENCE


def _licence_iri(value: str) -> str:
    """Return a licence as dcat-ap.de IRI; a bare id ("dl-by-de/2.0") gets the namespace."""
    if not value or value.startswith(("http://", "https://")):
        return value
    return LICENSES + value


def _attribution(dataset: Dataset, settings: PublishSettings) -> str:
    """Return the attribution text: each publisher's name and where the content is from."""
    parts = [f"{s.get('publisher') or s['id']} ({s['url']})" for s in dataset.sources]
    return "; ".join(dict.fromkeys(parts)) or settings.publisher


def _contributor(value: str) -> URIRef:
    """Return GovData's contributor id as an IRI of dcat-ap.de/def/contributors/."""
    return URIRef(value if value.startswith(("http://", "https://")) else CONTRIBUTORS + value)


def _language(settings: PublishSettings) -> URIRef:
    return LANGUAGE[LANGUAGES.get(settings.language.split("-")[0].lower(), "DEU")]


def _text(value: str, settings: PublishSettings) -> Literal:
    """Return a literal in the tree's language (dct:title, dct:description, dcat:keyword)."""
    return Literal(value, lang=settings.language)


def _datetime(moment: datetime) -> Literal:
    """Return an xsd:dateTime literal in Europe/Berlin time, to the second."""
    return Literal(moment.astimezone(BERLIN).isoformat(timespec="seconds"), datatype=XSD.dateTime)


def _ext(item: Item) -> dict[str, Any]:
    return item.get("_regiofeed") or {}


def _slug(name: str) -> str:
    return municipality_slug(name) or "unbenannt"


def _mailto(email: str) -> str:
    return email if email.startswith("mailto:") else f"mailto:{email}"


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"
