"""html presets through real crawls of the markup TYPO3, WordPress, The Events Calendar and
Joomla emit (tests/sites/presets/), and how a preset combines with a source's own selectors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from crawl_settings import FAST

from regiofeed.flows.demo.server import Reply, Request, SiteServer
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.presets import PRESETS, preset_names
from regiofeed.models.sources import Selectors, Source, SourcesError, parse_sources
from regiofeed.spiders.crawl import crawl

PRESET_SITES = Path(__file__).parent / "sites" / "presets"


def html_source(url: str, preset: str, **extra: object) -> Source:
    return Source.model_validate({
        "id": f"test-{preset}", "name": "Musterland", "publisher": "Amt Musterland",
        "url": url, "kind": "html", "licence": "dl-by-de/2.0", "preset": preset, **extra,
    })


def by_key(result: CrawlResult) -> dict:
    return {record.key: record for record in result.records}


def by_query(param: str, pages: dict[str, str]):
    """A route that serves another file per value of a query parameter (?start=2)."""

    def answer(request: Request) -> Reply:
        for value, file in pages.items():
            if f"{param}={value}" in request.query:
                return Reply(file=file)
        return Reply(file=pages[""])

    return answer


def test_typo3_news(serve_site) -> None:
    site: SiteServer = serve_site(PRESET_SITES / "typo3-news", {
        "/aktuelles": by_query("%5BcurrentPage%5D", {"2": "/aktuelles/page-2.html",
                                                     "": "/aktuelles/index.html"}),
    })
    result = crawl(html_source(site.url("/aktuelles"), "typo3-news"), FAST)
    assert result.ok, result.error
    records = by_key(result)
    detail = site.url("/aktuelles/detail/")
    assert {key.removeprefix(detail): r.title for key, r in records.items()} == {
        "amtsausschuss-tagt/": "Amtsausschuss tagt im Juni",
        "amtsausschuss-tagt/#event": "Amtsausschuss tagt im Juni",
        "breitband-ausbau/": "Breitbandausbau in fünf Gemeinden",
        "neue-sprechzeiten/": "Neue Sprechzeiten im Bürgerbüro",  # page 2, via li.next
    }
    breitband = records[detail + "breitband-ausbau/"]
    assert breitband.date_published == date(2024, 5, 27)
    assert breitband.summary == "Der Ausbau des Glasfasernetzes geht in die zweite Runde."
    # content = .news-text-wrap: the article body, not the lead or the back link.
    assert breitband.content_text == ("In fünf Gemeinden des Amtes beginnen die Tiefbauarbeiten "
                                      "für das Glasfasernetz. Rund 1.200 Haushalte werden "
                                      "angeschlossen.")
    sitzung = records[detail + "amtsausschuss-tagt/#event"]
    assert sitzung.event.start.isoformat() == "2024-06-20T18:30:00+02:00"
    assert sitzung.event.location.postal_code == "14806"


def test_wordpress_archive(serve_site) -> None:
    site: SiteServer = serve_site(PRESET_SITES / "wordpress")
    result = crawl(html_source(site.url("/category/aktuelles/"), "wordpress"), FAST)
    assert result.ok, result.error
    records = by_key(result)
    assert {key.removeprefix(site.url("/")): r.title for key, r in records.items()} == {
        "2024/06/03/backofenfest/": "Backofenfest am Dorfanger",
        "2024/06/03/backofenfest/#event": "Backofenfest am Dorfanger",
        "2024/05/20/neue-baenke/": "Neue Bänke am Rundweg",
        "2024/04/28/fruehjahrsputz/": "Frühjahrsputz mit 60 Helfern",  # a.next.page-numbers
    }
    baenke = records[site.url("/2024/05/20/neue-baenke/")]
    assert baenke.date_published.isoformat() == "2024-05-20T12:00:00+02:00"
    assert baenke.content_text == ("Zehn neue Bänke laden am Rundweg um den Dorfteich zur Rast "
                                   "ein. Gespendet wurden sie von Musterauer Familien.")
    fest = records[site.url("/2024/06/03/backofenfest/") + "#event"]
    assert fest.event.start.isoformat() == "2024-06-15T14:00:00+02:00"
    assert fest.event.end.isoformat() == "2024-06-15T18:00:00+02:00"
    # The sidebar's "Neueste Beiträge" are no items of the list.
    assert len(records) == 4


def test_wordpress_events_calendar_list_view(serve_site) -> None:
    site: SiteServer = serve_site(PRESET_SITES / "wordpress-events")
    result = crawl(html_source(site.url("/veranstaltungen/liste/"), "wordpress-events"), FAST)
    assert result.ok, result.error
    records = by_key(result)
    base = site.url("/veranstaltung/")
    assert {key.removeprefix(base): (r.kind, r.title) for key, r in records.items()} == {
        "sommerkonzert/": ("event", "Sommerkonzert im Pfarrgarten"),
        "johannisfeuer/": ("event", "Johannisfeuer am See"),
        "lesung/": ("event", "Lesung: Fontane im Fläming"),  # page 2
    }
    konzert = records[base + "sommerkonzert/"]
    assert konzert.event.start.isoformat() == "2024-06-22T19:00:00+02:00"
    assert konzert.event.end.isoformat() == "2024-06-22T21:00:00+02:00"
    assert konzert.event.location.name == "Pfarrgarten"
    assert konzert.content_text == ("Der Chor singt Volkslieder unter den alten Linden. "
                                    "Bei Regen in der Kirche.")
    johannis = records[base + "johannisfeuer/"]
    assert johannis.event.end.isoformat() == "2024-06-24T23:30:00+02:00"


def test_wordpress_events_legacy_list(serve_site) -> None:
    site: SiteServer = serve_site(PRESET_SITES / "wordpress-events")
    result = crawl(html_source(site.url("/events/"), "wordpress-events"), FAST)
    assert result.ok, result.error
    [konzert] = result.records
    assert (konzert.kind, konzert.title) == ("event", "Sommerkonzert im Pfarrgarten")
    assert konzert.event.start.isoformat() == "2024-06-22T19:00:00+02:00"


def test_joomla_blog(serve_site) -> None:
    site: SiteServer = serve_site(PRESET_SITES / "joomla-blog", {
        "/index.php/aktuelles": by_query("start", {"2": "/index.php/aktuelles/start-2.html",
                                                   "": "/index.php/aktuelles/index.html"}),
    })
    result = crawl(html_source(site.url("/index.php/aktuelles"), "joomla-blog"), FAST)
    assert result.ok, result.error
    records = by_key(result)
    base = site.url("/index.php/aktuelles/")
    assert {key.removeprefix(base): r.title for key, r in records.items()} == {
        "14-gemeinderat-tagt/": "Gemeinderat tagt im Juni",
        "13-glasfaser/": "Glasfaserausbau beginnt",
        "12-sperrmuell/": "Neue Termine für Sperrmüll",  # "Gehe zur nächsten Seite"
    }
    glasfaser = records[base + "13-glasfaser/"]
    assert glasfaser.date_published.isoformat() == "2024-05-21T11:00:00+02:00"
    assert glasfaser.summary == "In drei Ortsteilen beginnen die Tiefbauarbeiten."
    assert glasfaser.content_text == ("In drei Ortsteilen beginnen die Tiefbauarbeiten für das "
                                      "Glasfasernetz. Die Arbeiten dauern bis zum Herbst.")


def test_own_selectors_override_a_preset_key_by_key(serve_site) -> None:
    site: SiteServer = serve_site(PRESET_SITES / "wordpress")
    source = html_source(site.url("/category/aktuelles/"), "wordpress",
                         selectors={"next": "", "summary": ".entry-footer .cat-links"},
                         max_pages=3)
    assert source.selectors.item == PRESETS["wordpress"]["selectors"]["item"]
    result = crawl(source, FAST)
    assert result.ok, result.error
    # No pagination: page 2's post is not read; the summary comes from the own selector.
    assert {r.title for r in result.records if r.kind == "news"} == {
        "Backofenfest am Dorfanger", "Neue Bänke am Rundweg"}
    assert {r.summary for r in result.records} == {"Kategorisiert als Aktuelles"}


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_a_complete_selector_set(name: str) -> None:
    Selectors.model_validate(PRESETS[name]["selectors"])


def test_preset_in_a_sources_file() -> None:
    text = """
[[source]]
id = "amt-aktuelles"
name = "Amt – Aktuelles"
publisher = "Amt"
url = "https://www.amt.example/aktuelles"
kind = "html"
preset = "wordpress-events"
licence = "dl-by-de/2.0"

[source.selectors]
title = "h2.titel"
"""
    source = parse_sources(text).get("amt-aktuelles")
    assert source.selectors.title == "h2.titel"
    assert source.selectors.when == PRESETS["wordpress-events"]["selectors"]["when"]
    assert source.item_kind == "event"
    # A second validation (the crawl's child process) gives the same source.
    assert Source.model_validate(source.model_dump(mode="json")) == source


def test_unknown_preset_names_the_known_ones() -> None:
    text = """
[[source]]
id = "amt"
name = "Amt"
publisher = "Amt"
url = "https://www.amt.example/aktuelles"
kind = "html"
preset = "typo3"
licence = "dl-by-de/2.0"
"""
    with pytest.raises(SourcesError) as caught:
        parse_sources(text)
    assert caught.value.problems == [
        "source 'amt': key 'preset': unknown preset 'typo3'; known presets: "
        "joomla-blog, typo3-news, wordpress, wordpress-events"]
