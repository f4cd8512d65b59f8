"""The similarity rules alone, and the scores of every fixture pair (print them with -s)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import dedupe_fixtures as fx

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.similarity import (
    compare,
    containment,
    estimate_jaccard,
    features,
    jaccard,
    minhash,
    source_links,
    stems,
    title_similarity,
)

# The module-scoped fixtures of dedupe_fixtures: one crawl of the five sites per module.
dedupe_site = fx.dedupe_site
crawled = fx.crawled

NOW = datetime(2024, 8, 1, tzinfo=UTC)


def event(title: str, start: str, place: dict | None = None, text: str = "") -> dict:
    return {"kind": "event", "title": title, "content_text": text,
            "event": {"start": start, "location": place or {}}}


GEMEINDEHAUS = {"name": "Gemeindehaus Wiesenburg", "postal_code": "14827",
                "locality": "Wiesenburg/Mark"}


def test_equal_titles_on_other_days_or_years_are_other_events() -> None:
    a = features(event("Seniorennachmittag", "2024-09-11T14:30:00+02:00", GEMEINDEHAUS), NOW)
    b = features(event("Seniorennachmittag", "2024-10-09T14:30:00+02:00", GEMEINDEHAUS), NOW)
    c = features(event("Osterfeuer", "2025-03-30T19:00:00+02:00"), NOW)
    d = features(event("Osterfeuer", "2024-03-30T19:00:00+01:00"), NOW)
    assert not compare(a, b).same
    assert not compare(c, d).same


def test_two_events_at_one_place_on_one_day_stay_two() -> None:
    a = features(event("Herbstbasar", "2024-10-05T10:00:00+02:00", GEMEINDEHAUS), NOW)
    b = features(event("Tanzabend mit DJ Olli", "2024-10-05T19:00:00+02:00", GEMEINDEHAUS), NOW)
    c = features(event("Lesung mit Kaffee", "2024-10-05T10:00:00+02:00", GEMEINDEHAUS), NOW)
    assert not compare(a, b).same
    assert not compare(a, c).same


def test_titles_alike_in_letters_but_without_a_common_word_stay_two() -> None:
    # Same place, same minute: these score 62–69 on letters, yet share no word.
    start = "2024-10-05T10:00:00+02:00"
    for one, other in (("Kinderflohmarkt", "Kindertheater"),
                       ("Seniorensport", "Seniorenfrühstück")):
        a = features(event(one, start, GEMEINDEHAUS), NOW)
        b = features(event(other, start, GEMEINDEHAUS), NOW)
        assert not compare(a, b).same, (one, other)
    basar = features(event("Basar im Herbst", start, GEMEINDEHAUS), NOW)
    herbstbasar = features(event("Herbstbasar im Dorfgemeinschaftshaus", start, GEMEINDEHAUS),
                           NOW)
    assert compare(basar, herbstbasar).same


def test_other_rooms_or_house_numbers_are_not_the_same_place() -> None:
    start = "2024-10-05T10:00:00+02:00"
    saal = {"name": "Kulturzentrum Saal 1", "postal_code": "14806"}
    a = features(event("Lesung für Kinder", start, saal), NOW)
    b = features(event("Vortrag Energiewende", start, {**saal, "name": "Kulturzentrum Saal 2"}),
                 NOW)
    c = features(event("Vortrag: Energiewende", start, {**saal, "name": "Kulturzentrum, Saal 2"}),
                 NOW)
    assert not compare(a, b).same
    assert compare(b, c).same  # the same event in the same room, told alike
    street_4 = {"street": "Weitzgrunder Straße 4", "postal_code": "14806"}
    street_14 = {"street": "Weitzgrunder Straße 14", "postal_code": "14806"}
    d = features(event("Flohmarkt im Hof", start, street_4), NOW)
    e = features(event("Hofflohmarkt", start, street_14), NOW)
    f = features(event("Hofflohmarkt", start, street_4), NOW)
    assert not compare(d, e).same
    assert compare(d, f).same


def test_other_places_and_online_versus_on_site_are_other_events() -> None:
    start = "2024-04-19T19:00:00+02:00"
    reetz = features(event("Osterfeuer", start, {"locality": "Reetz", "postal_code": "14827"}),
                     NOW)
    belzig = features(event("Osterfeuer", start, {"locality": "Bad Belzig",
                                                  "postal_code": "14806"}), NOW)
    online = features({**event("Osterfeuer", start), "event": {"start": start, "online": True}},
                      NOW)
    assert not compare(reetz, belzig).same
    assert not compare(reetz, online).same


def test_german_normalisation_and_compound_titles() -> None:
    assert stems("Die Öffnungszeiten der Stadtbibliotheken") == ["oeffnungszeit",
                                                                 "stadtbibliothek"]
    assert title_similarity("Senioren-Nachmittag", "Seniorennachmittag im Gemeindehaus") == 100


def test_minhash_estimates_jaccard() -> None:
    a = {f"w{i}" for i in range(200)}
    b = {f"w{i}" for i in range(100, 300)}
    assert abs(estimate_jaccard(minhash(a), minhash(b)) - jaccard(a, b)) < 0.2
    assert estimate_jaccard(minhash(a), minhash(a)) == 1.0


def test_source_links_are_found_in_text_and_html() -> None:
    data = {"content_text": "Lang " * 200 + "Quelle: https://stadt.example/a.",
            "content_html": '<p>Mehr unter <a href="https://x.example/b">hier</a></p>'
                            '<p>Quelle: <a href="https://stadt.example/c">Stadt</a></p>'}
    assert sorted(source_links(data)) == [("https://stadt.example/a", True),
                                          ("https://stadt.example/c", True),
                                          ("https://x.example/b", False)]


def test_print_the_scores_of_the_fixture_pairs(crawled: dict[str, CrawlResult]) -> None:
    """The measurement behind the thresholds: `pytest -s -k scores` prints every pair."""
    records = [(sid, r, features(r.model_dump(mode="json", exclude_none=True), NOW))
               for sid, result in crawled.items() for r in result.records]
    lines = []
    for (s1, r1, f1), (s2, r2, f2) in itertools.combinations(records, 2):
        if s1 == s2 or f1.kind != f2.kind or abs(f1.day - f2.day) > 14:
            continue
        verdict = compare(f1, f2)
        lines.append(f"{f1.kind:5} d={abs(f1.day - f2.day):2} J={jaccard(f1.tokens, f2.tokens):.2f}"
                     f" C={containment(f1.tokens, f2.tokens):.2f}"
                     f" T={title_similarity(f1.title, f2.title):3.0f}"
                     f" {'SAME' if verdict.same else '    '} {r1.title[:35]} | {r2.title[:35]}")
    print("\n".join(sorted(lines)))
    assert lines
