"""`regiofeed import` refuses a backup that is cut short or damaged, naming the line."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_exchange import export_text, fill

from regiofeed.flows.cli import main
from regiofeed.models.exchange import ImportError_, import_store
from regiofeed.models.store import Store


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> str:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('exchange') / 'a.db'}") as store:
        fill(store)
        return export_text(store)


def _refused(db_url: str, text: str, match: str) -> None:
    with Store(db_url) as target:
        with pytest.raises(ImportError_, match=match):
            import_store(target, io.StringIO(text))
        assert sum(target.counts().values()) == 0  # nothing half-imported


def test_export_ends_with_a_marker_that_counts_every_table(exported: str) -> None:
    lines = exported.splitlines()
    end = json.loads(lines[-1])
    assert end["end"] == "regiofeed-export"
    rows = [json.loads(line)["table"] for line in lines[1:-1]]
    assert sum(end["rows"].values()) == len(rows)
    assert end["rows"]["record_revision"] == rows.count("record_revision") == 3


def test_backup_cut_at_a_line_boundary_is_refused(exported: str, db_url: str) -> None:
    lines = exported.splitlines(keepends=True)
    for keep in (len(lines) - 1, len(lines) // 2, 2):
        _refused(db_url, "".join(lines[:keep]), f"ends at line {keep} without the end marker")


def test_backup_cut_inside_a_line_is_refused_with_its_number(exported: str, tmp_path: Path
                                                             ) -> None:
    lines = exported.splitlines(keepends=True)
    cut = "".join(lines[:5]) + lines[5][: len(lines[5]) // 2]
    _refused(f"sqlite:///{tmp_path / 'b.db'}", cut, "^line 6: cut short")


def test_damaged_line_is_refused_with_its_number(exported: str, tmp_path: Path) -> None:
    lines = exported.splitlines(keepends=True)
    lines[3] = lines[3].replace('"', "'", 3)
    _refused(f"sqlite:///{tmp_path / 'b.db'}", "".join(lines), "^line 4: damaged")


def test_a_missing_row_is_found_by_the_counts(exported: str, db_url: str) -> None:
    lines = exported.splitlines(keepends=True)
    table = json.loads(lines[-2])["table"]  # the last table's last row: nothing refers to it
    del lines[-2]
    _refused(db_url, "".join(lines),
             f"^line {len(lines)}: the end marker counts other rows .*{table}")


def test_a_missing_row_that_others_refer_to_names_the_lines(exported: str, db_url: str) -> None:
    lines = exported.splitlines(keepends=True)
    assert json.loads(lines[1])["table"] == "item"
    del lines[1]
    _refused(db_url, "".join(lines), r"^lines \d+-\d+: rows of \w+ the database refuses")


def test_lines_after_the_end_marker_are_refused(exported: str, tmp_path: Path) -> None:
    lines = exported.splitlines(keepends=True)
    _refused(f"sqlite:///{tmp_path / 'b.db'}", "".join(lines + lines[1:3]),
             f"^line {len(lines) + 1}: more lines after the end marker")


def test_an_export_of_version_1_still_imports(exported: str, tmp_path: Path) -> None:
    lines = exported.splitlines(keepends=True)
    header = json.loads(lines[0])
    header["version"] = 1
    old = json.dumps(header, sort_keys=True) + "\n" + "".join(lines[1:-1])
    with Store(f"sqlite:///{tmp_path / 'b.db'}") as target:
        counts = import_store(target, io.StringIO(old))
    assert sum(counts.values()) == len(lines) - 2


def test_import_command_says_where_a_truncated_backup_ends(exported: str, tmp_path: Path
                                                           ) -> None:
    dump = tmp_path / "cut.jsonl"
    dump.write_text("".join(exported.splitlines(keepends=True)[:7]), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "REGIOFEED_DB"}
    result = CliRunner().invoke(main, ["import", "--db", f"sqlite:///{tmp_path / 'b.db'}",
                                       str(dump)], env=env)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: the file ends at line 7 without the end marker: it is cut short (truncated)"]
