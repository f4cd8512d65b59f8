"""The temporary Prefect API of one `regiofeed run`, started so that it dies with the run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Run in the server's process before uvicorn: ask Linux to SIGKILL it when its parent dies
# (prctl PR_SET_PDEATHSIG, kept across exec), then become the uvicorn command. If the parent
# died before prctl took effect, the server is not needed any more.
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
# uvicorn exits with 3 when its port was taken meanwhile: then another port is tried.
_PORT_TAKEN = 3
# Long enough for the last batch of logs on a loaded machine; a run never waits longer.
_DRAIN_SECONDS = 10


@dataclass(frozen=True)
class PrefectAPI:
    """The Prefect API a run talks to, and the server process when it is ours."""

    url: str
    server: TemporaryServer | None = None

    @property
    def pid(self) -> int | None:
        return self.server.process.pid if self.server and self.server.process else None

    def wait_ready(self) -> None:
        """Return once the API answers; ApiUnreachable if a standing server does not."""
        if self.server is not None:
            timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
                                           "120"))
            self.server.wait_ready(timeout)
            return
        try:
            with urllib.request.urlopen(f"{self.url.rstrip('/')}/health", timeout=10) as answer:
                if answer.status == 200:
                    return
                reason = f"HTTP {answer.status}"
        except OSError as exc:
            reason = str(getattr(exc, "reason", None) or exc)
        raise ApiUnreachable(f"PREFECT_API_URL {self.url}: no Prefect server answers there "
                             f"({reason})")


class ApiUnreachable(RuntimeError):
    """PREFECT_API_URL names a server that does not answer."""


class TemporaryServer:
    """Prefect's ephemeral API server (the command and environment Prefect uses for it),
    launched so that it cannot outlive this process.

    Prefect's own launch leaves the server running as an orphan when the run is SIGKILLed
    (STACK.md), and importing it costs the run 1.7 s of CPU before anything starts; this one
    is started first and boots while the run imports and opens its store.
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def launch(self) -> None:
        """Start the server process; call from the main thread (the parent-death signal is
        tied to the thread that starts it)."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        # A run uses no blocks: registering their types costs a new server 1.7 s of CPU.
        env = {"PREFECT_API_BLOCKS_REGISTER_ON_START": "false", **os.environ,
               "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1"}
        uvicorn = ["-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
                   "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error",
                   "--lifespan", "on"]
        # A session of its own: Ctrl-C in a terminal stops the run, which then stops this
        # server after the run's last state is reported, not before.
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *uvicorn],
            env=env, start_new_session=True)

    def wait_ready(self, timeout: float) -> None:
        """Wait until the API answers its health check; RuntimeError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code == _PORT_TAKEN:
                self.launch()
                continue
            if code is not None:
                raise RuntimeError(f"the temporary Prefect server exited with {code}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the temporary Prefect server did not answer within {timeout:g} s "
                           "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def prefect_api() -> Iterator[PrefectAPI]:
    """Yield the Prefect API a run talks to, with PREFECT_API_URL set to it.

    A standing server named by PREFECT_API_URL (environment or Prefect profile) is used as it
    is. Otherwise a temporary one is launched at once, before Prefect is even imported, and
    stopped after the block; killed together with this process whatever the signal (Linux;
    elsewhere it is stopped on a normal exit). Call `wait_ready()` before the first flow: the
    time until then is the server's to boot in.
    """
    if os.environ.get("PREFECT_API_URL"):
        yield PrefectAPI(os.environ["PREFECT_API_URL"])
        return
    server = TemporaryServer()
    server.launch()
    try:
        # Prefect only now: its settings read the temporary server's address at import.
        from prefect.settings import PREFECT_API_URL, temporary_settings

        standing = PREFECT_API_URL.value()
        if standing:  # set in the active Prefect profile
            server.stop()
            yield PrefectAPI(standing)
            return
        with temporary_settings({PREFECT_API_URL: server.url}):
            try:
                yield PrefectAPI(server.url, server)
            finally:
                _drain(server)
    finally:
        server.stop()


def _drain(server: TemporaryServer) -> None:
    """Send the logs and events still queued while the server is up.

    Stopped first, the workers would retry a gone server for more than a minute at exit (as
    prefect_test_harness does, drained before the stop).
    """
    # Prefect only now: its settings read the temporary server's address at import.
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    if server.process is None or server.process.poll() is not None:
        return
    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=_DRAIN_SECONDS)
