"""Tests for publish.atomic.write_if_changed: atomic, idempotent file output."""

import os
import stat
from pathlib import Path

import pytest

from regiofeed.publish.atomic import write_if_changed

OLD = 1_000_000_000  # an mtime far in the past, so any touch is visible


def test_write_creates_parent_directories_and_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "items.json"
    assert write_if_changed(target, b"[]\n") is True
    assert target.read_bytes() == b"[]\n"


def test_identical_bytes_leave_the_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    write_if_changed(target, b"<rss/>")
    os.utime(target, (OLD, OLD))
    inode = target.stat().st_ino

    assert write_if_changed(target, b"<rss/>") is False
    assert target.stat().st_mtime == OLD
    assert target.stat().st_ino == inode


def test_changed_bytes_replace_the_file(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    write_if_changed(target, b"old")
    os.utime(target, (OLD, OLD))

    assert write_if_changed(target, b"new!") is True
    assert target.read_bytes() == b"new!"
    assert target.stat().st_mtime != OLD


def test_same_size_different_bytes_are_written(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    write_if_changed(target, b"abc")
    assert write_if_changed(target, b"abd") is True
    assert target.read_bytes() == b"abd"


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    for data in (b"1", b"2", b"2", b"3"):
        write_if_changed(tmp_path / "f.json", data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


def test_new_files_are_world_readable_and_existing_modes_kept(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    write_if_changed(target, b"<p>1</p>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644

    target.chmod(0o640)
    write_if_changed(target, b"<p>2</p>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failed_write_removes_its_temporary_file(tmp_path: Path) -> None:
    # A directory where the file should go makes os.replace fail after the temp file exists.
    (tmp_path / "feed.xml").mkdir()
    with pytest.raises(OSError):
        write_if_changed(tmp_path / "feed.xml", b"<rss/>")
    assert [p.name for p in tmp_path.iterdir()] == ["feed.xml"]
    assert list((tmp_path / "feed.xml").iterdir()) == []
