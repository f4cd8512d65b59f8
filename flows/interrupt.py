"""SIGTERM and SIGINT end a run promptly: crawls are abandoned, the run is marked failed."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

STOPPING = (signal.SIGTERM, signal.SIGINT)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM or SIGINT)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def child_pids() -> list[int]:
    """The process ids of this process's children (Linux /proc; elsewhere none)."""
    me = os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            # Field 4 is the parent id; the name (field 2) may hold spaces, so split after ")".
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(stat.parent.name))
    return found


def _abandon_crawls(wakeup: int, done: threading.Event,
                    spare: Callable[[], Collection[int | None]]) -> None:
    """On a stopping signal, SIGKILL every child but `spare`, again until the block ends.

    Prefect's task runner waits for running tasks before the flow can end, and a crawl task
    waits for its crawl process: killing those is what makes the stop prompt. Their results
    are never stored, so nothing is half-written.
    """
    while not done.is_set():
        try:
            received = os.read(wakeup, 64)
        except OSError:
            return
        if not received:
            return
        if any(signum in STOPPING for signum in received):
            break
    while not done.is_set():
        keep = spare()
        for pid in child_pids():
            if pid not in keep:
                with suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


@contextmanager
def interruptible(spare: Callable[[], Collection[int | None]] = set) -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT raise Terminated in the main thread and
    abandon the crawls (child processes but those `spare()` names: the Prefect server).

    Python's default for SIGTERM ends the process without unwinding, so nothing could mark the
    run failed or stop the temporary Prefect server. Prefect puts its own SIGTERM handler in
    place during a flow run and calls this one after; the signal's wake-up byte reaches the
    watcher thread at once, whoever handles it. Outside the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    done = threading.Event()
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    previous = {signum: signal.signal(signum, _raise) for signum in STOPPING}
    watcher = threading.Thread(target=_abandon_crawls, args=(read_end, done, spare),
                               name="regiofeed-stop", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(write_end)  # the watcher's read ends
        watcher.join(timeout=1)
        os.close(read_end)
