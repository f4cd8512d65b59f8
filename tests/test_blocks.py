"""The repeated-block detector on the markup of real systems, and pagination, without selectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from regiofeed.spiders.blocks import find_date, strip_date
from regiofeed.spiders.listpage import find_list_blocks
from regiofeed.spiders.pagination import current_page_number, find_next_page

DEMO = Path(__file__).resolve().parents[1] / "flows" / "demo" / "sites"
MARKUP = Path(__file__).parent / "sites" / "auto" / "markup"
URL = "https://www.musterstadt.de/aktuelles/"


def page(body: str, head: str = "") -> str:
    """A page with the chrome every municipal site has: menu, breadcrumb, footer links."""
    return f"""<!DOCTYPE html><html lang="de"><head><title>Musterstadt</title>{head}</head>
<body>
<header id="header"><a href="/">Musterstadt</a>
<nav class="main-nav"><ul>
<li><a href="/rathaus/buergerservice/">Bürgerservice und Verwaltung</a></li>
<li><a href="/leben/kitas-und-schulen/">Kitas und Schulen in Musterstadt</a></li>
<li><a href="/aktuelles/">Aktuelles</a></li></ul></nav></header>
<div class="breadcrumb"><a href="/">Start</a> › <a href="/aktuelles/">Aktuelles</a></div>
<main>{body}</main>
<footer><ul><li><a href="/impressum/">Impressum der Stadt</a></li>
<li><a href="/datenschutz/">Datenschutzerklärung lesen</a></li></ul></footer>
</body></html>"""


def markup(name: str) -> str:
    """The body of a list page as a system emits it (tests/sites/auto/markup/)."""
    return (MARKUP / name).read_text(encoding="utf-8")


def titles(found) -> list[str]:
    return [block.title for block in found.blocks]


TYPO3_NEWS = page(markup("typo3-news.html"))


def test_typo3_tx_news_list() -> None:
    found = find_list_blocks(TYPO3_NEWS, URL)
    assert found is not None
    assert titles(found) == ["Baustelle in der Hauptstraße", "Ergebnisse der Kommunalwahl",
                             "Stadtfest 2024: Programm steht"]
    first = found.blocks[0]
    assert first.link == "https://www.musterstadt.de/aktuelles/detail/baustelle-hauptstrasse/"
    assert first.date_text == "2024-05-27"
    assert first.summary == "Ab Montag ist die Hauptstraße halbseitig gesperrt. Weiterlesen"
    assert found.item == "div.news-list-view > div.article"
    assert found.title == "div.header h3 a"
    assert found.date == "time[datetime]"
    assert find_next_page(TYPO3_NEWS, URL) == (
        "https://www.musterstadt.de/aktuelles/?tx_news_pi1%5BcurrentPage%5D=2&cHash=abc")


WORDPRESS_ARCHIVE = page(markup("wordpress-archive.html"))


def test_wordpress_archive() -> None:
    url = "https://www.musterstadt.de/category/neuigkeiten/"
    found = find_list_blocks(WORDPRESS_ARCHIVE, url)
    assert found is not None
    assert titles(found) == ["Neue Buslinie ins Gewerbegebiet",
                             "Freibad öffnet am Pfingstwochenende"]
    assert [b.date_text for b in found.blocks] == ["2024-05-27T08:30:00+02:00",
                                                   "2024-05-20T10:00:00+02:00"]
    assert found.blocks[0].summary.startswith("Ab Juni fährt die Linie 12")
    assert found.item == "main > article.post.type-post"
    assert find_next_page(WORDPRESS_ARCHIVE, url) == (
        "https://www.musterstadt.de/category/neuigkeiten/page/2/")


JOOMLA_BLOG = page(markup("joomla-blog.html"))


def test_joomla_blog_leading_and_rows_are_one_list() -> None:
    url = "https://www.musterstadt.de/index.php/aktuelles"
    found = find_list_blocks(JOOMLA_BLOG, url)
    assert found is not None
    # The leading item sits in another wrapper than the rows: the rows are the list.
    assert titles(found)[-2:] == ["Glasfaserausbau beginnt", "Neue Termine für Sperrmüll"]
    assert found.blocks[-1].date_text == "2024-05-14T09:00:00+00:00"
    assert find_next_page(JOOMLA_BLOG, url) == (
        "https://www.musterstadt.de/index.php/aktuelles?start=3")


TERMINE_TABLE = page(markup("termine-table.html"))


def test_hand_kept_table_of_events() -> None:
    found = find_list_blocks(TERMINE_TABLE, "https://www.musterstadt.de/termine/")
    assert found is not None
    assert titles(found) == ["Kinderfest am Dorfteich", "125 Jahre Feuerwehr",
                             "Orgelkonzert in der Dorfkirche"]
    assert [b.date_text for b in found.blocks] == [
        "Sa, 01.06.2024, 14 Uhr", "15.06.2024 – 16.06.2024", "So, 23.06.2024, 10:00 - 12:00 Uhr"]
    assert found.item == "tbody > tr"


DATE_PREFIX_LIST = page(markup("date-prefix-list.html"))


def test_date_prefix_leaves_the_title_and_becomes_the_date() -> None:
    found = find_list_blocks(DATE_PREFIX_LIST, "https://www.musterstadt.de/bekanntmachungen/")
    assert found is not None
    assert titles(found) == ["Wahlergebnisse der Kommunalwahl", "Haushaltssatzung 2019",
                             "Amtsblatt Nr. 3/2019"]
    assert [b.date_text for b in found.blocks] == ["27.05.2019", "02.04.2019", "15.03.2019"]
    assert found.blocks[2].link.endswith(".pdf")


CARDS = page(markup("cards.html"))


def test_cards_with_read_more_buttons_take_the_heading() -> None:
    url = "https://www.musterstadt.de/neuigkeiten"
    found = find_list_blocks(CARDS, url)
    assert found is not None
    assert titles(found) == ["Frühjahrsputz im Ortsteil", "Osterfeuer abgesagt",
                             "Neue Bänke am Rundweg"]
    assert found.blocks[0].link == "https://www.musterstadt.de/neuigkeiten/fruehjahrsputz"
    assert [b.date_text for b in found.blocks] == ["12.04.2024", "05.04.2024", "28.03.2024"]
    assert found.blocks[1].summary == "Wegen Trockenheit fällt das Osterfeuer aus."
    # No "next" link: the page number after the current one.
    assert find_next_page(CARDS, url) == "https://www.musterstadt.de/neuigkeiten?page=2"


DEFINITION_LIST = page(markup("definition-list.html"))


def test_definition_list_dates_come_from_the_dt() -> None:
    found = find_list_blocks(DEFINITION_LIST, "https://www.musterstadt.de/termine/")
    assert found is not None
    assert titles(found) == ["Sitzung des Ortsbeirates", "Sommerfest der Kita Sonnenschein",
                             "Radtour durch den Fläming"]
    assert [b.date_text for b in found.blocks] == [
        "Freitag, 7. Juni 2024", "Samstag, 8. Juni 2024", "Sonntag, 16. Juni 2024"]


DATE_HEADINGS = page(markup("date-headings.html"))


def test_date_headings_above_groups_of_events() -> None:
    found = find_list_blocks(DATE_HEADINGS, "https://www.musterstadt.de/kalender/")
    assert found is not None
    assert [(b.title, b.date_text) for b in found.blocks] == [
        ("Flohmarkt auf dem Marktplatz", "Samstag, 1. Juni 2024"),
        ("Lesung in der Stadtbibliothek", "Samstag, 1. Juni 2024"),
        ("Geführte Wanderung zum Hagelberg", "Sonntag, 2. Juni 2024"),
    ]


def test_a_page_of_links_without_dates_is_no_list() -> None:
    links = page("""<h1>Rathaus</h1><ul>
    <li><a href="/rathaus/ansprechpartner/">Ansprechpartner im Rathaus</a></li>
    <li><a href="/rathaus/oeffnungszeiten/">Öffnungszeiten der Verwaltung</a></li>
    <li><a href="/rathaus/formulare/">Formulare und Anträge online</a></li></ul>""")
    assert find_list_blocks(links, "https://www.musterstadt.de/rathaus/") is None


def test_an_article_with_one_related_teaser_is_no_list() -> None:
    text = "<p>" + "Der Stadtrat hat in seiner Sitzung ausführlich beraten. " * 40 + "</p>"
    article = page(f"""<article><h1>Haushalt beschlossen</h1><p>Veröffentlicht am 3. Juni 2024</p>
    {text}</article>
    <section class="related"><h2>Das könnte Sie interessieren</h2>
    <div class="teaser"><h3><a href="/aktuelles/steuern/">Grundsteuer bleibt stabil</a></h3>
    <span class="date">01.06.2024</span></div></section>""")
    assert find_list_blocks(article, "https://www.musterstadt.de/aktuelles/haushalt/") is None


def test_menus_and_footers_are_never_the_list() -> None:
    only_chrome = page("<h1>Willkommen</h1><p>Schön, dass Sie da sind.</p>")
    assert find_list_blocks(only_chrome, "https://www.musterstadt.de/") is None


def test_next_page_on_the_following_page_keeps_the_list() -> None:
    second = TYPO3_NEWS.replace("Baustelle in der Hauptstraße", "Sperrung der Brücke")
    first = find_list_blocks(TYPO3_NEWS, URL)
    again = find_list_blocks(second, URL + "?page=2", signature=first.signature)
    assert again is not None and again.signature == first.signature
    assert titles(again)[0] == "Sperrung der Brücke"


@pytest.mark.parametrize("site,path,title,date_text", [
    ("bad-belzig", "aktuelles/index.html",
     "16. Regionalkonferenz für Smart Cities in Bad Belzig", "2024-08-07"),
    ("bad-belzig", "aktuelles/seite-2/index.html",
     "Bad Belzig 2030 - Meine Stadt der Zukunft", "2021-09-01"),
    ("mitarbeit", "veranstaltungen/seminare/index.html",
     "Die digitale Stadt gemeinsam mit den Bürger/innen entwickeln", "25.08.2023 – 26.08.2023"),
    ("smart-city-dialog", "aktuelles/index.html",
     "Dörfer, Daten, Daseinsvorsorge – 16. Regionalkonferenz für Smart Cities", "07.08.2024"),
])
def test_demo_list_pages_give_the_configured_items(
    site: str, path: str, title: str, date_text: str
) -> None:
    html = (DEMO / site / path).read_text(encoding="utf-8")
    url = "http://127.0.0.1:8000/" + path.removesuffix("index.html")
    found = find_list_blocks(html, url)
    assert found is not None
    assert [(b.title, b.date_text) for b in found.blocks] == [(title, date_text)]


def test_demo_detail_pages_are_no_lists() -> None:
    for detail in (DEMO / "bad-belzig" / "aktuelles" / "detail").glob("*/index.html"):
        assert find_list_blocks(detail.read_text(encoding="utf-8"),
                                "http://127.0.0.1:8000/aktuelles/detail/x/") is None


@pytest.mark.parametrize("html,url,expected", [
    ('<a rel="next" href="/p/2">2</a>', "https://x.de/p/1", "https://x.de/p/2"),
    ('<link rel="next" href="https://x.de/news/page/3/">', "https://x.de/news/page/2/",
     "https://x.de/news/page/3/"),
    ('<a class="tribe-events-c-nav__next" href="/events/seite/2/">Nächste Veranstaltungen</a>',
     "https://x.de/events/", "https://x.de/events/seite/2/"),
    ('<div class="pager"><a href="/n?seite=2">»</a></div>', "https://x.de/n",
     "https://x.de/n?seite=2"),
    ('<a href="/n/seite-3/">3</a><a href="/n/seite-1/">1</a>', "https://x.de/n/seite-2/",
     "https://x.de/n/seite-3/"),
    ('<a aria-label="Gehe zur nächsten Seite" class="page-link" href="/a?start=10"></a>',
     "https://x.de/a", "https://x.de/a?start=10"),
    ('<a href="/a/weiter">Weiterlesen</a>', "https://x.de/a", None),
    ('<a href="https://other.example/p/2" rel="next">2</a>', "https://x.de/p/1", None),
])
def test_find_next_page(html: str, url: str, expected: str | None) -> None:
    assert find_next_page(f"<html><body>{html}</body></html>", url) == expected


def test_page_numbers_and_dates() -> None:
    assert current_page_number("https://x.de/a?tx_news_pi1%5BcurrentPage%5D=4") == 4
    assert current_page_number("https://x.de/a/seite-3/") == 3
    assert find_date("Termin: 3.–5.10.2024 im Park")[0] == "3.–5.10.2024"
    assert find_date("Sa., 1. Juni 2024 @ 10:00 - 12:00")[0] == "Sa., 1. Juni 2024 @ 10:00 - 12:00"
    assert find_date("2024-05-27T08:30:00+02:00")[0] == "2024-05-27T08:30:00+02:00"
    assert find_date("Telefon 03384 12.34.56") is None
    assert strip_date("Stadtfest (15.06.2024)") == ("Stadtfest", "15.06.2024")
    assert strip_date("16. Regionalkonferenz") == ("16. Regionalkonferenz", None)
