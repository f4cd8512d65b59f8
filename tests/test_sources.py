"""sources.toml: validation names the source id, the key and what was expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from regiofeed.models.sources import SourcesError, load_sources, parse_sources

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
[crawl]
delay = 0

[[source]]
id = "bad-belzig-aktuelles"
name = "Stadt Bad Belzig – Aktuelles"
publisher = "Stadt Bad Belzig"
municipality = "Bad Belzig"
ags = "12069020"
url = "https://www.bad-belzig.de/aktuelles/"
kind = "html"
licence = "dl-by-de/2.0"
schedule = "hourly"

[source.selectors]
item = "div.news-list-view div.article"
title = "h3"
link = "a::attr(href)"
date = "time::attr(datetime)"
next = "li.next a::attr(href)"

[[source]]
id = "flaeming365"
name = "Fläming365"
publisher = "Fläming365"
url = "https://flaeming365.de/feed/"
kind = "rss"
licence = "http://dcat-ap.de/def/licenses/cc-by/4.0"
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(SourcesError) as caught:
        parse_sources(text)
    return caught.value.problems


def test_good_file_parses_with_defaults() -> None:
    config = parse_sources(GOOD)
    assert [s.id for s in config.sources] == ["bad-belzig-aktuelles", "flaeming365"]
    assert config.crawl.delay == 0
    assert config.crawl.obey_robots is True
    assert config.get("flaeming365").licence == "cc-by/4.0"
    assert config.get("flaeming365").licence_uri == "http://dcat-ap.de/def/licenses/cc-by/4.0"
    assert config.get("bad-belzig-aktuelles").selectors.item == "div.news-list-view div.article"


def test_unknown_kind_names_source_and_key() -> None:
    problems = problems_of(GOOD.replace('kind = "rss"', 'kind = "rsss"'))
    assert len(problems) == 1
    assert "source 'flaeming365'" in problems[0]
    assert "key 'kind'" in problems[0]
    assert "rss" in problems[0] and "'rsss'" in problems[0]


def test_missing_key_and_bad_url_are_all_reported() -> None:
    text = GOOD.replace('publisher = "Fläming365"\n', "").replace(
        "https://flaeming365.de/feed/", "flaeming365.de/feed/")
    problems = problems_of(text)
    assert any(p == "source 'flaeming365': key 'publisher': required key is missing"
               for p in problems), problems
    assert any("key 'url'" in p and "http" in p for p in problems), problems


def test_html_without_selectors_and_unknown_selector_key() -> None:
    head, tail = GOOD.split("[source.selectors]")
    no_selectors = head + tail.split('next = "li.next a::attr(href)"')[1]
    assert any("source 'bad-belzig-aktuelles': key 'selectors'" in p
               for p in problems_of(no_selectors))
    typo = GOOD.replace('title = "h3"', 'titel = "h3"')
    problems = problems_of(typo)
    assert "source 'bad-belzig-aktuelles': key 'selectors.titel': unknown key" in problems
    assert ("source 'bad-belzig-aktuelles': key 'selectors.title': required key is missing"
            in problems)


def test_duplicate_ids_bad_licence_ags_and_schedule() -> None:
    text = GOOD.replace('id = "flaeming365"', 'id = "bad-belzig-aktuelles"')
    assert problems_of(text) == [
        "source 'bad-belzig-aktuelles': key 'id': the id is used more than once"]
    assert any("key 'licence'" in p for p in problems_of(GOOD.replace("dl-by-de/2.0", "MIT")))
    assert any("key 'ags'" in p for p in problems_of(GOOD.replace("12069020", "1206")))
    assert any("key 'schedule'" in p for p in problems_of(GOOD.replace('"hourly"', '"sometimes"')))


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    assert problems_of("[[source]\nid=")[0].startswith("not valid TOML")
    with pytest.raises(SourcesError) as caught:
        load_sources(tmp_path / "nope.toml")
    assert "cannot be read" in caught.value.problems[0]


def test_sources_check_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('licence = "dl-by-de/2.0"', 'licence = "free"'), encoding="utf-8")
    cli = [sys.executable, "-m", "regiofeed"]
    result = subprocess.run([*cli, "sources", "check", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "source 'bad-belzig-aktuelles': key 'licence'" in result.stderr
    good = tmp_path / "good.toml"
    good.write_text(GOOD, encoding="utf-8")
    result = subprocess.run([*cli, "sources", "check", str(good)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "2 sources, all valid" in result.stdout


def test_repository_sources_file_is_valid() -> None:
    config = load_sources(ROOT / "sources.toml")
    assert len(config.sources) >= 6


PRESET_SOURCE = """
[[source]]
id = "amt-aktuelles"
name = "Amt – Aktuelles"
publisher = "Amt"
url = "https://www.amt.example/aktuelles"
kind = "{kind}"
licence = "dl-by-de/2.0"
{extra}
"""


def test_preset_replaces_the_selectors_table() -> None:
    source = parse_sources(PRESET_SOURCE.format(kind="html", extra='preset = "typo3-news"')).get(
        "amt-aktuelles")
    assert source.preset == "typo3-news"
    assert source.selectors.item == ".news-list-view .article, .news-list-view .news-list-item"
    assert source.selectors.content == ".news-text-wrap"


def test_partial_selectors_without_a_preset_name_the_missing_key() -> None:
    text = PRESET_SOURCE.format(kind="html", extra='[source.selectors]\ntitle = "h3"')
    assert problems_of(text) == ["source 'amt-aktuelles': key 'selectors.item': "
                                 "required key is missing"]


def test_preset_overrides_keep_unknown_keys_an_error() -> None:
    text = PRESET_SOURCE.format(kind="html",
                                extra='preset = "wordpress"\n[source.selectors]\nheadline = "h2"')
    assert problems_of(text) == ["source 'amt-aktuelles': key 'selectors.headline': unknown key"]


def test_preset_only_for_kind_html() -> None:
    text = PRESET_SOURCE.format(kind="auto", extra='preset = "joomla-blog"')
    assert problems_of(text) == ["source 'amt-aktuelles': key 'preset': "
                                 "only kind 'html' takes a preset, not 'auto'"]


def test_auto_needs_nothing_but_the_url() -> None:
    source = parse_sources(PRESET_SOURCE.format(kind="auto", extra="")).get("amt-aktuelles")
    assert (source.kind, source.selectors, source.preset) == ("auto", None, None)
