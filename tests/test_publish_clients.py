"""Every file of a realistic published tree, read by the clients people and portals use.

feedparser (RSS, Atom), a JSON Feed 1.1 schema, python icalendar and Mozilla's ical.js, the
DCAT-AP.de validator with the official shapes, the W3C Nu Html Checker, and Python's csv module
as Excel reads CSV. The JavaScript and Java clients come from `make js` (tests/js/).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import icalendar
import pytest
import realistic_tree as region
from jsonschema import Draft202012Validator
from shared import SHARED

from regiofeed.publish import PublishSettings, publish_all

JS = Path(__file__).parent / "js"
VNU = JS / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SETTINGS = PublishSettings(
    title="Hoher Fläming aktuell",
    description="Nachrichten und Veranstaltungen aus dem Hohen Fläming",
    base_url="https://example.org/regiofeed/",
    publisher="Landkreis Potsdam-Mittelmark",
    contact_email="opendata@example.org",
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clients") / "public"
    publish_all(root, region.items(), region.SOURCES, region.health(), SETTINGS,
                today=region.TODAY)  # fmt: skip
    return root


def files(tree: Path, name: str) -> list[Path]:
    found = sorted(tree.rglob(name))
    assert found, f"no {name} in the tree"
    return found


def node_or_skip(package: str = "ical.js") -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found: the JavaScript clients need Node.js (Debian: nodejs)")
    if not (JS / "node_modules" / package).is_dir():
        pytest.skip(f"tests/js/node_modules/{package} missing: run `make js` (npm ci in tests/js)")
    return node


def test_the_tree_has_every_scope_and_many_items(tree: Path) -> None:
    assert len(files(tree, "index.html")) >= 15  # root, 9 sources, 5 municipalities
    assert len(json.loads((tree / "data/items.json").read_text("utf-8"))) >= 90


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_every_xml_feed_reads_cleanly_with_feedparser(tree: Path, name: str) -> None:
    for path in files(tree, name):
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
        assert parsed.version in ("rss20", "atom10"), path
        assert parsed.feed.title and parsed.feed.language == "de", path
        for entry in parsed.entries:
            assert entry.title and entry.id and entry.link, (path, entry)
            assert entry.published_parsed is not None, (path, entry.id)


def test_the_same_item_is_at_the_same_instant_in_every_format(tree: Path) -> None:
    """A source that gave only a day: RSS, Atom and JSON Feed name one instant for it."""
    rss = {e.id: e.published_parsed for e in feedparser.parse(tree / "feed.xml").entries}
    atom = feedparser.parse(tree / "atom.xml").entries
    feed = json.loads((tree / "feed.json").read_text("utf-8"))
    item = next(i for i in feed["items"] if i["id"] == "rf-news-003")
    assert item["date_published"] == "2024-08-31T00:00:00+02:00"
    assert rss["rf-news-003"][:6] == (2024, 8, 30, 22, 0, 0)
    atom_entry = next(e for e in atom if e.link == item["url"])
    assert atom_entry.published_parsed[:6] == (2024, 8, 30, 22, 0, 0)


def test_every_json_feed_is_valid_json_feed_1_1(tree: Path) -> None:
    schema = json.loads((Path(__file__).parent / "jsonfeed-1.1.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    # Without rfc3339-validator jsonschema silently passes any "date-time"; prove it checks.
    assert list(validator.iter_errors({**_minimal(), "items": [
        {"id": "x", "content_text": "x", "date_published": "2024-08-07"}]}))
    for path in files(tree, "feed.json"):
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in validator.iter_errors(json.loads(path.read_text("utf-8")))]
        assert errors == [], f"{path}: {errors[:5]}"


def _minimal() -> dict[str, object]:
    return {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}


def test_every_calendar_reads_with_python_icalendar(tree: Path) -> None:
    for path in files(tree, "events.ics"):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        assert calendar.errors == [], path
        for event in calendar.walk("VEVENT"):
            assert event.errors == [], (path, event.get("UID"))
            assert event.get("UID") and event.get("DTSTART") and event.get("DTSTAMP"), path


def test_every_calendar_reads_with_mozilla_ical_js(tree: Path) -> None:
    node = node_or_skip()
    paths = files(tree, "events.ics")
    result = subprocess.run([node, str(JS / "ical_check.mjs"), *map(str, paths)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for path in paths:
        python = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
        read = report[str(path)]
        assert read["version"] == "2.0"
        # Both readers see the same events with the same start.
        assert sorted(e["uid"] for e in read["events"]) == sorted(str(e["UID"]) for e in python)
    root = {e["uid"]: e for e in report[str(tree / "events.ics")]["events"]}
    assert len(root) >= 30
    assert any(event["all_day"] for event in root.values())


def test_every_page_is_valid_html_for_the_nu_checker(tree: Path) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.skip("java not found: the Nu Html Checker (vnu.jar) needs a JRE 11+")
    if not VNU.is_file():
        pytest.skip(f"{VNU} missing: run `make js` (npm ci in tests/js)")
    pages = files(tree, "index.html")
    result = subprocess.run(
        [java, "-jar", str(VNU), "--format", "json", "--also-check-css", *map(str, pages)],
        capture_output=True, text=True, timeout=300,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    shown = [f"{m.get('url', '')}:{m.get('lastLine')}: {m['type']}: {m['message']}"
             for m in messages]
    assert shown == [], "\n".join(shown[:20])
    assert result.returncode == 0


def test_the_catalogue_conforms_to_the_dcat_ap_de_shapes(tree: Path) -> None:
    folder = SHARED
    tool = folder / "tools" / "validate_dcat.py"
    if not tool.is_file():
        pytest.skip(f"DCAT-AP.de validator not found at {tool} (set REGIOFEED_SHARED)")
    result = subprocess.run(
        [sys.executable, str(tool), str(tree / "catalog.ttl"), "--profile", "de-3.0"],
        capture_output=True, text=True, timeout=600,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "== profile de-3.0: 0 violation(s)" in report, report


@pytest.mark.parametrize("name", ["data/items.csv", "data/events.csv"])
def test_every_csv_reads_as_a_table(tree: Path, name: str) -> None:
    for path in files(tree, Path(name).name):
        if path.parent.name != "data":
            continue
        rows = list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))
        assert rows and all(len(row) == len(rows[0]) for row in rows), path


def test_every_feed_reads_with_two_javascript_feed_readers(tree: Path) -> None:
    """rss-parser and feedsmith, which Node apps use, read every feed and the OPML without an
    error, and see the items feedparser sees (JSON Feed: the items of the file)."""
    node = node_or_skip("feedsmith")
    node_or_skip("rss-parser")
    paths = [*files(tree, "feed.xml"), *files(tree, "atom.xml"), *files(tree, "feed.json"),
             tree / "feeds.opml"]
    result = subprocess.run([node, str(JS / "feed_check.mjs"), *map(str, paths)],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for path in paths:
        read = report[str(path)]
        if path.suffix == ".opml":
            assert read["outlines"] >= 1
            continue
        if path.suffix == ".json":
            titles = [item["title"] for item in json.loads(path.read_text("utf-8"))["items"]]
        else:
            titles = [entry.title for entry in feedparser.parse(path.read_bytes()).entries]
            assert [" ".join(t.split()) for t in read["rssParser"]["titles"]] == \
                [" ".join(t.split()) for t in titles], path
        assert len(read["feedsmith"]["titles"]) == len(titles), path
        assert all(read["feedsmith"]["ids"]), path


@pytest.mark.parametrize(("plain", "excel"), [("items.csv", "items-excel.csv"),
                                              ("events.csv", "events-excel.csv")])
def test_every_csv_reads_in_pandas_and_the_excel_variant_holds_the_same_table(
        tree: Path, plain: str, excel: str) -> None:
    import pandas  # a test dependency only: the product never needs it

    for path in files(tree, plain):
        if path.parent.name != "data":
            continue
        table = pandas.read_csv(path, dtype=str, keep_default_na=False)
        german = pandas.read_csv(path.with_name(excel), sep=";", encoding="utf-8-sig",
                                 dtype=str, keep_default_na=False)
        assert list(table.columns) == list(german.columns), path
        assert table.equals(german), path
    whole = pandas.read_csv(tree / "data" / plain, dtype=str, keep_default_na=False)
    assert len(whole) >= 10 and whole["id"].is_unique

