"""Tests for spiders.places: splitting place texts and recognising online events."""

from __future__ import annotations

import pytest

from regiofeed.models.normalise.places import is_online, parse_location
from regiofeed.models.records import Location


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Kulturzentrum Bad Belzig, Weitzgrunder Str. 4, 14806 Bad Belzig",
            Location(
                name="Kulturzentrum Bad Belzig",
                street="Weitzgrunder Str. 4",
                postal_code="14806",
                locality="Bad Belzig",
            ),
        ),
        ("Münster", Location(locality="Münster")),
        ("Bad Belzig", Location(locality="Bad Belzig")),
        ("Halle (Saale)", Location(locality="Halle (Saale)")),
        ("Frankfurt am Main", Location(locality="Frankfurt am Main")),
        (
            "Rathaus, Markt 1, Bad Belzig",
            Location(name="Rathaus", street="Markt 1", locality="Bad Belzig"),
        ),
        (
            "Weitzgrunder Straße 4 in 14806 Bad Belzig",
            Location(street="Weitzgrunder Straße 4", postal_code="14806", locality="Bad Belzig"),
        ),
        (
            "Markt 1 14806 Bad Belzig",
            Location(street="Markt 1", postal_code="14806", locality="Bad Belzig"),
        ),
        ("Kulturzentrum Bad Belzig (barrierefrei)", Location(name="Kulturzentrum Bad Belzig")),
        (
            "Rathaus, Markt 1, D-14806 Bad Belzig (Eingang über den Hof)",
            Location(name="Rathaus", street="Markt 1", postal_code="14806", locality="Bad Belzig"),
        ),
        (
            "Stadt Bad Belzig\nWiesenburger Str. 6\n14806 Bad Belzig",
            Location(
                name="Stadt Bad Belzig",
                street="Wiesenburger Str. 6",
                postal_code="14806",
                locality="Bad Belzig",
            ),
        ),
        ("Rathaus, Bad Belzig", Location(name="Rathaus", locality="Bad Belzig")),
        ("Bürgerhaus, Raum 2", Location(name="Bürgerhaus, Raum 2")),
        ("Gemeindehaus Wiesenburg", Location(name="Gemeindehaus Wiesenburg")),
        ("Am Anger 3, Schmerwitz", Location(street="Am Anger 3", locality="Schmerwitz")),
    ],
)
def test_parse_location_splits_german_place_texts(text: str, expected: Location) -> None:
    assert parse_location(text) == expected


@pytest.mark.parametrize("text", ["", "   ", " , ", "(barrierefrei)"])
def test_parse_location_returns_none_for_empty_input(text: str) -> None:
    assert parse_location(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "digital",
        "online",
        "Online-Veranstaltung",
        "Videokonferenz",
        "Zoom",
        "per Zoom-Meeting",
        "Webex",
        "BigBlueButton",
        "Webinar",
        "virtuell",
        "digital (Link wird Ihnen separat per E-Mail zugeschickt)",
    ],
)
def test_is_online_recognises_online_places(text: str) -> None:
    assert is_online(text)


@pytest.mark.parametrize(
    "text",
    [
        "Kulturzentrum Bad Belzig",
        "Haus der Digitalisierung",
        "Digitalwerkstatt Bad Belzig",
        "Zukunftsschusterei, Straße der Einheit 1",
        "",
    ],
)
def test_is_online_judges_whole_words_only(text: str) -> None:
    assert not is_online(text)
