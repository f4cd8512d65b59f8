"""schema.org sources: Events and Articles in JSON-LD, microdata and RDFa, alike."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crawl_settings import FAST
from shared import SHARED

from regiofeed.flows.demo.server import SiteServer
from regiofeed.models.sources import Source
from regiofeed.spiders.crawl import crawl
from regiofeed.spiders.jsonld import records_from_structured

KINDS = Path(__file__).parent / "sites" / "kinds"
EXAMPLES = SHARED / "corpora" / "schemaorg-examples" / "schemaorg-all-examples.txt"
BERLIN = ZoneInfo("Europe/Berlin")
PAGE = "https://musterstadt.example/veranstaltungen/"


def jsonld_source(url: str = PAGE, **extra: object) -> Source:
    return Source.model_validate({
        "id": "test-jsonld", "name": "Musterstadt", "publisher": "Stadt Musterstadt",
        "url": url, "kind": "jsonld", "licence": "dl-by-de/2.0", **extra})


def page(script: str) -> str:
    return f'<html><head><script type="application/ld+json">{script}</script></head></html>'


def test_event_fields_are_normalised() -> None:
    html = page("""{"@context": "https://schema.org", "@type": "Event",
        "name": "Einwohnerversammlung", "startDate": "2024-09-26T18:00:00+02:00",
        "endDate": "2024-09-26T20:00", "eventStatus": "EventCancelled",
        "location": [{"@type": "Place", "name": "Rathaus Musterstadt",
                      "address": "Marktplatz 1, 12345 Musterstadt"},
                     {"@type": "VirtualLocation", "url": "https://meet.example.org/ev"}],
        "organizer": [{"@type": "Person", "name": "Anna Beispiel"}, "Ortsbeirat"],
        "offers": [{"@type": "Offer", "price": 5, "priceCurrency": "EUR"}]}""")
    [record] = records_from_structured(html, PAGE, jsonld_source())
    event = record.event
    assert record.kind == "event" and record.title == "Einwohnerversammlung"
    assert record.key == PAGE  # the sole event of a page without a URL of its own
    assert event.start == datetime(2024, 9, 26, 18, tzinfo=BERLIN)
    assert event.end == datetime(2024, 9, 26, 20, tzinfo=BERLIN)  # no offset: Berlin time
    assert (event.status, event.online, event.online_url) == (
        "cancelled", True, "https://meet.example.org/ev")  # hybrid: place and link
    assert event.location.model_dump(exclude_none=True) == {
        "name": "Rathaus Musterstadt", "street": "Marktplatz 1", "postal_code": "12345",
        "locality": "Musterstadt"}
    assert event.organizer == "Anna Beispiel, Ortsbeirat"
    assert event.offers == "5 EUR"


@pytest.mark.parametrize("status,expected", [
    ("https://schema.org/EventPostponed", "postponed"),
    ("http://schema.org/EventRescheduled", "rescheduled"),
    ("EventScheduled", None),
])
def test_event_status_as_iri_or_short_name(status: str, expected: str | None) -> None:
    html = page(f'{{"@context": "https://schema.org", "@type": "Event", "name": "Fest",'
                f' "startDate": "2024-09-13", "eventStatus": "{status}"}}')
    [record] = records_from_structured(html, PAGE, jsonld_source())
    assert record.event.status == expected
    assert (record.event.start, record.event.all_day) == (date(2024, 9, 13), True)


def test_online_only_event_has_no_place() -> None:
    html = page("""{"@context": "https://schema.org", "@type": "Event", "name": "Webinar",
        "startDate": "2024-09-17T17:00:00+02:00",
        "eventAttendanceMode": "https://schema.org/OnlineEventAttendanceMode",
        "location": {"@type": "VirtualLocation", "url": "https://meet.example.org/w"}}""")
    [record] = records_from_structured(html, PAGE, jsonld_source())
    assert (record.event.online, record.event.online_url, record.event.location) == (
        True, "https://meet.example.org/w", None)


def test_pages_without_structured_data_give_nothing() -> None:
    assert records_from_structured("<html><body><h1>Hallo</h1></body></html>", PAGE,
                                   jsonld_source()) == []
    assert records_from_structured(page("{ kaputt"), PAGE, jsonld_source()) == []
    assert records_from_structured(b"", PAGE, jsonld_source()) == []


def test_news_article_graph_announcing_an_event() -> None:
    html = (KINDS / "jsonld/aktuelles/stadtfest-angekuendigt/index.html").read_text()
    url = "https://musterstadt.example/jsonld/aktuelles/stadtfest-angekuendigt/"
    html = html.replace("{{base_url}}", "https://musterstadt.example")
    news, event = records_from_structured(html, url, jsonld_source(url))
    assert (news.kind, news.key, news.event) == ("news", url, None)
    assert news.title == "Stadtfest 2024: Programm steht fest"
    assert news.date_published == datetime(2024, 8, 20, 9, 30, tzinfo=BERLIN)
    assert news.date_modified == datetime(2024, 8, 22, 14, 0, tzinfo=BERLIN)
    assert news.author == "Pressestelle Musterstadt"  # an @id reference in the @graph
    assert news.image == "https://musterstadt.example/bilder/stadtfest.jpg"
    assert news.tags == ["Kultur", "Stadtfest"]
    assert "Frühschoppen" in news.content_text  # no articleBody: the page's main text
    assert (event.kind, event.key, event.announced_by) == ("event", url + "#event", url)
    assert event.title == "Stadtfest Musterstadt 2024"
    assert (event.event.start, event.event.end) == (date(2024, 9, 13), date(2024, 9, 15))
    assert event.content_text == news.content_text


def test_jsonld_crawl_reads_the_list_and_follows_links(serve_site) -> None:
    server: SiteServer = serve_site(KINDS)
    result = crawl(jsonld_source(server.url("/jsonld/veranstaltungen/")), FAST)
    assert result.ok, result.error
    records = {r.title: r for r in result.records}
    assert set(records) == {"Herbstmarkt auf dem Marktplatz",
                            "Lesung: Geschichten aus dem Fläming", "Sommerkonzert im Stadtpark"}
    markt = records["Herbstmarkt auf dem Marktplatz"]
    assert (markt.event.start, markt.event.end, markt.event.all_day) == (
        date(2024, 10, 5), date(2024, 10, 6), True)
    assert markt.event.offers == "kostenlos"
    assert (markt.event.location.lat, markt.event.location.lon) == (52.1401, 12.5952)
    assert markt.content_text == "Regionale Erzeuger, Kürbisse & Kunsthandwerk."
    assert markt.image == server.url("/bilder/herbstmarkt.jpg")
    lesung = records["Lesung: Geschichten aus dem Fläming"]  # microdata, followed
    assert lesung.key == server.url("/jsonld/veranstaltungen/lesung/")
    assert (lesung.event.status, lesung.event.online) == ("postponed", True)
    assert lesung.event.location.street == "Schulstraße 2"
    assert lesung.event.organizer == "Förderverein der Stadtbibliothek"
    konzert = records["Sommerkonzert im Stadtpark"]  # RDFa, followed
    assert konzert.event.status == "rescheduled"
    assert konzert.event.end == datetime(2024, 10, 12, 20, tzinfo=BERLIN)  # PT2H
    assert konzert.event.offers == "12.00 EUR"


def test_jsonld_crawl_is_bounded_by_max_pages(serve_site) -> None:
    server: SiteServer = serve_site(KINDS)
    result = crawl(jsonld_source(server.url("/jsonld/veranstaltungen/"), max_pages=1), FAST)
    assert [r.title for r in result.records] == ["Herbstmarkt auf dem Marktplatz"]
    assert server.hits("/jsonld/veranstaltungen/lesung/") == 0


def test_jsonld_crawl_of_a_page_without_data_fails(serve_site) -> None:
    server: SiteServer = serve_site(KINDS)
    result = crawl(jsonld_source(server.url("/ical/kein-kalender.ics")), FAST)
    assert not result.ok
    assert "no schema.org Event or Article" in result.error


def _examples() -> list[tuple[str, dict[str, str]]]:
    """The schema.org examples as (id, {syntax: markup}) with real markup only."""
    text = EXAMPLES.read_text(encoding="utf-8")
    found = []
    for block in re.split(r"(?m)^TYPES: ", text)[1:]:
        ident = block.split()[0]
        parts = re.split(r"(?m)^(PRE-MARKUP|MICRODATA|RDFA|JSON):\s*$", block)
        sections = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
        real = {name: html for name, html in sections.items() if name != "PRE-MARKUP"
                and any(mark in html for mark in ("itemscope", "typeof", "<script"))}
        found.append((ident, real))
    return found


# Examples whose syntaxes do not say the same thing upstream: 0426 names the event
# differently in JSON-LD, 0436 gives other dates in RDFa, 0262 another place in RDFa,
# 0172 and 0009 leave the Event out of their JSON-LD.
UPSTREAM_DIFFERENCES = {"#eg-0426", "#eg-0436", "#eg-0262", "#eg-0172", "#eg-0009"}
# 0437 gives its event two names; RDF keeps no order among values, so RDFa may name it by
# either.
UNORDERED = {"#eg-0437"}


@pytest.mark.skipif(not EXAMPLES.exists(), reason=f"schema.org examples not found at {EXAMPLES}")
def test_schemaorg_examples_normalise_alike_in_every_syntax() -> None:
    source = jsonld_source()
    agree, differ, placeholders = [], [], 0
    for ident, sections in _examples():
        results = {}
        for name, html in sections.items():
            records = records_from_structured(f"<html><body>{html}</body></html>", PAGE, source)
            # Text content differs by design (the JSON section has no visible text).
            results[name] = [r.model_dump(include={"kind", "title", "key", "url", "event"})
                             for r in records]
        if len(results) < 2 or not any(r["kind"] == "event" for v in results.values()
                                       for r in v):
            placeholders += 1
            continue
        same = all(value == next(iter(results.values())) for value in results.values())
        (agree if same else differ).append(ident)
    print(f"schema.org examples: {len(agree)} events agree, {len(differ)} differ: {differ}")
    assert set(differ) <= UPSTREAM_DIFFERENCES | UNORDERED, differ
    assert len(agree) >= 10
    assert {"#eg-0171", "#eg-0349", "#eg-0461", "#eg-4468b"} <= set(agree)


@pytest.mark.skipif(not EXAMPLES.exists(), reason=f"schema.org examples not found at {EXAMPLES}")
def test_schemaorg_placeholders_and_plain_markup_give_nothing() -> None:
    text = EXAMPLES.read_text(encoding="utf-8")
    plain = re.findall(r"(?ms)^PRE-MARKUP:\s*$(.*?)^MICRODATA:", text)
    events = [r for html in plain
              for r in records_from_structured(f"<html><body>{html}</body></html>", PAGE,
                                               jsonld_source())]
    assert len(plain) > 400
    assert events == []
