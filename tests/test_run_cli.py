"""`regiofeed run` as operators meet it: clear one-line errors, exit codes, signals, no orphans."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import StartServer
from test_flow import source_block, write_sources

from regiofeed.flows.cli import main
from regiofeed.flows.demo.server import SiteServer, slow

REPO = Path(__file__).resolve().parents[1]


def _run_in_process(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", *args])
    return result.exit_code, result.stderr


@pytest.fixture
def sources(tmp_path: Path, site: SiteServer) -> Path:
    return write_sources(tmp_path / "sources.toml",
                         source_block("feed", site.url("/feeds/rss.xml")))


def _assert_one_clear_line(code: int, stderr: str, *needles: str) -> None:
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("url", ["mysql://anna@db.example/regiofeed", "data/regiofeed.db",
                                 "sqlite://", "postgres ql://x"])
def test_bad_db_url_is_one_line_naming_the_supported_schemes(
        sources: Path, tmp_path: Path, url: str) -> None:
    code, err = _run_in_process("--sources", str(sources), "--db", url,
                                "--out", str(tmp_path / "public"))
    _assert_one_clear_line(code, err, "--db", "sqlite:///FILE", "postgresql://")


def test_unreachable_postgresql_is_one_line_without_its_password(
        sources: Path, tmp_path: Path, unreachable_url: str) -> None:
    port = unreachable_url.rsplit(":", 1)[1].strip("/")
    code, err = _run_in_process("--sources", str(sources), "--out", str(tmp_path / "public"),
                                "--db", f"postgresql://anna:geheim@127.0.0.1:{port}/regiofeed")
    _assert_one_clear_line(code, err, "--db", "cannot open the store")
    assert "geheim" not in err


def test_out_that_cannot_be_a_folder_is_refused_before_crawling(
        sources: Path, tmp_path: Path, site: SiteServer) -> None:
    blocker = tmp_path / "public"
    blocker.write_text("a file where the tree should go", encoding="utf-8")
    before = len(site.requests)
    code, err = _run_in_process("--sources", str(sources), "--db",
                                f"sqlite:///{tmp_path / 'store.db'}", "--out", str(blocker / "x"))
    _assert_one_clear_line(code, err, "--out", "cannot write there")
    assert len(site.requests) == before  # nothing was crawled


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_out_is_refused_before_crawling(sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    out.mkdir()
    out.chmod(0o500)
    try:
        code, err = _run_in_process("--sources", str(sources), "--db",
                                    f"sqlite:///{tmp_path / 'store.db'}", "--out", str(out))
    finally:
        out.chmod(0o700)
    _assert_one_clear_line(code, err, "--out", "cannot write there")


def test_unknown_source_is_a_usage_error(sources: Path, tmp_path: Path) -> None:
    code, err = _run_in_process("--sources", str(sources), "--source", "nirgendwo",
                                "--db", f"sqlite:///{tmp_path / 'store.db'}",
                                "--out", str(tmp_path / "public"))
    _assert_one_clear_line(code, err, "--source", "nirgendwo")


# -- the real command in its own process ----------------------------------------------------


def _env(tmp_path: Path, mark: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REGIOFEED_") and k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env["REGIOFEED_TEST_MARK"] = mark  # inherited by every process the run starts
    return env


def _marked(mark: str) -> list[str]:
    """Command lines of every process that carries the mark in its environment."""
    needle = f"REGIOFEED_TEST_MARK={mark}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in environ.read_bytes().split(b"\0"):
                cmdline = (environ.parent / "cmdline").read_bytes()
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def _wait_gone(mark: str, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _start_run(tmp_path: Path, sources: Path, mark: str, log: Path) -> subprocess.Popen[bytes]:
    # Not --silent: the tests wait for the flow's log lines.
    command = [sys.executable, "-m", "regiofeed", "run", "--all",
               "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'store.db'}",
               "--out", str(tmp_path / "public")]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=REPO, env=_env(tmp_path, mark), stdout=out,
                                stderr=subprocess.STDOUT)


def _wait_for(log: Path, text: str, child: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace"):
        assert child.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, f"no {text!r} in:\n{log.read_text()}"
        time.sleep(0.1)


def _runs(tmp_path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(tmp_path / "store.db") as conn:
        return conn.execute("SELECT status, finished_at FROM run").fetchall()


@pytest.mark.slow
def test_a_run_whose_source_failed_exits_1_and_publishes_the_rest(
        tmp_path: Path, site: SiteServer, unreachable_url: str) -> None:
    sources = write_sources(tmp_path / "sources.toml",
                            source_block("feed", site.url("/feeds/rss.xml")),
                            source_block("down", unreachable_url + "feed.xml"))
    log = tmp_path / "run.log"
    child = _start_run(tmp_path, sources, uuid.uuid4().hex, log)
    servers = _servers_until_exit(child, 600)
    assert child.returncode == 1, log.read_text()
    assert (tmp_path / "public" / "sources" / "feed" / "feed.xml").exists()
    assert [status for status, _ in _runs(tmp_path)] == ["partial"]
    # One temporary Prefect server: no thread of the run (storing, say) boots one of its own.
    assert len(servers) == 1, servers


def _servers_until_exit(child: subprocess.Popen[bytes], seconds: float) -> set[int]:
    """Wait for `child` to end; return the ids of the Prefect servers (uvicorn) it started."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while child.poll() is None:
        assert time.monotonic() < deadline, "the run did not end"
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == child.pid and \
                        b"uvicorn" in (stat.parent / "cmdline").read_bytes():
                    seen.add(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
        time.sleep(0.2)
    return seen


@pytest.mark.slow
def test_sigterm_cuts_the_crawl_short_publishes_what_finished_and_leaves_nothing_running(
        tmp_path: Path, serve_site: StartServer) -> None:
    stalling = serve_site(routes={"/stall.xml": slow(30, file="/feeds/rss.xml")})
    sources = write_sources(tmp_path / "sources.toml",
                            source_block("feed", stalling.url("/feeds/rss.xml")),
                            source_block("stall", stalling.url("/stall.xml")), timeout=60)
    mark = uuid.uuid4().hex
    log = tmp_path / "run.log"
    child = _start_run(tmp_path, sources, mark, log)
    try:
        _wait_for(log, "feed: fetched", child, 300)
        time.sleep(0.5)  # the stalling crawl is under way
        stopped = time.monotonic()
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=60)
        took = time.monotonic() - stopped
    finally:
        if child.poll() is None:
            child.kill()
    # The stalled source is cut off and fails; the one that finished is stored and published
    # (issue 15: a run cut short publishes every source that finished).
    assert code == 1, log.read_text()
    assert took < 10, f"{took:.1f} s to stop"  # the stall has 29 s left: it was abandoned
    assert [status for status, _ in _runs(tmp_path)] == ["partial"]
    assert _wait_gone(mark, 10) == []
    assert (tmp_path / "public" / "sources" / "feed" / "feed.xml").exists()


@pytest.mark.slow
def test_sigkill_of_the_run_leaves_no_prefect_server_behind(tmp_path: Path, site: SiteServer
                                                          ) -> None:
    sources = write_sources(tmp_path / "sources.toml",
                            source_block("feed", site.url("/feeds/rss.xml")))
    mark = uuid.uuid4().hex
    log = tmp_path / "run.log"
    child = _start_run(tmp_path, sources, mark, log)
    try:
        _wait_for(log, "Beginning flow run", child, 300)
        servers = [c for c in _marked(mark) if "uvicorn" in c]
        assert servers, _marked(mark)  # the temporary Prefect API is up
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    # A crawl process that was already fetching may finish its page; nothing may stay.
    assert _wait_gone(mark, 60) == []


def test_prefect_api_url_where_no_server_answers_is_one_line(
        sources: Path, tmp_path: Path, unreachable_url: str) -> None:
    api = unreachable_url + "api"
    result = CliRunner().invoke(main, ["run", "--sources", str(sources), "--db",
                                       f"sqlite:///{tmp_path / 'store.db'}",
                                       "--out", str(tmp_path / "public")],
                                env={"PREFECT_API_URL": api})
    _assert_one_clear_line(result.exit_code, result.stderr, "PREFECT_API_URL", api,
                           "no Prefect server answers")
