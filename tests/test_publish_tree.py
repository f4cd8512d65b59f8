"""Publishing at scale: the tree swapped in whole, unchanged files kept, fast writers = old ones."""

import copy
import json
import os
import threading
import time
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from test_publish import HEALTH, ITEMS, SETTINGS, SOURCES, TODAY
from test_publish_dcat import ITEMS as DCAT_ITEMS
from test_publish_dcat import SOURCES as DCAT_SOURCES
from test_publish_dcat import make_ctx

import regiofeed.publish.dumps
import regiofeed.publish.tables
from regiofeed.publish import publish_all
from regiofeed.publish.atomic import TreeWriter
from regiofeed.publish.context import PublishContext
from regiofeed.publish.dcat import catalog_graph, catalog_triples, page_count, plan_datasets
from regiofeed.publish.dcat_serialize import serialize, serialize_triples
from regiofeed.publish.items import canonical_item, dumps, encode
from regiofeed.publish.registry import render_all

OLD = 1_000_000_000  # an mtime far in the past, so any touch is visible
RDFLIB_FORMATS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}


def many_sources_ctx(sources: int = 30, items: int = 300, **settings) -> PublishContext:
    """A region of many sources (some sharing a body, some without a place), news and events."""
    base = DCAT_SOURCES[0]
    configured = []
    for number in range(sources):
        source = {**copy.deepcopy(base), "id": f"quelle-{number:02d}", "name": f"Quelle {number}"}
        source["publisher"] = f"Gemeinde {number // 2}"  # two sources per body
        source["url"] = f"https://www.gemeinde-{number // 2}.example/quelle-{number}/"
        source["schedule"] = ("hourly", "daily", "6h", "30m")[number % 4]
        if number % 3:
            source["municipality"] = f"Ort {number % 7}"
            source["ags"] = f"1206{number % 7:04d}"
        else:
            source.pop("municipality", None)
            source.pop("ags", None)
        if number % 5 == 0:
            source["item_kind"] = "event"
        configured.append(source)
    made = []
    for number in range(items):
        template = copy.deepcopy(DCAT_ITEMS[number % len(DCAT_ITEMS)])
        template["id"] = f"rf-{number:05d}"
        template["title"] = f"{template['title']} „{number}“ & mehr"
        template["_regiofeed"]["sources"] = [f"quelle-{(number * 7) % sources:02d}"]
        day = f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}"
        template["date_published"] = f"{day}T09:00:00+02:00"
        made.append(template)
    return make_ctx(items=made, sources=configured, **settings)


@pytest.mark.parametrize(
    "ctx",
    [
        make_ctx(),
        make_ctx(datasets_per_page=2),
        make_ctx(base_url=None, contributor_id="dcatde:govdata"),
        many_sources_ctx(),
        many_sources_ctx(datasets_per_page=7),
    ],
    ids=["sample", "paged", "no-base-url", "30-sources", "30-sources-paged"],
)
def test_catalogue_is_byte_for_byte_what_rdflib_wrote(ctx: PublishContext) -> None:
    datasets = plan_datasets(ctx)
    for page in range(1, page_count(len(datasets), ctx.settings.datasets_per_page) + 1):
        for extension, rdflib_format in RDFLIB_FORMATS.items():
            graph = catalog_graph(ctx, datasets, page=page, extension=extension)
            before = serialize(graph, extension)  # the previous writer: rdflib (and _rdfxml)
            after = serialize_triples(
                catalog_triples(ctx, datasets, page=page, extension=extension), extension
            )
            assert after == before, (page, extension)
            assert isomorphic(Graph().parse(data=after, format=rdflib_format), graph)


@pytest.mark.parametrize(
    "value",
    [
        *ITEMS,
        {"x": "\x7f\x00\x1f\u2028\"\\/\t\n é €😀", "empty": {}, "none": [], "n": None},
        {"geo": {"lat": 52.1386, "lon": 12.5907}, "big": 2**70, "tiny": 1e-07, "f": 12.0},
        [1, -0.0, True, False, 1e16],
    ],
)
def test_json_is_byte_for_byte_what_json_dumps_wrote(value: object) -> None:
    assert encode(value) == json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def test_streamed_items_json_is_the_dump_of_the_list() -> None:
    ctx = many_sources_ctx()
    rendered = render_all(ctx)
    by_id = sorted(ctx.items, key=lambda item: item["id"])
    assert rendered["data/items.json"] == dumps([canonical_item(item) for item in by_id])


def test_dumps_in_small_chunks_are_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = render_all(many_sources_ctx())
    monkeypatch.setattr(regiofeed.publish.dumps, "CHUNK", 700)  # many chunks per file, not one
    monkeypatch.setattr(regiofeed.publish.tables, "CHUNK", 700)
    chunked = render_all(many_sources_ctx())
    assert chunked == whole
    assert len(whole["data/items.csv"]) > 10 * 700


def test_unchanged_publication_rewrites_only_health_json(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_all(out, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    files = {p: p.stat() for p in out.rglob("*") if p.is_file()}
    for path in files:
        os.utime(path, (OLD, OLD))
    health = copy.deepcopy(HEALTH)
    health["sources"]["bad-belzig-aktuelles"]["last_attempt"] = "2024-09-01T07:00:00+02:00"

    report = publish_all(out, copy.deepcopy(ITEMS), SOURCES, health, SETTINGS, today=TODAY)

    assert report.written == [out / "health.json"]
    assert report.swapped
    assert out.is_dir() and not out.is_symlink()
    for path, before in files.items():
        if path.name != "health.json":
            assert path.stat().st_ino == before.st_ino
            assert path.stat().st_mtime == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == [".public.lock", ".public.prev", "public"]


def test_a_second_identical_publication_swaps_nothing(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_all(out, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    inode = out.stat().st_ino
    report = publish_all(out, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    assert not report.changed and not report.swapped
    assert out.stat().st_ino == inode  # the very same directory
    assert not (tmp_path / ".public.next").exists()


def generation_items(number: int) -> list[dict]:
    items = copy.deepcopy(ITEMS)
    for item in items:
        item["title"] = f"{item['title']} (Lauf {number})"
        item["date_modified"] = f"2024-08-{1 + number % 28:02d}T12:00:00+02:00"
    return items


def generation_health(number: int) -> dict:
    return {**HEALTH, "run": number}


# Files that all change from one run to the next, read through one handle of the tree folder.
SNAPSHOT = ("health.json", "data/items.json", "feed.json", "sources/kts-smart-cities/feed.json")


def runs_in(folder_fd: int) -> set[int]:
    """Return the run numbers the files of one snapshot of the tree were written by."""
    runs = set()
    for relative in SNAPSHOT:
        fd = os.open(relative, os.O_RDONLY, dir_fd=folder_fd)
        with os.fdopen(fd, "rb") as fh:
            document = json.loads(fh.read())  # a cut-short file would not parse
        if relative == "health.json":
            runs.add(document["run"])
        else:
            items = document["items"] if isinstance(document, dict) else document
            titles = [item["title"] for item in items]
            runs |= {int(title.rsplit("Lauf ", 1)[1].rstrip(")")) for title in titles}
    return runs


def test_a_reader_never_sees_a_mix_of_two_runs(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_all(out, generation_items(0), SOURCES, generation_health(0), SETTINGS, today=TODAY)
    seen: list[set[int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)  # what a server resolves
                try:
                    seen.append(runs_in(folder))
                    plain = (out / "data/items.json").read_bytes()  # and by path, each time
                    json.loads(plain)
                finally:
                    os.close(folder)
            except BaseException as error:  # reported by the test below
                errors.append(error)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for number in range(1, 9):
            report = publish_all(out, generation_items(number), SOURCES,
                                 generation_health(number), SETTINGS, today=TODAY)  # fmt: skip
            assert report.swapped
            time.sleep(0.05)
    finally:
        done.set()
        thread.join()
    assert not errors, errors
    assert len(seen) > 10
    assert all(len(runs) == 1 for runs in seen), [runs for runs in seen if len(runs) != 1]
    assert len({next(iter(runs)) for runs in seen}) > 1  # the reader did see new runs


def test_a_reader_holding_the_old_tree_reads_it_to_the_end(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_all(out, generation_items(1), SOURCES, generation_health(1), SETTINGS, today=TODAY)
    folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        publish_all(out, generation_items(2), SOURCES, generation_health(2), SETTINGS, today=TODAY)
        assert runs_in(folder) == {1}  # the held generation, complete
        fresh = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
        assert runs_in(fresh) == {2}
        os.close(fresh)
    finally:
        os.close(folder)


def test_a_failed_publication_leaves_the_tree_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_all(out, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = copy.deepcopy(ITEMS)
    broken[1]["_regiofeed"]["event"]["start"] = "kein Datum"  # the calendar cannot place it

    with pytest.raises(ValueError):
        publish_all(out, broken, SOURCES, {**HEALTH, "x": 1}, SETTINGS, today=TODAY)

    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not (tmp_path / ".public.next").exists()


def test_file_by_file_where_the_tree_cannot_be_swapped(tmp_path: Path) -> None:
    out = tmp_path / "public"
    (out / "data").mkdir(parents=True)
    (out / "keep.txt").write_bytes(b"same")
    (out / "data/old.json").write_bytes(b"[1]")
    os.utime(out / "keep.txt", (OLD, OLD))
    inode = out.stat().st_ino

    with TreeWriter(out, swap=False) as writer:
        assert writer.write("keep.txt", b"same") is False
        assert writer.write("data/old.json", iter([b"[", b"2]"])) is True
        assert writer.write("sources/a/feed.json", b"{}") is True
        assert not (out / "sources/a/feed.json").exists()  # nothing moves before commit
        writer.carry_over(drop=lambda relative: False)
        writer.commit()

    assert out.stat().st_ino == inode
    assert (out / "keep.txt").stat().st_mtime == OLD
    assert (out / "data/old.json").read_bytes() == b"[2]"
    assert (out / "sources/a/feed.json").read_bytes() == b"{}"
    assert not [p for p in out.rglob(".*")]  # no temporary files left
    assert not writer.swapped


def test_files_of_others_move_with_the_tree_and_leftovers_are_cleared(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_all(out, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    (out / "robots.txt").write_bytes(b"User-agent: *\n")
    (out / ".well-known").mkdir()
    (out / ".well-known/security.txt").write_bytes(b"Contact: mailto:a@example.org\n")
    (out / "empty").mkdir()
    robots = (out / "robots.txt").stat().st_ino
    # What a publication killed half-way leaves behind.
    (tmp_path / ".public.next/data").mkdir(parents=True)
    (tmp_path / ".public.next/data/items.json").write_bytes(b"[")

    report = publish_all(out, generation_items(3), SOURCES, HEALTH, SETTINGS, today=TODAY)

    assert report.swapped
    assert (out / "robots.txt").stat().st_ino == robots
    assert (out / ".well-known/security.txt").read_bytes().startswith(b"Contact:")
    assert (out / "empty").is_dir()
    assert "Lauf 3" in (out / "data/items.json").read_text(encoding="utf-8")
    assert not (tmp_path / ".public.next").exists()
