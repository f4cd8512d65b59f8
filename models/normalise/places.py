"""Event places as German pages write them, split into schema.org Place/PostalAddress parts."""

from __future__ import annotations

import re

from regiofeed.models.records import Location

_POSTAL_RE = re.compile(r"^(?P<postal_code>\d{5})\s+(?P<locality>\D.*)$")
# Street words, also as the end of a compound ("Weitzgrunder Str.", "Marktplatz", "Am Anger").
_STREET_WORD_RE = re.compile(
    r"(?:stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|markt|anger|steig"
    r"|pfad|promenade|zeile|graben|kamp|stieg|twiete|berg|park|hof|tor|brücke|siedlung)\b",
    re.IGNORECASE,
)
_HOUSE_NUMBER_RE = re.compile(r"^\D*\S\s+\d{1,4}\s?[a-zA-Z]?(?:\s*[-–/]\s*\d{1,4}\s?[a-zA-Z]?)?$")
# Venue words: a single part containing one is a place's name, not a town.
_VENUE_RE = re.compile(
    r"(?:haus|zentrum|center|kirche|halle|saal|schule|gymnasium|museum|bibliothek|bücherei"
    r"|galerie|kino|theater|stadion|scheune|kapelle|café|cafe|gaststätte|gasthof|restaurant"
    r"|rathaus|verwaltung|amt|büro|hotel|garten|park|platz|turm|schloss|werkstatt"
    r"|treff|kita|klub|club|bühne|forum|arena|aula|foyer|raum)\b|\b(?:burg|schloss|kloster"
    r"|haus|kirche|gut|villa|alte|altes|neue|neues)\s",
    re.IGNORECASE,
)
_REGION_SUFFIX_RE = re.compile(r"\s\([A-ZÄÖÜ][\w.]*\)$")
_LOCALITY_WORD_RE = re.compile(r"^(?:[A-ZÄÖÜ][\w.'’-]*|am|an|der|im|in|ob|bei|vor|\(\w+\.?\))$")
# Trailing notes that are not part of an address: "(barrierefrei)", "(Eingang über den Hof)".
# A single capitalised word in brackets stays: "Halle (Saale)", "Wiesenburg (Mark)".
_TRAILING_NOTE_RE = re.compile(r"\s*\((?![A-ZÄÖÜ][\w.]*\))[^()]*\)\s*$")
_ONLINE_RE = re.compile(
    r"\b(?:online|digital(?:e|en|er|es)?|virtuell(?:e|en|er|es)?|webinar(?:e)?|zoom|webex"
    r"|bigbluebutton|big\s+blue\s+button|videokonferenz(?:en)?|video-konferenz|videocall"
    r"|livestream|live-stream|(?:ms|microsoft)\s+teams|jitsi)\b",
    re.IGNORECASE,
)


def parse_location(text: str) -> Location | None:
    """Split a place text into name, street, postal code and locality; None if empty.

    A single bare place ("Münster") is a locality without a name; a single venue
    ("Kulturzentrum Bad Belzig") a name. Trailing notes such as "(barrierefrei)" are dropped.

    >>> place = parse_location("Kulturzentrum Bad Belzig, Weitzgrunder Str. 4, 14806 Bad Belzig")
    >>> place.name, place.street, place.postal_code, place.locality
    ('Kulturzentrum Bad Belzig', 'Weitzgrunder Str. 4', '14806', 'Bad Belzig')
    """
    parts = _split(text or "")
    if not parts:
        return None
    postal_code = locality = street = None
    for index in range(len(parts) - 1, -1, -1):
        match = _POSTAL_RE.match(parts[index])
        if match:
            postal_code, locality = match["postal_code"], match["locality"].strip()
            del parts[index]
            break
    street_index = _street_index(parts)
    if street_index is not None:
        street = parts[street_index]
        # Whatever follows the street is where it is ("Rathaus, Markt 1, Bad Belzig").
        after = parts[street_index + 1 :]
        if locality is None and len(after) == 1 and _looks_like_locality(after[0]):
            locality = after[0]
            after = []
        parts = parts[:street_index] + after
    elif locality is None and parts and _is_locality(parts[-1]):
        locality = parts.pop()
    name = ", ".join(parts) or None
    location = Location(name=name, street=street, postal_code=postal_code, locality=locality)
    return None if location.is_empty() else location


def is_online(text: str) -> bool:
    """Tell whether a place text says the event happens online (whole words only).

    >>> is_online("digital (Link per E-Mail)"), is_online("Haus der Digitalisierung")
    (True, False)
    """
    return bool(_ONLINE_RE.search(text or ""))


def _split(text: str) -> list[str]:
    """Normalise a place text and split it at commas, semicolons and line breaks."""
    text = re.sub(r"\s*\n\s*", ", ", text.strip())
    text = re.sub(r"[ \t\u00a0\u202f]+", " ", text).strip(" ,;")
    while True:
        stripped = _TRAILING_NOTE_RE.sub("", text).strip(" ,;")
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"\b(?:D|DE)\s*-\s*(?=\d{5}\b)", "", text)
    # "Weitzgrunder Straße 4 in 14806 Bad Belzig", "Markt 1 14806 Bad Belzig"
    text = re.sub(r"\s+in\s+(?=\d{5}\s)|(?<=[\w.])\s+(?=\d{5}\s+\D)", ", ", text)
    parts = re.split(r"\s*(?:[,;|]|\s[–—]\s)\s*", text)
    return [part.strip() for part in parts if part.strip()]


def _street_index(parts: list[str]) -> int | None:
    """Find the part that is a street with a house number, preferring one with a street word."""
    found = None
    for index, part in enumerate(parts):
        if not _HOUSE_NUMBER_RE.match(part):
            continue
        if _STREET_WORD_RE.search(part):
            return index
        # "Raum 2", "Saal 3" are rooms of the venue, not streets.
        if found is None and (index > 0 or len(parts) == 1) and not _VENUE_RE.search(part):
            found = index
    return found


def _is_locality(part: str) -> bool:
    """Tell whether a part standing alone at the end is a town rather than a venue."""
    # "Halle (Saale)": a town with its river or region in brackets, never a venue.
    venue = _VENUE_RE.search(part) and not _REGION_SUFFIX_RE.search(part)
    return _looks_like_locality(part) and not venue


def _looks_like_locality(part: str) -> bool:
    """Tell whether a part reads like a town: a few capitalised words, no digits, no venue."""
    words = part.replace("/", " ").split()
    if not words or len(words) > 4 or re.search(r"\d", part):
        return False
    return all(_LOCALITY_WORD_RE.match(word) for word in words)
