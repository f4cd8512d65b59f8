"""Tests for spiders.facts.extract_event_facts, from the labelled lines of real pages."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from regiofeed.models.normalise.dates import BERLIN
from regiofeed.models.records import EventInfo, Location
from regiofeed.spiders.facts import extract_event_facts

# Seed 002 (Stiftung Mitarbeit): labels and values on separate lines, two dates joined by "und".
SEED_002 = """Die digitale Stadt gemeinsam mit den Bürger/innen entwickeln

Termin:
Freitag, 25. und Samstag, 26. August 2023
Ort:
Münster
Ansprechperson:

Es gibt gute Gründe, die Bürger/innen partizipativ einzubeziehen, wenn Städte digital werden wollen.
"""

# Seed 003 (Smart Cities KTS): running prose mentions the date first; labels follow at the end.
SEED_003 = """Alle Kommunen aus der Region sind am 5. September 2024 herzlich zur Regionalkonferenz in Bad Belzig eingeladen.
Regionalkonferenz des Bundesprogramms Modellprojekte Smart Cities „Dörfer, Daten, Daseinsvorsorge – smarte Zukunft für ländliche Regionen gestalten“
Datum: 5. September 2024
Uhrzeit: 10:00 Uhr bis 17:00 Uhr (danach Get-together)
Veranstaltungsort: Kulturzentrum Bad Belzig, Weitzgrunder Str. 4, 14806 Bad Belzig"""  # noqa: E501

# Seed 004 (Partheland): question labels, an online place with a note in brackets.
SEED_004 = """Nun wollen wir mit Ihnen ins Gespräch kommen, um weitere Ideen und Ziele für die „Smart Region Partheland“ zu entwickeln!
Wann? 15. März 2021, 17:00 bis 19:00 Uhr
Wo? digital (Link wird Ihnen separat per E-Mail zugeschickt)
Interesse geweckt? Gerne können Sie uns Ihre unverbindliche Anmeldung per E-Mail unter dem Stichwort „Digitalworkshop Borsdorf“ an info@partheland.de mitteilen."""  # noqa: E501

# Seed 000: prose about digital participation, no labels.
SEED_000 = """Digital und Coworking Engagement
Der Beteiligungsprozess der Stadtgesellschaft wird sowohl in analogen Präsenzveranstaltungen als auch mithilfe von digitalen Formate geführt.
Wir freuen uns, wenn Sie sich beteiligen!"""  # noqa: E501


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_two_day_event_with_place_on_the_next_line() -> None:
    assert extract_event_facts(SEED_002) == EventInfo(
        start=date(2023, 8, 25),
        end=date(2023, 8, 26),
        all_day=True,
        online=False,
        location=Location(locality="Münster"),
    )


def test_date_time_and_venue_in_separate_labels() -> None:
    facts = extract_event_facts(SEED_003)
    assert facts == EventInfo(
        start=berlin(2024, 9, 5, 10),
        end=berlin(2024, 9, 5, 17),
        all_day=False,
        online=False,
        location=Location(
            name="Kulturzentrum Bad Belzig",
            street="Weitzgrunder Str. 4",
            postal_code="14806",
            locality="Bad Belzig",
        ),
    )
    assert facts is not None
    assert facts.start.isoformat() == "2024-09-05T10:00:00+02:00"


def test_question_labels_and_an_online_place() -> None:
    facts = extract_event_facts(SEED_004)
    assert facts == EventInfo(
        start=berlin(2021, 3, 15, 17), end=berlin(2021, 3, 15, 19), online=True, location=None
    )
    assert facts is not None
    assert facts.end is not None
    assert facts.end.isoformat() == "2021-03-15T19:00:00+01:00"


@pytest.mark.parametrize(
    "text",
    [
        SEED_000,
        "Die Konferenz findet am 5. September 2024 in Bad Belzig statt.",
        "",
        "Ort: Münster",  # a place without a date is not an event
        "Datum: demnächst",
    ],
)
def test_no_labelled_date_means_no_facts(text: str) -> None:
    assert extract_event_facts(text) is None


def test_labels_are_case_insensitive_and_zeit_can_hold_the_date() -> None:
    facts = extract_event_facts(
        "ZEIT: Sa., 14.9., 15 Uhr\nADRESSE: Markt 1, 14806 Bad Belzig", default_year=2024
    )
    assert facts == EventInfo(
        start=berlin(2024, 9, 14, 15),
        location=Location(street="Markt 1", postal_code="14806", locality="Bad Belzig"),
    )


def test_beginn_and_ende_make_the_time_range() -> None:
    facts = extract_event_facts("Datum: 14.09.2024\nBeginn: 19:30 Uhr\nEnde: 22 Uhr\nWo: Rathaus")
    assert facts == EventInfo(
        start=berlin(2024, 9, 14, 19, 30),
        end=berlin(2024, 9, 14, 22),
        location=Location(name="Rathaus"),
    )


def test_a_label_line_is_not_taken_as_the_previous_labels_value() -> None:
    facts = extract_event_facts("Termin:\n07.08.2024\nOrt:\nAnsprechperson:\nFrau Muster")
    assert facts == EventInfo(start=date(2024, 8, 7), all_day=True)


def test_online_place_with_an_address_keeps_the_address() -> None:
    facts = extract_event_facts(
        "Datum: 07.08.2024\nOrt: Rathaus, Markt 1, 14806 Bad Belzig und online"
    )
    assert facts is not None
    assert facts.online
    assert facts.location == Location(
        name="Rathaus", street="Markt 1", postal_code="14806", locality="Bad Belzig"
    )
