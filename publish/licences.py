"""Readable names for the licence URIs of http://dcat-ap.de/def/licenses/ and the rights line."""

from __future__ import annotations

from regiofeed.models.licences import LICENCE_BASE

# The names the dcat-ap.de vocabulary gives the licences sources use most; others show their id.
LABELS = {
    "dl-by-de/2.0": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
    "dl-zero-de/2.0": "Datenlizenz Deutschland – Zero – Version 2.0",
    "cc-by/4.0": "Creative Commons Namensnennung 4.0 International",
    "cc-by-sa/4.0": "Creative Commons Namensnennung – Weitergabe unter gleichen Bedingungen 4.0",
    "cc-zero": "Creative Commons CC0 1.0",
    "officialWork": "Amtliches Werk, lizenzfrei nach § 5 Abs. 1 UrhG",
    "other-open": "Andere offene Lizenz",
    "other-closed": "Andere geschlossene Lizenz",
}


def licence_label(uri: str) -> str:
    """Return the German name of a licence URI, or its id when the name is not known.

    >>> licence_label("http://dcat-ap.de/def/licenses/dl-by-de/2.0")
    'Datenlizenz Deutschland – Namensnennung – Version 2.0'
    >>> licence_label("http://dcat-ap.de/def/licenses/gfdl")
    'gfdl'
    """
    key = uri.removeprefix(LICENCE_BASE)
    return LABELS.get(key, key)


def rights_statement(publisher: str | None, licence: str | None) -> str:
    """Say who holds the rights to an item and under which licence, in one German line.

    >>> rights_statement("Stadt Bad Belzig", "http://dcat-ap.de/def/licenses/cc-zero")
    '© Stadt Bad Belzig · Lizenz: Creative Commons CC0 1.0 (http://dcat-ap.de/def/licenses/cc-zero)'
    """
    parts = []
    if publisher:
        parts.append(f"© {publisher}")
    if licence:
        parts.append(f"Lizenz: {licence_label(licence)} ({licence})")
    return " · ".join(parts)
