"""A store survives a process killed during its first migration, and concurrent first opens."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect

from regiofeed.models.migrate import head_revision
from regiofeed.models.store import Store

REPO = Path(__file__).resolve().parents[1]

# A real process opens a new store and SIGKILLs itself right after the N-th CREATE statement
# of the migration has gone to SQLite: the kill lands inside the first migration.
KILL_AFTER_CREATE = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import Engine, event
    from regiofeed.models.store import Store

    creates = 0
    def after(conn, cursor, statement, parameters, context, executemany):
        global creates
        if statement.lstrip().upper().startswith("CREATE"):
            creates += 1
            if creates == int(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)
    event.listen(Engine, "after_cursor_execute", after)
    Store(sys.argv[1]).close()
""")

# Wait for the go file, then open the store: several of these start at the same instant.
OPEN_AT_ONCE = textwrap.dedent("""
    import os, sys, time
    from regiofeed.models.store import Store
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.005)
    with Store(sys.argv[1]) as store:
        store.begin_run()
""")


def _python(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("kill_after", [1, 3, 8])
def test_sqlite_store_killed_during_first_migration_opens_again(
        tmp_path: Path, kill_after: int) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    child = _python(KILL_AFTER_CREATE, url, str(kill_after))
    _, err = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL, err.decode()

    with Store(url) as store, store.engine.connect() as conn:
        from regiofeed.models.migrate import current_revision

        assert current_revision(conn) == head_revision()
        assert {"item", "record", "source_run", "record_link"} <= set(
            inspect(conn).get_table_names())
    with Store(url) as store:  # and again: nothing left to redo
        assert store.begin_run()


def test_store_left_half_migrated_by_an_older_version_is_repaired(tmp_path: Path) -> None:
    """What the non-transactional path left behind: some first tables, no version row."""
    import sqlite3

    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE item (id VARCHAR(40) NOT NULL PRIMARY KEY)")
        conn.execute("CREATE TABLE run (id VARCHAR(36) NOT NULL PRIMARY KEY)")
    with Store(f"sqlite:///{path}") as store:
        assert store.begin_run()


def test_half_migrated_tables_with_data_are_refused_not_dropped(tmp_path: Path) -> None:
    import sqlite3

    from regiofeed.models.migrate import MigrationError

    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE item (id VARCHAR(40) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO item VALUES ('keep me')")
    with pytest.raises(MigrationError, match="item"):
        Store(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT id FROM item").fetchall() == [("keep me",)]


def test_processes_opening_a_new_store_at_once_all_succeed(db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    children = [_python(OPEN_AT_ONCE, db_url, str(go)) for _ in range(4)]
    time.sleep(3)  # every interpreter has imported and is waiting for the go file
    go.touch()
    for child in children:
        _, err = child.communicate(timeout=180)
        assert child.returncode == 0, err.decode()[-2000:]
    with Store(db_url) as store, store.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM run")).scalar_one() == 4


def test_opening_a_migrated_store_takes_no_write_lock(tmp_path: Path) -> None:
    """A store that is busy writing elsewhere can still be opened (WAL readers never wait)."""
    import sqlite3

    path = tmp_path / "store.db"
    Store(f"sqlite:///{path}").close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        Store(f"sqlite:///{path}").close()
        assert time.monotonic() - started < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()

