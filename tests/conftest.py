"""Shared fixtures: fixture websites served over real HTTP on 127.0.0.1 (see tests/sites/)."""

import os
import tempfile

# Before anything imports Prefect: no telemetry, a PREFECT_HOME of the test session's own, and
# no server but the ephemeral one the tests start.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="regiofeed-test-prefect-")
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

import pytest
from db_fixtures import db_url  # noqa: F401  (the store fixture, SQLite and PostgreSQL)

from regiofeed.flows.demo.server import (
    Route,
    SiteServer,
    error,
    garbage,
    redirect,
    serve_demo_sites,
    slow,
)

SITES = Path(__file__).parent / "sites"
# Longer than any crawler timeout a test sets, short enough not to stall teardown.
SLOW_SECONDS = 5.0
SITE_ROUTES: dict[str, Route] = {
    "/errors/500/": error(500),
    "/errors/slow.xml": slow(SLOW_SECONDS, file="/feeds/rss.xml"),
    "/errors/garbage.xml": garbage(),
    "/moved/rss.xml": redirect("/feeds/rss.xml"),
}

StartServer = Callable[..., SiteServer]


@pytest.fixture(scope="session")
def site() -> Iterator[SiteServer]:
    """Serve tests/sites/ for the whole session; do not change its files (use fresh_site)."""
    with SiteServer(SITES, SITE_ROUTES) as server:
        yield server


@pytest.fixture
def serve_site() -> Iterator[StartServer]:
    """Start SiteServers on demand, `serve_site(root, routes)`; all are closed after the test."""
    with ExitStack() as stack:

        def start(
            root: Path | str = SITES, routes: Mapping[str, Route] | None = None
        ) -> SiteServer:
            return stack.enter_context(SiteServer(root, routes))

        yield start


@pytest.fixture
def fresh_site(serve_site: StartServer) -> SiteServer:
    """Serve tests/sites/ on a server of this test alone: set_file(), route(), requests."""
    return serve_site(SITES, SITE_ROUTES)


@pytest.fixture
def unreachable_url() -> str:
    """Return an http URL on 127.0.0.1 where nothing listens (a port bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def offline_world(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crawls reach 127.0.0.1 only: every other host goes to a proxy address where nothing
    listens (real pages link to their original sites; nothing may leave the machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def demo_sites() -> Iterator[dict[str, str]]:
    """Serve the bundled demo websites, each on its own origin; yield {name: base URL}."""
    with serve_demo_sites() as bases:
        yield bases


@pytest.fixture(scope="session")
def harness() -> Iterator[None]:
    """Prefect's test harness for the session: one temporary database (migrating one takes
    seconds), no server, and no heartbeat thread delaying every flow run's end."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), temporary_settings(
        {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    ):
        yield
