"""What CMSs add around an item's text: "[mehr]", "Weiterlesen", "[…]", "Der Beitrag … erschien
zuerst auf …", share and print links, the title glued again to the teaser. Taken out of HTML
before it is sanitised, and out of plain text."""

from __future__ import annotations

import re

# Link texts that only lead elsewhere: to the article, to a share button, to the printer.
_LINK_LABELS = (
    r"mehr|mehr\s*(?:\.\.\.|…|»|>+)|\.\.\.\s*mehr|weiter|weiterlesen|weiter\s+lesen|"
    r"(?:hier\s+)?weiterlesen\s*(?:→|»|>+)?|mehr\s+lesen|mehr\s+erfahren|zum\s+artikel|"
    r"zur\s+meldung|zum\s+beitrag|read\s+more|continue\s+reading|»|"
    r"drucken|seite\s+drucken|artikel\s+drucken|teilen|share|tweet|twittern|"
    r"empfehlen|versenden|per\s+e-?mail\s+(?:senden|versenden|teilen)"
)
_LABEL_LINK_RE = re.compile(
    rf"\[?\s*<a\b[^>]*>\s*(?:<[^>]+>\s*)*(?:{_LINK_LABELS})\s*(?:<[^>]+>\s*)*</a>\s*\]?",
    re.IGNORECASE)
_ELLIPSIS_BRACKET_RE = re.compile(r"\s*\[\s*(?:…|\.\.\.|&hellip;|&#8230;|&#x2026;)\s*\]",
                                  re.IGNORECASE)
# WordPress's feed footer: "Der Beitrag <a>X</a> erschien zuerst auf <a>Y</a>."
_FIRST_APPEARED_HTML_RE = re.compile(
    r"<p>(?:(?!</p>).)*?(?:erschien\s+zuerst\s+auf|appeared\s+first\s+on)(?:(?!</p>).)*</p>",
    re.IGNORECASE | re.DOTALL)
_FIRST_APPEARED_TEXT_RE = re.compile(
    r"^(?:Der\s+Beitrag|The\s+post)\b.*?(?:erschien\s+zuerst\s+auf|appeared\s+first\s+on)"
    r".*$", re.IGNORECASE | re.MULTILINE)
_LABEL_LINE_RE = re.compile(rf"^\s*\[?\s*(?:{_LINK_LABELS})\s*\]?\s*$",
                            re.IGNORECASE | re.MULTILINE)
_TRAILING_LABEL_RE = re.compile(r"\s*(?:\[\s*mehr\s*\]|\[\s*(?:…|\.\.\.)\s*\])\s*$",
                                re.IGNORECASE)


def strip_html(html: str) -> str:
    """Remove boilerplate links, "[…]" and the "erschien zuerst auf" footer from HTML.

    >>> strip_html('<p>Text ... <br />[<a href="/n?1" title="Zur Meldung">mehr</a>]</p>')
    '<p>Text ... <br /></p>'
    >>> strip_html('<p>Anfang [&hellip;]</p><p>Der Beitrag <a href="/x">X</a> erschien zuerst '
    ...            'auf <a href="/">Y</a>.</p>')
    '<p>Anfang</p>'
    """
    html = _FIRST_APPEARED_HTML_RE.sub("", html)
    html = _LABEL_LINK_RE.sub("", html)
    return _ELLIPSIS_BRACKET_RE.sub("", html)


def strip_text(text: str, title: str | None = None) -> str:
    """Remove boilerplate lines, a trailing "[mehr]" or "[…]", and the title glued again to
    the start of the text ("Nordwächter initiiertGemeinsames Maßnahmenpaket …").

    >>> strip_text("Nordwächter initiiertGemeinsames Paket\\n\\nWeiterlesen",
    ...            "Nordwächter initiiert")
    'Gemeinsames Paket'
    >>> strip_text("Kurz gesagt [...]")
    'Kurz gesagt'
    """
    text = _FIRST_APPEARED_TEXT_RE.sub("", text)
    text = _LABEL_LINE_RE.sub("", text)
    text = _TRAILING_LABEL_RE.sub("", text)
    text = _ELLIPSIS_BRACKET_RE.sub("", text)
    if title:
        text = _unglue_title(text, title)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _unglue_title(text: str, title: str) -> str:
    """Drop the title from the text's start when it is glued to it or stands alone there."""
    head = title.strip()
    if len(head) < 8 or not text.startswith(head):
        return text
    rest = text[len(head):]
    if not rest.strip():
        return text
    # Glued ("…initiiertGemeinsames") or on a line of its own: either way a repeat.
    return rest.lstrip(" \n:–-")
