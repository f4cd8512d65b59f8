"""Checks of the options of a run before it starts: each problem is one line naming the option."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

SUPPORTED_DB = "sqlite:///FILE or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"


class OptionError(ValueError):
    """An option's value cannot work; the message is one line, fit for an operator."""


def check_db_url(url: str) -> None:
    """Refuse a --db URL that is not SQLite or PostgreSQL, or cannot be parsed.

    >>> check_db_url("sqlite:///data/regiofeed.db")
    >>> check_db_url("mysql://u@h/db")
    Traceback (most recent call last):
    ...
    regiofeed.flows.preflight.OptionError: --db mysql://u@h/db: unsupported store, \
use sqlite:///FILE or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise OptionError(f"--db {_shown(url)}: not a URL, use {SUPPORTED_DB}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        raise OptionError(f"--db {_shown(url)}: unsupported store, use {SUPPORTED_DB}")
    if parsed.get_backend_name() == "sqlite" and not parsed.database:
        raise OptionError(f"--db {_shown(url)}: no file named, use {SUPPORTED_DB}")


def open_store_or_fail(url: str) -> None:
    """Open (and migrate) the store once, so a store that cannot be reached fails before any
    crawl, with the driver's first line instead of a traceback."""
    # The store (SQLAlchemy, migrations) only once the cheap checks passed.
    from regiofeed.models.store import Store

    try:
        Store(url).close()
    except (SQLAlchemyError, OSError, RuntimeError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise OptionError(f"--db {_shown(url)}: cannot open the store: {reason}") from None


def check_out_dir(path: str | Path) -> None:
    """Make sure the published tree can be written: the folder exists or is created, and a
    file can be made in it."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".regiofeed-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OptionError(f"--out {out}: cannot write there: {reason}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OptionError(f"--out {out}: cannot write there")


def _shown(url: str) -> str:
    """The URL as it may be shown: its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
