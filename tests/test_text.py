"""Tests for spiders.text: plain-text clean-up, HTML to text and HTML sanitising."""

from __future__ import annotations

import pytest

from regiofeed.models.normalise.text import clean_text, html_to_text, sanitize_html

# From seed 000: the body follows the heading twice, line by line (mobile + desktop copy).
SEED_000 = """Digital und Coworking Engagement
Die fortschreitende Digitalisierung aller Lebensbereiche bietet Chancen, birgt aber auch Risiken für die Menschen.
Der Beteiligungsprozess der Stadtgesellschaft wird sowohl in analogen Präsenzveranstaltungen als auch mithilfe von digitalen Formate geführt.
Wir freuen uns, wenn Sie sich beteiligen!
Die fortschreitende Digitalisierung aller Lebensbereiche bietet Chancen, birgt aber auch Risiken für die Menschen.
Der Beteiligungsprozess der Stadtgesellschaft wird sowohl in analogen Präsenzveranstaltungen als auch mithilfe von digitalen Formate geführt.
Wir freuen uns, wenn Sie sich beteiligen!
Bad Belzig 2030 - Meine Stadt der Zukunft
Stadt Bad Belzig
Wiesenburger Str. 6
14806 Bad Belzig"""  # noqa: E501

# From seed 001: paragraphs with blank lines between them, headings included, all twice.
SEED_001 = """Ankommen – Mitmachen – innovativ & nachhaltig Leben

Initiativen, Angebote und Menschen im Hohen Fläming

Ankommen – Mitmachen – innovativ & nachhaltig Leben

Initiativen, Angebote und Menschen im Hohen Fläming

Der Hintergrund

Die Digitalisierung durchdringt aktuell alle Bereiche des gesellschaftlichen Lebens.

Warum?

  • Entwicklung einer Digitalisierungsstrategie
  • Aufbau einer Organisationsstruktur

Der Hintergrund

Die Digitalisierung durchdringt aktuell alle Bereiche des gesellschaftlichen Lebens.

Warum?

  • Entwicklung einer Digitalisierungsstrategie
  • Aufbau einer Organisationsstruktur

Modellprojekt Smart City Bad Belzig+Wiesenburg(M.)
Magdeburger Straße 5
14806 Bad Belzig"""


def test_clean_text_drops_the_repeated_copy_of_a_line_by_line_body() -> None:
    assert clean_text(SEED_000) == "\n".join(
        [
            "Digital und Coworking Engagement",
            "Die fortschreitende Digitalisierung aller Lebensbereiche bietet Chancen, birgt aber"
            " auch Risiken für die Menschen.",
            "Der Beteiligungsprozess der Stadtgesellschaft wird sowohl in analogen"
            " Präsenzveranstaltungen als auch mithilfe von digitalen Formate geführt.",
            "Wir freuen uns, wenn Sie sich beteiligen!",
            "Bad Belzig 2030 - Meine Stadt der Zukunft",
            "Stadt Bad Belzig",
            "Wiesenburger Str. 6",
            "14806 Bad Belzig",
        ]
    )


def test_clean_text_drops_repeated_paragraphs_and_headings() -> None:
    assert clean_text(SEED_001) == (
        "Ankommen – Mitmachen – innovativ & nachhaltig Leben\n\n"
        "Initiativen, Angebote und Menschen im Hohen Fläming\n\n"
        "Der Hintergrund\n\n"
        "Die Digitalisierung durchdringt aktuell alle Bereiche des gesellschaftlichen Lebens.\n\n"
        "Warum?\n\n"
        "• Entwicklung einer Digitalisierungsstrategie\n"
        "• Aufbau einer Organisationsstruktur\n\n"
        "Modellprojekt Smart City Bad Belzig+Wiesenburg(M.)\n"
        "Magdeburger Straße 5\n"
        "14806 Bad Belzig"
    )


def test_clean_text_keeps_short_repeated_lines_of_separate_entries() -> None:
    text = "Termin:\n25.08.2023\nOrt:\nMünster\nTermin:\n26.09.2023\nOrt:\nMünster"
    assert clean_text(text) == text


def test_clean_text_normalises_whitespace_and_line_endings() -> None:
    text = "\ufeff  Eins\u00a0\u00a0zwei\t drei\u200b \r\n\r\n\r\n\n Vier\u202ffünf  \rsechs  \n\n"
    assert clean_text(text) == "Eins zwei drei\n\nVier fünf\nsechs"


def test_clean_text_compares_paragraphs_ignoring_case_and_spacing() -> None:
    assert clean_text("Der  Hintergrund\n\nText\n\nder hintergrund") == "Der Hintergrund\n\nText"


@pytest.mark.parametrize("text", ["", "   ", "\n\n\u200b\n"])
def test_clean_text_of_nothing_is_empty(text: str) -> None:
    assert clean_text(text) == ""


def test_html_to_text_makes_paragraphs_lines_and_drops_chrome() -> None:
    html = """<html><head><title>Seite</title><style>p { color: red }</style></head><body>
    <nav><a href="/">Startseite</a> <a href="/aktuelles/">Aktuelles</a></nav>
    <h2>Regionalkonferenz</h2>
    <p>Datum: 5. September
       2024<br>Uhrzeit: 10:00 Uhr</p>
    <ul><li>Workshops</li><li>Panels</li></ul>
    <script>track()</script>
    <div>Lose <b>fett</b> Text</div>
    </body></html>"""
    assert html_to_text(html) == (
        "Regionalkonferenz\n\n"
        "Datum: 5. September 2024\nUhrzeit: 10:00 Uhr\n\n"
        "Workshops\nPanels\n\n"
        "Lose fett Text"
    )


def test_html_to_text_drops_the_responsive_copy() -> None:
    html = (
        '<div class="mobile"><h3>Warum?</h3><p>Weil es hilft.</p></div>'
        '<div class="desktop"><h3>Warum?</h3><p>Weil   es hilft.</p></div>'
    )
    assert html_to_text(html) == "Warum?\n\nWeil es hilft."


def test_html_to_text_reads_two_line_breaks_as_a_paragraph() -> None:
    assert html_to_text("<p>Eins<br><br>Zwei<br>Drei</p>") == "Eins\n\nZwei\nDrei"


@pytest.mark.parametrize("html", ["", "   ", "<!-- nur ein Kommentar -->", "<script>x()</script>"])
def test_html_to_text_of_nothing_is_empty(html: str) -> None:
    assert html_to_text(html) == ""


BASE = "https://www.bad-belzig.de/aktuelles/meldung.html"


def test_sanitize_html_keeps_allowed_markup_and_makes_urls_absolute() -> None:
    html = (
        '<p class="lead" style="color:red">Die <strong>Konferenz</strong> im '
        '<a href="../kultur/" title="Kultur" target="_blank">Kulturzentrum</a>.</p>'
        '<figure><img src="bild.jpg" alt="Saal" width="300"><figcaption>Saal</figcaption></figure>'
        '<p><time datetime="2024-09-05">5. September</time></p>'
    )
    assert sanitize_html(html, BASE) == (
        "<p>Die <strong>Konferenz</strong> im "
        '<a href="https://www.bad-belzig.de/kultur/" title="Kultur" rel="noopener noreferrer">'
        "Kulturzentrum</a>.</p>\n"
        '<figure><img src="https://www.bad-belzig.de/aktuelles/bild.jpg" alt="Saal">'
        "<figcaption>Saal</figcaption></figure>\n"
        '<p><time datetime="2024-09-05">5. September</time></p>'
    )


def test_sanitize_html_removes_scripts_styles_handlers_and_javascript_urls() -> None:
    html = (
        "<script>alert(1)</script><style>p{}</style>"
        '<p onclick="steal()">Hallo <a href="javascript:alert(1)">Welt</a></p>'
        '<img src="javascript:alert(1)" onerror="x()"><iframe src="https://evil.example"></iframe>'
    )
    cleaned = sanitize_html(html, BASE)
    assert cleaned == "<p>Hallo Welt</p>"


def test_sanitize_html_drops_repeated_blocks() -> None:
    html = (
        '<div class="mobile"><h2>Der Hintergrund</h2><p>Die Digitalisierung durchdringt alles.</p>'
        "<ul><li>Eins</li><li>Zwei</li></ul></div>"
        '<div class="desktop"><h2>Der Hintergrund</h2><p>Die  Digitalisierung durchdringt alles.'
        "</p><ul><li>Eins</li><li>Zwei</li></ul></div>"
    )
    assert sanitize_html(html) == (
        "<h2>Der Hintergrund</h2>\n"
        "<p>Die Digitalisierung durchdringt alles.</p>\n"
        "<ul><li>Eins</li><li>Zwei</li></ul>"
    )


def test_sanitize_html_keeps_a_block_that_only_wraps_an_equal_block() -> None:
    html = "<blockquote><p>Ein Zitat.</p></blockquote>"
    assert sanitize_html(html) == html


def test_sanitize_html_removes_empty_elements_and_tidies_whitespace() -> None:
    html = "<p>  </p><p><br></p><p>\n  Text   mit\n Umbruch <br> </p><ul><li> </li></ul><b></b>"
    assert sanitize_html(html) == "<p>Text mit Umbruch</p>"


def test_sanitize_html_keeps_layout_blocks_apart() -> None:
    html = "<div>Vorspann <em>kurz</em></div><h1>Titel</h1><section><div>A</div>B</section>"
    assert sanitize_html(html) == (
        "<p>Vorspann <em>kurz</em></p>\n<h2>Titel</h2>\n<p>A</p>\n<p>B</p>"
    )


def test_sanitize_html_wraps_loose_text_in_paragraphs() -> None:
    html = "Erster <b>Satz</b><p>Absatz</p>Nachsatz"
    assert sanitize_html(html) == "<p>Erster <b>Satz</b></p>\n<p>Absatz</p>\n<p>Nachsatz</p>"


def test_sanitize_html_reads_whole_documents() -> None:
    html = "<!DOCTYPE html><html><head><title>T</title></head><body><p>Inhalt</p></body></html>"
    assert sanitize_html(html) == "<p>Inhalt</p>"


@pytest.mark.parametrize("html", ["", "   ", "<script>x()</script>", "<div><p> </p></div>"])
def test_sanitize_html_of_nothing_is_empty(html: str) -> None:
    assert sanitize_html(html) == ""
