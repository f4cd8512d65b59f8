"""The DCAT-AP.de catalogue: read back with rdflib, checked against the official SHACL shapes."""

import copy
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF
from shared import SHARED

from regiofeed.publish import FORMATS, PublishSettings, publish_all
from regiofeed.publish.context import PublishContext
from regiofeed.publish.dcat import PLACEHOLDER_BASE, frequency_code, page_path, render_pages
from regiofeed.publish.dcat_vocab import DCATDE, HYDRA, VCARD

# A plain Namespace: pytest's collection probes module attributes, which rdflib's closed
# DCAT namespace answers with a warning.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
BASE = "https://daten.example.org/regiofeed/"
TODAY = date(2024, 9, 1)
DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
CC_BY = "http://dcat-ap.de/def/licenses/cc-by/4.0"
EU = "http://publications.europa.eu/resource/authority/"
SERIALISATIONS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}

SOURCES = [
    {
        "id": "bad-belzig-aktuelles",
        "name": "Stadt Bad Belzig – Aktuelles",
        "publisher": "Stadt Bad Belzig",
        "municipality": "Bad Belzig",
        "ags": "12069020",
        "url": "https://www.bad-belzig.de/aktuelles/",
        "kind": "auto",
        "licence": DL_BY,
        "schedule": "hourly",
        "publisher_email": "stadtverwaltung@bad-belzig.de",
        "keywords": ["Fläming"],
    },
    {
        "id": "wiesenburg-veranstaltungen",
        "name": "Gemeinde Wiesenburg/Mark – Veranstaltungen",
        "publisher": "Gemeinde Wiesenburg/Mark",
        "municipality": "Wiesenburg/Mark",
        "url": "https://www.wiesenburgmark.de/veranstaltungen/",
        "kind": "html",
        "licence": DL_BY,
        "schedule": "6h",
        "item_kind": "event",
        "themes": ["EDUC"],
    },
    {
        "id": "kts-smart-cities",
        "name": "KTS Smart Cities",
        "publisher": "Koordinierungs- und Transferstelle Modellprojekte Smart Cities",
        "url": "https://www.smart-city-dialog.de/aktuelles",
        "kind": "rss",
        "licence": CC_BY,
        "schedule": "daily",
        "publisher_url": "https://www.smart-city-dialog.de/",
    },
]

ITEMS = [
    {
        "id": "rf-news-konferenz",
        "url": "https://www.smart-city-dialog.de/aktuelles/konferenz",
        "title": "Regionalkonferenz Smart Cities in Bad Belzig",
        "content_text": "Die Konferenz findet im Kulturzentrum statt.",
        "date_published": "2024-08-07T00:00:00+02:00",
        "date_modified": "2024-08-09T12:00:00+02:00",
        "_regiofeed": {
            "kind": "news",
            "sources": ["kts-smart-cities", "bad-belzig-aktuelles"],
            "publisher": "Koordinierungs- und Transferstelle Modellprojekte Smart Cities",
            "municipality": "Bad Belzig",
            "licence": CC_BY,
        },
    },
    {
        "id": "rf-news-buergerbuero",
        "url": "https://www.bad-belzig.de/aktuelles/buergerbuero",
        "title": "Neue Öffnungszeiten im Bürgerbüro",
        "content_text": "Ab Montag gelten neue Öffnungszeiten.",
        "date_published": "2024-07-12T09:00:00+02:00",
        "_regiofeed": {
            "kind": "news",
            "sources": ["bad-belzig-aktuelles"],
            "publisher": "Stadt Bad Belzig",
            "municipality": "Bad Belzig",
            "licence": DL_BY,
        },
    },
    {
        "id": "rf-event-schlossfest",
        "url": "https://www.wiesenburgmark.de/veranstaltungen/schlossfest",
        "title": "Schlossfest",
        "content_text": "Musik im Schlosspark.",
        "date_published": "2024-06-01T10:00:00+02:00",
        "_regiofeed": {
            "kind": "event",
            "sources": ["wiesenburg-veranstaltungen"],
            "publisher": "Gemeinde Wiesenburg/Mark",
            "municipality": "Wiesenburg/Mark",
            "licence": DL_BY,
            "event": {"start": "2024-08-24", "end": "2024-08-25", "all_day": True},
        },
    },
    {
        "id": "rf-event-konzert",
        "url": "https://www.bad-belzig.de/aktuelles/konzert",
        "title": "Konzert auf der Burg",
        "content_text": "Ein Abend mit Kammermusik.",
        "date_published": "2024-06-02T10:00:00+02:00",
        "date_modified": "2024-06-03T08:30:00+02:00",
        "_regiofeed": {
            "kind": "event",
            "sources": ["bad-belzig-aktuelles"],
            "publisher": "Stadt Bad Belzig",
            "municipality": "Bad Belzig",
            "licence": DL_BY,
            "event": {"start": "2024-09-05T19:00:00+02:00", "end": "2024-09-05T21:00:00+02:00"},
        },
    },
]

DATASETS = {
    "all": "regiofeed: Nachrichten und Veranstaltungen aus der Region",
    "news": "regiofeed: Nachrichten aus der Region",
    "events": "regiofeed: Veranstaltungen aus der Region",
    "bad-belzig-aktuelles-news": "Nachrichten Stadt Bad Belzig",
    "bad-belzig-aktuelles-events": "Veranstaltungen Stadt Bad Belzig",
    "kts-smart-cities-news": (
        "Nachrichten Koordinierungs- und Transferstelle Modellprojekte Smart Cities"
    ),
    "wiesenburg-veranstaltungen-events": "Veranstaltungen Gemeinde Wiesenburg/Mark",
}


def make_ctx(items=ITEMS, sources=SOURCES, health=None, **settings) -> PublishContext:
    settings.setdefault("base_url", BASE)
    settings.setdefault("contact_email", "opendata@example.org")
    return PublishContext(
        items=copy.deepcopy(items),
        sources=copy.deepcopy(sources),
        health=health or {},
        settings=PublishSettings(**settings),
        today=TODAY,
    )


def parse(data: bytes, extension: str) -> Graph:
    return Graph().parse(data=data, format=SERIALISATIONS[extension])


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return render_pages(make_ctx())


@pytest.fixture(scope="module")
def graph(files: dict[str, bytes]) -> Graph:
    return parse(files["catalog.ttl"], "ttl")


def dataset(name: str) -> URIRef:
    return URIRef(f"{BASE}datasets/{name}")


def test_catalogue_files_are_registered_formats():
    registered = {fmt.path: fmt.media_type for fmt in FORMATS}
    assert registered["catalog.ttl"] == "text/turtle"
    assert registered["catalog.rdf"] == "application/rdf+xml"
    assert registered["catalog.jsonld"] == "application/ld+json"


def test_three_serialisations_carry_the_same_graph(files: dict[str, bytes]):
    turtle = parse(files["catalog.ttl"], "ttl")
    for extension in ("rdf", "jsonld"):
        assert isomorphic(turtle, parse(files[f"catalog.{extension}"], extension)), extension


def test_catalogue_has_no_blank_nodes(files: dict[str, bytes]):
    for path, data in files.items():
        nodes = {term for triple in parse(data, path.rsplit(".", 1)[1]) for term in triple}
        assert not [node for node in nodes if isinstance(node, BNode)], path


def test_one_dataset_per_source_and_stream_plus_regional_ones(graph: Graph):
    catalog = URIRef(BASE + "catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    listed = set(graph.objects(catalog, DCAT.dataset))
    assert listed == {dataset(name) for name in DATASETS}
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == listed
    for name, title in DATASETS.items():
        assert graph.value(dataset(name), DCTERMS.title) == Literal(title, lang="de")
        assert graph.value(dataset(name), DCTERMS.identifier) == Literal(str(dataset(name)))
    # An event calendar (item_kind = "event") announces no news stream.
    assert dataset("wiesenburg-veranstaltungen-news") not in listed


def distributions(graph: Graph, name: str) -> dict[str, tuple[str, str, str]]:
    """Map each distribution's download URL (relative to BASE) to format, media type, licence."""
    result = {}
    for dist in graph.objects(dataset(name), DCAT.distribution):
        url = str(graph.value(dist, DCAT.downloadURL))
        assert graph.value(dist, DCAT.accessURL) == URIRef(url)
        assert str(dist).startswith(f"{dataset(name)}/")
        result[url.removeprefix(BASE)] = (
            str(graph.value(dist, DCTERMS["format"])).removeprefix(EU + "file-type/"),
            str(graph.value(dist, DCAT.mediaType)).removeprefix(
                "http://www.iana.org/assignments/media-types/"
            ),
            str(graph.value(dist, DCTERMS.license)),
        )
    return result


def test_news_dataset_of_a_source_offers_its_news_feeds_and_dumps(graph: Graph):
    scope = "sources/bad-belzig-aktuelles/"
    assert distributions(graph, "bad-belzig-aktuelles-news") == {
        f"{scope}news/feed.xml": ("RSS", "application/xml", DL_BY),
        f"{scope}news/atom.xml": ("ATOM", "application/atom+xml", DL_BY),
        f"{scope}news/feed.json": ("JSON", "application/json", DL_BY),
        f"{scope}data/items.json": ("JSON", "application/json", DL_BY),
        f"{scope}data/items.csv": ("CSV", "text/csv", DL_BY),
        f"{scope}data/items-excel.csv": ("CSV", "text/csv", DL_BY),  # for German Excel
    }


def test_events_dataset_of_a_source_offers_calendar_and_event_table(graph: Graph):
    scope = "sources/wiesenburg-veranstaltungen/"
    assert distributions(graph, "wiesenburg-veranstaltungen-events") == {
        f"{scope}events/feed.xml": ("RSS", "application/xml", DL_BY),
        f"{scope}events/atom.xml": ("ATOM", "application/atom+xml", DL_BY),
        f"{scope}events/feed.json": ("JSON", "application/json", DL_BY),
        f"{scope}events.ics": ("ICS", "text/calendar", DL_BY),
        f"{scope}data/events.csv": ("CSV", "text/csv", DL_BY),
        f"{scope}data/events-excel.csv": ("CSV", "text/csv", DL_BY),
        f"{scope}data/items.json": ("JSON", "application/json", DL_BY),
    }


def test_regional_datasets_offer_the_root_files(graph: Graph):
    everything = distributions(graph, "all")
    assert set(everything) == {
        "feed.xml", "atom.xml", "feed.json", "events.ics", "data/items.json", "data/items.csv",
        "data/items-excel.csv",
    }  # fmt: skip
    # Sources under different licences: the regional data says "other open licence".
    assert {licence for _, _, licence in everything.values()} == {
        "http://dcat-ap.de/def/licenses/other-open"
    }
    assert set(distributions(graph, "news")) == {
        "news/feed.xml", "news/atom.xml", "news/feed.json", "data/items.json", "data/items.csv",
        "data/items-excel.csv",
    }  # fmt: skip
    assert "events.ics" in distributions(graph, "events")


def test_distribution_names_publisher_and_source_for_attribution(graph: Graph):
    dist = URIRef(f"{dataset('bad-belzig-aktuelles-news')}/rss")
    attribution = str(graph.value(dist, DCATDE.licenseAttributionByText))
    assert attribution == "Stadt Bad Belzig (https://www.bad-belzig.de/aktuelles/)"
    assert graph.value(dist, DCTERMS.title) is not None


def test_dataset_names_publisher_contact_place_and_themes(graph: Graph):
    news = dataset("bad-belzig-aktuelles-news")
    publisher = graph.value(news, DCTERMS.publisher)
    assert publisher == URIRef(BASE + "publishers/stadt-bad-belzig")
    assert (publisher, RDF.type, FOAF.Organization) in graph
    assert graph.value(publisher, FOAF.name) == Literal("Stadt Bad Belzig")
    contact = graph.value(news, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Organization) in graph
    assert graph.value(contact, VCARD.fn) == Literal("Stadt Bad Belzig")
    assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:stadtverwaltung@bad-belzig.de")

    # dct:spatial and the political geocoding from the Gemeindeschlüssel
    municipality = URIRef("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/12069020")
    assert graph.value(news, DCTERMS.spatial) == municipality
    assert graph.value(news, DCATDE.politicalGeocodingURI) == municipality
    assert graph.value(news, DCATDE.politicalGeocodingLevelURI) == URIRef(
        "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    assert graph.value(dataset("kts-smart-cities-news"), DCTERMS.spatial) is None

    themes = {str(t).rsplit("/", 1)[1] for t in graph.objects(news, DCAT.theme)}
    assert themes == {"GOVE", "SOCI"}  # the news defaults
    events = dataset("wiesenburg-veranstaltungen-events")
    assert {str(t).rsplit("/", 1)[1] for t in graph.objects(events, DCAT.theme)} == {"EDUC"}
    keywords = {str(k) for k in graph.objects(news, DCAT.keyword)}
    assert {"Nachrichten", "Bad Belzig", "Fläming"} <= keywords

    assert graph.value(news, DCTERMS.language) == URIRef(EU + "language/DEU")
    assert graph.value(news, DCAT.landingPage) == URIRef("https://www.bad-belzig.de/aktuelles/")
    # A contact point without e-mail links to the body's web page.
    kts = graph.value(dataset("kts-smart-cities-news"), DCAT.contactPoint)
    assert graph.value(kts, VCARD.hasURL) == URIRef("https://www.smart-city-dialog.de/")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("bad-belzig-aktuelles-news", "HOURLY"),
        ("wiesenburg-veranstaltungen-events", "12HRS"),
        ("kts-smart-cities-news", "DAILY"),
        ("all", "HOURLY"),  # as often as the busiest source
    ],
)
def test_accrual_periodicity_follows_the_schedule(graph: Graph, name: str, code: str):
    assert graph.value(dataset(name), DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/{code}")


def test_frequency_code_picks_the_nearest_eu_frequency():
    from datetime import timedelta

    assert frequency_code(timedelta(minutes=30)) == "30MIN"
    assert frequency_code(timedelta(days=7)) == "WEEKLY"
    assert frequency_code(timedelta(days=2)) == "WEEKLY_3"


def test_issued_and_modified_come_from_the_items(graph: Graph):
    news = dataset("bad-belzig-aktuelles-news")
    assert str(graph.value(news, DCTERMS.issued)) == "2024-07-12T09:00:00+02:00"
    assert str(graph.value(news, DCTERMS.modified)) == "2024-08-09T12:00:00+02:00"
    events = dataset("bad-belzig-aktuelles-events")
    assert str(graph.value(events, DCTERMS.modified)) == "2024-06-03T08:30:00+02:00"
    period = graph.value(events, DCTERMS.temporal)
    assert period == URIRef(f"{events}/period")
    assert str(graph.value(period, DCAT.startDate)) == "2024-09-05"
    catalog = URIRef(BASE + "catalog")
    assert str(graph.value(catalog, DCTERMS.modified)) == "2024-08-09T12:00:00+02:00"


def test_modified_does_not_move_when_only_health_changes(files: dict[str, bytes]):
    health = {"sources": {"bad-belzig-aktuelles": {"last_attempt": "2024-09-01T10:00:00+02:00"}}}
    assert render_pages(make_ctx(health=health)) == files


def test_modified_moves_with_the_changed_item_only(graph: Graph):
    items = copy.deepcopy(ITEMS)
    items[3]["date_modified"] = "2024-08-30T18:00:00+02:00"  # the concert, a Bad Belzig event
    changed = parse(render_pages(make_ctx(items))["catalog.ttl"], "ttl")

    def modified(g: Graph, name: str) -> str:
        return str(g.value(dataset(name), DCTERMS.modified))

    assert modified(changed, "bad-belzig-aktuelles-events") == "2024-08-30T18:00:00+02:00"
    assert modified(changed, "events") == "2024-08-30T18:00:00+02:00"
    for name in ("bad-belzig-aktuelles-news", "wiesenburg-veranstaltungen-events", "news"):
        assert modified(changed, name) == modified(graph, name)


def test_same_content_in_another_order_gives_identical_bytes(files: dict[str, bytes]):
    shuffled = render_pages(make_ctx(list(reversed(ITEMS)), list(reversed(SOURCES))))
    assert shuffled == files


def test_bytes_do_not_depend_on_the_hash_seed(files: dict[str, bytes]):
    # rdflib's stores iterate sets; the output must not change from one process to the next.
    script = (
        "import hashlib, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        "from test_publish_dcat import make_ctx; from publish.dcat import render_pages;"
        "print(hashlib.sha256(b''.join(render_pages(make_ctx()).values())).hexdigest())"
    )
    root, tests = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
    digests = set()
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script, str(root), str(tests)],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed},
        )  # fmt: skip
        digests.add(result.stdout.strip())
    assert len(digests) == 1


def test_contributor_id_is_left_out_unless_configured(graph: Graph):
    assert not list(graph.objects(None, DCATDE.contributorID))
    ctx = make_ctx(contributor_id="openDataBrandenburg")
    configured = parse(render_pages(ctx)["catalog.ttl"], "ttl")
    assert set(configured.objects(dataset("news"), DCATDE.contributorID)) == {
        URIRef("http://dcat-ap.de/def/contributors/openDataBrandenburg")
    }


def test_without_base_url_uris_use_the_documented_placeholder():
    ctx = make_ctx(base_url=None)
    graph = parse(render_pages(ctx)["catalog.ttl"], "ttl")
    assert (URIRef(PLACEHOLDER_BASE + "catalog"), RDF.type, DCAT.Catalog) in graph


def test_many_datasets_are_paged_like_ckanext_dcat():
    files = render_pages(make_ctx(datasets_per_page=2))
    assert set(files) == {page_path(n, ext) for n in (1, 2, 3, 4) for ext in SERIALISATIONS}
    seen: list[URIRef] = []
    for number in (1, 2, 3, 4):
        for extension in SERIALISATIONS:
            g = parse(files[page_path(number, extension)], extension)
            page = URIRef(BASE + page_path(number, extension))
            assert (page, RDF.type, HYDRA.PagedCollection) in g
            assert g.value(page, HYDRA.totalItems) == Literal(7)
            assert g.value(page, HYDRA.itemsPerPage) == Literal(2)
            assert str(g.value(page, HYDRA.firstPage)) == BASE + "catalog." + extension
            assert str(g.value(page, HYDRA.lastPage)) == f"{BASE}catalog/page-4.{extension}"
            following = g.value(page, HYDRA.nextPage)
            if number < 4:
                assert str(following) == BASE + page_path(number + 1, extension)
                assert g.value(page, HYDRA.next) == following
            else:
                assert following is None
            previous = g.value(page, HYDRA.previousPage)
            assert (previous is None) == (number == 1)
            on_page = list(g.objects(URIRef(BASE + "catalog"), DCAT.dataset))
            assert len(on_page) <= 2
            if extension == "ttl":
                seen += on_page
    assert sorted(seen) == sorted(dataset(name) for name in DATASETS)


def test_one_page_has_no_paging(graph: Graph):
    assert not list(graph.subjects(RDF.type, HYDRA.PagedCollection))


def test_publish_all_writes_the_catalogue_and_its_pages(tmp_path: Path):
    settings = PublishSettings(base_url=BASE, contact_email="opendata@example.org")
    publish_all(tmp_path, ITEMS, SOURCES, {}, settings, today=TODAY)
    turtle = parse((tmp_path / "catalog.ttl").read_bytes(), "ttl")
    rdfxml = parse((tmp_path / "catalog.rdf").read_bytes(), "rdf")
    assert isomorphic(turtle, rdfxml)
    assert not (tmp_path / "catalog").exists()

    paged = PublishSettings(base_url=BASE, datasets_per_page=3)
    publish_all(tmp_path, ITEMS, SOURCES, {}, paged, today=TODAY)
    assert (tmp_path / "catalog" / "page-3.jsonld").is_file()


# --- the official shapes (offline copies in ../shared/dcat-shapes) ---------------------------


def validator() -> Path:
    tool = SHARED / "tools" / "validate_dcat.py"
    if not tool.is_file():
        pytest.skip(f"DCAT-AP.de validator not found at {tool} (set REGIOFEED_SHARED)")
    return tool


def validate(tmp_path: Path, data: bytes, name: str, *profiles: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(data)
    args = [arg for profile in profiles for arg in ("--profile", profile)]
    result = subprocess.run(
        [sys.executable, str(validator()), str(path), *args], capture_output=True, text=True
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("extension", list(SERIALISATIONS))
def test_catalogue_conforms_to_dcat_ap_de_3_and_2(
    tmp_path: Path, files: dict[str, bytes], extension: str
):
    code, report = validate(
        tmp_path, files[f"catalog.{extension}"], f"catalog.{extension}", "de-3.0", "de-2.0"
    )
    assert code == 0, report
    assert "== profile de-3.0: 0 violation(s)" in report, report
    assert "== profile de-2.0: 0 violation(s)" in report, report


def test_paged_catalogue_conforms_to_dcat_ap_de_3(tmp_path: Path):
    files = render_pages(make_ctx(datasets_per_page=2))
    code, report = validate(tmp_path, files["catalog/page-2.ttl"], "page-2.ttl", "de-3.0")
    assert code == 0, report


def test_catalogue_with_contributor_id_follows_govdata_conventions(tmp_path: Path):
    # Konvention 12/13 requires GovData's contributor id, so it is checked with one set.
    ctx = make_ctx(contributor_id="openDataBrandenburg")
    data = render_pages(ctx)["catalog.ttl"]
    code, report = validate(tmp_path, data, "catalog.ttl", "de-2.0-konventionen")
    assert code == 0, report


def test_two_sources_of_one_body_share_its_publisher_and_are_told_apart():
    second = {
        **SOURCES[0],
        "id": "bad-belzig-amtsblatt",
        "name": "Stadt Bad Belzig – Amtsblatt",
        "url": "https://www.bad-belzig.de/amtsblatt/",
        "item_kind": "news",
        "publisher_email": None,
    }
    silent = {**SOURCES[2], "id": "ohne-eintraege", "publisher": "Verein ohne Einträge"}
    graph = parse(render_pages(make_ctx(sources=[*SOURCES, second, silent]))["catalog.ttl"], "ttl")
    first, other = dataset("bad-belzig-aktuelles-news"), dataset("bad-belzig-amtsblatt-news")
    assert str(graph.value(other, DCTERMS.title)) == (
        "Nachrichten Stadt Bad Belzig (Stadt Bad Belzig – Amtsblatt)"
    )
    assert graph.value(first, DCTERMS.publisher) == graph.value(other, DCTERMS.publisher)
    # A declared stream is announced while still empty, an undeclared one of no items is not.
    assert (other, RDF.type, DCAT.Dataset) in graph
    assert graph.value(other, DCTERMS.modified) is None
    assert not [d for d in graph.subjects(RDF.type, DCAT.Dataset) if "ohne-eintraege" in d]
