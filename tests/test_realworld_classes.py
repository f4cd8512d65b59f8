"""What auto does with what real sites publish, class by class, each through a real crawl on
127.0.0.1: title date stamps, boilerplate, teasers, images, degraded input, CMS probes, the main
region, single article pages and undated home-page news (see issue 11).

Real pages and feeds come unmodified from tests/realworld/sites/; where a behaviour needs a
server that answers a page's links, small sites of our own from tests/realworld/classes/.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from crawl_settings import FAST as BASE

from regiofeed.flows.demo.server import Reply, Request, SiteServer
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import Source, parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow
from regiofeed.spiders.crawl import crawl

HERE = Path(__file__).parent / "realworld"
SITES = HERE / "sites"
CLASSES = HERE / "classes"
FAST = BASE.model_copy(update={"timeout": 3, "source_timeout": 90})


def auto(url: str, **extra: object) -> Source:
    return Source.model_validate({
        "id": "real", "name": "Musterdorf", "publisher": "Gemeinde Musterdorf", "url": url,
        "kind": "auto", "licence": "dl-by-de/2.0", **extra,
    })


@pytest.fixture
def real(serve_site: Callable[..., SiteServer]) -> Callable[[str], tuple[SiteServer, str]]:
    """Serve one case of tests/realworld/sites/; return the server and its entry URL."""
    def start(case: str) -> tuple[SiteServer, str]:
        entry = json.loads((SITES / case / "provenance.json").read_text())["entry"]
        server = serve_site(SITES / case)
        return server, server.url("/" + entry)
    return start


@pytest.fixture
def bad_belzig(offline_world: None, real: Callable[[str], tuple[SiteServer, str]]
               ) -> Iterator[CrawlResult]:
    _, url = real("bad-belzig-rss")
    yield crawl(auto(url), FAST)


def by_title(result: CrawlResult) -> dict:
    return {record.title: record for record in result.records}


def test_date_stamps_leave_titles_and_stay_with_the_item(bad_belzig: CrawlResult) -> None:
    result = bad_belzig
    assert result.ok, result.error
    titles = by_title(result)
    assert len(titles) == 20
    assert not [t for t in titles if t[:2].isdigit() and t[2] == "."]
    # The feed's own date wins over the stamp; the contradiction is said in the item.
    holidays = titles["Pfingstfeiertage und Ferienfahrplan"]
    assert holidays.date_published is not None
    assert holidays.date_published.date() == date(2019, 1, 10)
    assert holidays.notes == ["the title is dated 2019-05-01, the feed 2019-01-10; "
                              "the feed date is kept",
                              *holidays.notes[1:]]
    # Where stamp and feed agree, nothing is said about the date.
    elections = titles["Wahlergebnisse der Europa-, Kreis und Kommunalwahl"]
    assert not any("dated" in note for note in elections.notes or [])


def test_boilerplate_leaves_text_and_html(offline_world: None, bad_belzig: CrawlResult,
                                          real: Callable[[str], tuple[SiteServer, str]]
                                          ) -> None:
    for record in bad_belzig.records:
        assert "[mehr]" not in (record.content_text or "")
        assert ">mehr<" not in (record.content_html or "")
    _, url = real("flaeming365-rss")
    result = crawl(auto(url), FAST)
    assert result.ok and len(result.records) == 10
    for record in result.records:
        assert "erschien zuerst auf" not in (record.content_text or "")
        assert "erschien zuerst auf" not in (record.content_html or "")
        assert "[…]" not in (record.content_text or "")
    _, url = real("frankfurt-oder-rss")
    result = crawl(auto(url), FAST)
    first = by_title(result)["Frankfurter »Nordwächter« initiiert"]
    # The title was glued to the teaser ("…initiiertGemeinsames"): it is said once.
    assert first.content_text.startswith("Gemeinsames Maßnahmenpaket")


def test_literal_escapes_are_read_and_the_source_is_degraded(
        bad_belzig: CrawlResult, db_url: str) -> None:
    titles = by_title(bad_belzig)
    assert "Untersagung von Brauchtumsfeuer anlässlich des Osterfestes" in titles
    assert not any("\\x" in (r.content_text or "") for r in bad_belzig.records)
    with Store(db_url) as store:
        config = parse_sources(f"""
[[source]]
id = "real"
name = "Bad Belzig"
publisher = "Stadt Bad Belzig"
url = "{bad_belzig.discovered and 'https://www.bad-belzig.de/news/'}"
kind = "auto"
licence = "dl-by-de/2.0"
""")
        store.sync_sources(config.sources)
        store.apply_crawl(store.begin_run(), bad_belzig, utcnow())
        entry = store.health(["real"])["real"]
    assert entry["status"] == "degraded"
    assert "literal byte escapes" in entry["reason"]
    assert entry["items"] == 20  # read as far as it goes, and published
    assert entry["discovered"].startswith("RSS feed ")


def _teasers(fresh: SiteServer, **extra: object) -> CrawlResult:
    return crawl(auto(fresh.url("/feed.xml"), **extra), FAST)


def test_teasers_become_articles_once_and_unreachable_ones_stay_teasers(
        serve_site: Callable[..., SiteServer]) -> None:
    site = serve_site(CLASSES / "teasers")
    result = _teasers(site)
    assert result.ok, result.error
    titles = by_title(result)
    assert set(titles) == {"Neue Bänke am Rundweg", "Sperrung der Dorfstraße",
                           "Sprechstunde des Bürgermeisters"}
    benches = titles["Neue Bänke am Rundweg"]
    assert "Mühlental" in benches.content_text  # the article's text, not the teaser's
    assert benches.summary.startswith("Am Rundweg um den Teich stehen seit Montag")
    assert site.hits("/meldungen/baenke.html") == 1
    # The link answers 404: the teaser stays, with a note and a warning, not a failure.
    closed = titles["Sperrung der Dorfstraße"]
    assert closed.content_text.startswith("Die Dorfstraße wird zwischen Kirche und Schule")
    assert any("could not be read" in note for note in closed.notes)
    assert any("teaser kept" in warning for warning in result.warnings)
    # A whole short text is no teaser: its page is not fetched.
    assert site.hits("/meldungen/sprechstunde.html") == 0
    assert "teaser" in result.discovered

    # Conditional GET: an unchanged feed is a 304 and no article is asked for again; with the
    # feed changed, the article's 304 keeps the record read last time.
    hits = site.hits("/meldungen/baenke.html")
    again = crawl(auto(site.url("/feed.xml")), FAST, validators=result.validators)
    assert again.not_modified and site.hits("/meldungen/baenke.html") == hits
    article_only = {url: v for url, v in result.validators.items() if "baenke" in url}
    again = crawl(auto(site.url("/feed.xml")), FAST, validators=article_only)
    assert benches.key in again.unchanged_keys
    assert "Neue Bänke am Rundweg" not in by_title(again)

    # The source can say no.
    before = site.hits("/meldungen/baenke.html")
    off = _teasers(site, follow_teasers=False)
    assert off.ok and site.hits("/meldungen/baenke.html") == before
    assert "Mühlental" not in by_title(off)["Neue Bänke am Rundweg"].content_text


def test_first_image_of_an_item_with_its_alt_text(serve_site: Callable[..., SiteServer],
                                                  bad_belzig: CrawlResult) -> None:
    site = serve_site(CLASSES / "teasers")
    result = _teasers(site, follow_teasers=False)
    benches = by_title(result)["Neue Bänke am Rundweg"]
    assert benches.image == site.url("/bilder/bank.jpg")
    assert benches.image_alt == "Die neue Bank am Teich"
    cafe = by_title(bad_belzig)["Landcafé mit Osterbasteleien"]
    assert cafe.image == ("https://vorschau.verwaltungsportal.de/news/4/9/6/8/3/7/"
                          "4103594917.png")
    assert cafe.image_alt == "Landcafé mit Osterbasteleien"


def test_the_cms_is_asked_first(serve_site: Callable[..., SiteServer]) -> None:
    # A WordPress page that advertises no feed: its /feed/ is asked for and read.
    wordpress = serve_site(CLASSES / "wordpress")
    result = crawl(auto(wordpress.url("/")), FAST)
    assert result.ok, result.error
    assert [r.title for r in result.records] == ["Frühjahrsputz am Dorfteich"]
    assert result.discovered.startswith(
        f"RSS feed {wordpress.url('/feed/')} (CMS probe: WordPress, the site's posts feed)")
    assert "erschien zuerst auf" not in result.records[0].content_text

    # TYPO3: the tx_news RSS view of the list page, before the list itself.
    def rss_view(request: Request) -> Reply:
        if "type=9818" in request.query:
            return Reply(file="/aktuelles/rss.xml")
        return Reply()

    typo3 = serve_site(CLASSES / "typo3", {"/aktuelles/": rss_view})
    result = crawl(auto(typo3.url("/aktuelles/")), FAST)
    assert result.ok, result.error
    assert {r.key for r in result.records} == {"news-12", "news-11"}
    assert "CMS probe: TYPO3, tx_news RSS view, type=9818" in result.discovered

    # Without the RSS view (a 404 is a normal answer) the list is read, and health says why.
    plain = serve_site(CLASSES / "typo3")
    result = crawl(auto(plain.url("/aktuelles/")), FAST)
    assert result.ok, result.error
    assert {r.title for r in result.records} == {"Neue Kita eröffnet", "Haushalt beschlossen"}
    assert "list of 2 blocks" in result.discovered
    assert "not used: RSS feed" in result.discovered and "type=9818" in result.discovered


def test_the_article_wins_over_its_latest_news_column(
        offline_world: None, real: Callable[[str], tuple[SiteServer, str]]) -> None:
    # LBV (Contao): three "latest news" teasers, dated, beside the article.
    _, url = real("lbv-bayern")
    result = crawl(auto(url), FAST)
    assert result.ok, result.error
    assert [r.title for r in result.records] == [
        "Lebenszeichen von Bavaria nach zwei Monaten Funkstille"]
    assert "beside the page's own article" not in (result.error or "")
    # N-LAND (WordPress): "Aktuelle Nachrichten" and breadcrumbs in schema.org around it.
    _, url = real("n-land-simmelsdorf")
    result = crawl(auto(url), FAST)
    assert [r.title for r in result.records] == ["74-Jähriger stirbt nach Unfall in Simmelsdorf"]


def test_a_single_article_page_is_a_source(
        offline_world: None, real: Callable[[str], tuple[SiteServer, str]]) -> None:
    # A wiki page and a club's post: no feed, no list, no date in the markup.
    _, url = real("piratenwiki-kassel")
    result = crawl(auto(url), FAST)
    assert result.ok, result.error
    assert [r.title for r in result.records] == ["HE:Kassel/Stammtisch"]
    assert "a single article page" in result.discovered
    _, url = real("scs78-segelclub")
    result = crawl(auto(url), FAST)
    assert [r.title for r in result.records] == ["Warm war es.... schön war es..."]
    # The page's headline, not <title> with the club's name.
    assert result.records[0].date_published == date(2018, 6, 10)


def test_undated_news_of_a_home_page(
        offline_world: None, real: Callable[[str], tuple[SiteServer, str]]) -> None:
    site, url = real("stuttgart-home")
    result = crawl(auto(url), FAST)
    assert result.ok, result.error
    gold = json.loads((SITES / "stuttgart-home" / "gold.json").read_text())["items"]
    assert {r.title for r in result.records} == {item["title"] for item in gold}
    assert all(r.kind == "news" for r in result.records)
    assert "home page links to /item/show/{n}" in result.discovered
    # Its detail pages are not served here: each item keeps what the home page says.
    assert site.hits("/item/show/638010") == 1


def test_an_old_list_without_dates_is_read_and_dated_from_its_pages(
        serve_site: Callable[..., SiteServer]) -> None:
    # Layout tables, <font>, <base href>, two meta charsets that contradict each other (the
    # bytes are ISO-8859-1), entries without dates; the articles say "Artikel vom …".
    site = serve_site(CLASSES / "oldmarkup")
    result = crawl(auto(site.url("/aktuelles.html")), FAST)
    assert result.ok, result.error
    dates = {r.title: r.date_published for r in result.records}
    assert dates == {"Trinkwasser wieder frei": date(2024, 6, 3),
                     "Neue Straßenlaternen im Ortskern": date(2024, 5, 28),
                     # No date anywhere: dated when first seen (the item says so).
                     "Ferienprogramm für Kinder und Jugendliche": None}
    assert {r.url for r in result.records} == {
        site.url(f"/cms/meldungen/{name}.html") for name in ("wasser", "laterne", "ferien")}
    assert result.discovered.startswith("list of 3 blocks table > tr with title font b a")


def test_a_configured_feed_follows_its_teasers_too(
        serve_site: Callable[..., SiteServer]) -> None:
    site = serve_site(CLASSES / "teasers")
    source = auto(site.url("/feed.xml")).model_copy(update={"kind": "rss"})
    result = crawl(source, FAST)
    assert result.ok, result.error
    titles = by_title(result)
    assert "Mühlental" in titles["Neue Bänke am Rundweg"].content_text
    assert titles["Sperrung der Dorfstraße"].notes
    assert site.hits("/meldungen/baenke.html") == 1
