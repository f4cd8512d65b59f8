"""Progress of a run per stage, on the terminal of whoever started it, and nowhere else.

Tasks report into `current()`, which is a no-op unless the command line installed a Rich
progress display (only when its output is a terminal): a worker run stays silent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class _Silent:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, name: str, label: str = "") -> None:
        pass


class _Rich:
    """Rich progress bars, one per stage; safe to call from task threads."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, object] = {}
        self.lock = threading.Lock()

    def stage(self, name: str, total: int) -> None:
        with self.lock:
            self.tasks[name] = self.progress.add_task(name, total=total, label="")

    def advance(self, name: str, label: str = "") -> None:
        with self.lock:
            task = self.tasks.get(name)
            if task is not None:
                self.progress.update(task, advance=1, label=label)


_reporter: _Silent | _Rich = _Silent()


def current() -> _Silent | _Rich:
    return _reporter


@contextmanager
def terminal_progress(enabled: bool) -> Iterator[None]:
    """Show per-stage progress on stderr while the block runs, if enabled and a terminal."""
    global _reporter
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield
        return
    columns = (TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[label]}"))
    # Prefect's console lines would tear the bars apart; its warnings still show.
    handlers = [h for h in logging.getLogger("prefect").handlers
                if type(h).__name__ == "PrefectConsoleHandler"]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.WARNING)
    with Progress(*columns, console=console, transient=False) as progress:
        _reporter = _Rich(progress)
        try:
            yield
        finally:
            _reporter = _Silent()
            for handler, level in zip(handlers, levels, strict=True):
                handler.setLevel(level)
