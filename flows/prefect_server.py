"""The temporary Prefect API of one `regiofeed run`, started so that it dies with the run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# Run in the server's process before uvicorn: ask Linux to SIGKILL it when its parent dies
# (prctl PR_SET_PDEATHSIG, kept across exec), then become Prefect's own uvicorn command. If
# the parent died before prctl took effect, the server is not needed any more.
_LAUNCHER = """
import ctypes, os, signal, sys
parent = int(sys.argv[1])
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
except (AttributeError, OSError):
    pass
if os.getppid() != parent:
    os._exit(0)
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


# Long enough for the last batch of logs on a loaded machine; a run never waits longer.
_DRAIN_SECONDS = 10


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_class() -> type[Any]:
    from prefect.server.api.server import SubprocessASGIServer

    class BoundServer(SubprocessASGIServer):  # type: ignore[misc]
        """Prefect's ephemeral API server, launched so that it cannot outlive this process.

        Prefect's own launch leaves the uvicorn server running as an orphan when the run is
        SIGKILLed (STACK.md). Same command, same environment, only a parent-death signal more.
        """

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            import prefect
            from prefect.settings import get_current_settings

            uvicorn = ["-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                       "--factory", "prefect.server.api.server:create_app",
                       "--host", "127.0.0.1", "--port", str(self.port),
                       "--log-level", "error", "--lifespan", "on"]
            env = {
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
                **get_current_settings().to_environment_variables(exclude_unset=True),
            }
            # A session of its own: Ctrl-C in a terminal stops the run, which then stops this
            # server after the run's last state is reported, not before.
            return subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(os.getpid()), *uvicorn],
                                    env=env, start_new_session=True)

    return BoundServer


@dataclass(frozen=True)
class PrefectAPI:
    """The Prefect API a run talks to, and the process serving it when it is ours."""

    url: str
    pid: int | None = None


@contextmanager
def prefect_api() -> Iterator[PrefectAPI]:
    """Yield the Prefect API a run talks to, with PREFECT_API_URL set to it.

    A standing server named by PREFECT_API_URL is used as it is. Otherwise a temporary one is
    started for this block on a free port of 127.0.0.1 and stopped after it; killed together
    with this process whatever the signal (Linux; elsewhere it is stopped on a normal exit).
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    standing = PREFECT_API_URL.value()
    if standing:
        yield PrefectAPI(standing)
        return
    server = _server_class()(_free_port())
    server.start()
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            try:
                yield PrefectAPI(server.api_url, server.server_process.pid)
            finally:
                _drain_to(server)
    finally:
        server.stop()


def _drain_to(server: Any) -> None:
    """Send the logs and events still queued while the server is up.

    Stopped first, the workers would retry a gone server for more than a minute at exit (as
    prefect_test_harness does, drained before the stop).
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    if server.server_process is None or server.server_process.poll() is not None:
        return
    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=_DRAIN_SECONDS)
