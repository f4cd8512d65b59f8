"""Export and import the whole store as JSON Lines: a lossless backup and a way between databases.

The first line is a header naming the format and the schema revision; every further line is
one row, `{"table": ..., "row": {...}}`, tables in foreign-key order and rows by primary key,
so that two exports of the same content are byte-identical. The last line is the end marker,
`{"end": "regiofeed-export", "rows": {table: count}}`: a file cut short, even at a line
boundary, or damaged anywhere is refused with the number of the line where it goes wrong.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Integer, LargeBinary, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import regiofeed.models.tables  # noqa: F401  (registers every table on the metadata)
from regiofeed.models.store import Store
from regiofeed.models.tables import UTCDateTime

FORMAT = "regiofeed-export"
# 2: the end marker with row counts. 1 (no end marker) is still read, unchecked.
VERSION = 2
READABLE = (1, 2)
_BATCH = 1000

logger = logging.getLogger(__name__)


class ImportError_(ValueError):
    """The file is not a regiofeed export, or does not fit this store."""


def _tables() -> list[Table]:
    return list(SQLModel.metadata.sorted_tables)


def _encode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = row[column.name]
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bytes | memoryview):
            value = base64.b64encode(bytes(value)).decode("ascii")  # e.g. MinHash signatures
        out[column.name] = value
    return out


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        if column.name not in row:
            continue
        value = row[column.name]
        if value is not None and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64decode(value)
        out[column.name] = value
    return out


def _revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def export_lines(store: Store, counts: dict[str, int] | None = None) -> Iterator[str]:
    """Yield the export as lines (without newlines): header, every row, the end marker.

    `counts`, if given, is filled with the rows per table as they are written.
    """
    tables = _tables()
    counts = {} if counts is None else counts
    yield json.dumps({"format": FORMAT, "version": VERSION, "revision": _revision(store),
                      "tables": [t.name for t in tables]}, sort_keys=True)
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One snapshot for every table: rows written meanwhile cannot tear the backup.
            conn.execution_options(isolation_level="REPEATABLE READ")
        for table in tables:
            counts[table.name] = 0
            order = list(table.primary_key.columns) or list(table.columns)
            result = conn.execution_options(stream_results=True).execute(
                select(table).order_by(*order))
            for row in result.mappings():
                counts[table.name] += 1
                yield json.dumps({"table": table.name, "row": _encode(table, dict(row))},
                                 ensure_ascii=False, sort_keys=True)
    yield json.dumps({"end": FORMAT, "rows": counts}, sort_keys=True)


def export_store(store: Store, out: IO[str]) -> dict[str, int]:
    """Write the whole store to `out`; return the number of rows written per table."""
    counts: dict[str, int] = {}
    for line in export_lines(store, counts):
        out.write(line + "\n")
    return counts


def _is_empty(store: Store) -> bool:
    with store.engine.connect() as conn:
        return all(conn.execute(select(func.count()).select_from(t)).scalar_one() == 0
                   for t in _tables())


def import_store(store: Store, lines: Iterable[str]) -> dict[str, int]:
    """Load an export into an empty store, all of it or nothing; return rows per table.

    Raises ImportError_ for a foreign file, another schema revision, a store with data, and a
    file that is damaged or cut short (naming the line); nothing is imported then.
    """
    iterator = iter(lines)
    try:
        header = json.loads(next(iterator))
    except (StopIteration, json.JSONDecodeError):
        raise ImportError_("not a regiofeed export: no header line") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ImportError_(f"not a regiofeed export (format {_get(header, 'format')!r})")
    version = header.get("version")
    if version not in READABLE:
        raise ImportError_(f"export format version {version!r}: this regiofeed reads "
                           f"{', '.join(map(str, READABLE))}")
    if header.get("revision") != _revision(store):
        raise ImportError_(f"export is of schema revision {header.get('revision')}, this store "
                           f"is at {_revision(store)}: import into a store of the same version")
    if not _is_empty(store):
        raise ImportError_("the target store is not empty; import needs an empty store")
    tables = {t.name: t for t in _tables()}
    counts: dict[str, int] = {}
    batch = _Batch()
    current: Table | None = None
    end: dict[str, Any] | None = None
    number = 1
    with store.engine.begin() as conn:  # an error below rolls every row back
        for number, line in enumerate(iterator, start=2):
            if not line.strip():
                continue
            if end is not None:
                raise ImportError_(f"line {number}: more lines after the end marker "
                                   f"(line {end['line']}): the file is damaged")
            if not line.endswith("\n"):
                raise ImportError_(f"line {number}: cut short (no end of line): the file is "
                                   "truncated")
            entry = _parse(line, number)
            if "end" in entry:
                end = {**entry, "line": number}
                continue
            table = tables.get(entry.get("table"))
            if table is None:
                raise ImportError_(f"line {number}: unknown table {entry.get('table')!r}")
            if not isinstance(entry.get("row"), dict):
                raise ImportError_(f"line {number}: damaged: no row")
            if table is not current and current is not None:
                batch.flush(conn, current)
            current = table
            try:
                batch.add(number, _decode(table, entry["row"]))
            except (TypeError, ValueError) as exc:
                raise ImportError_(f"line {number}: damaged row of {table.name}: {exc}") from None
            counts[table.name] = counts.get(table.name, 0) + 1
            if len(batch.rows) >= _BATCH:
                batch.flush(conn, table)
        if current is not None:
            batch.flush(conn, current)
        if version == 1:
            logger.warning("an export of format version 1 has no end marker: whether it is "
                           "complete cannot be checked")
        else:
            _check_end(end, counts, number)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return counts


class _Batch:
    """Rows of one table on their way into the database, with the lines they came from."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.first = 0
        self.last = 0

    def add(self, number: int, row: dict[str, Any]) -> None:
        if not self.rows:
            self.first = number
        self.rows.append(row)
        self.last = number

    def flush(self, conn: Any, table: Table) -> None:
        if not self.rows:
            return
        try:
            conn.execute(insert(table), self.rows)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise ImportError_(f"lines {self.first}-{self.last}: rows of {table.name} the "
                               f"database refuses ({reason}): the file is damaged") from None
        self.rows = []


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _parse(line: str, number: int) -> dict[str, Any]:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ImportError_(f"line {number}: damaged (not JSON: {exc.msg} at column "
                           f"{exc.colno})") from None
    if not isinstance(entry, dict):
        raise ImportError_(f"line {number}: damaged (not a JSON object)")
    return entry


def _check_end(end: dict[str, Any] | None, counts: dict[str, int], last: int) -> None:
    """The end marker must be there and count exactly the rows that were read."""
    if end is None:
        raise ImportError_(f"the file ends at line {last} without the end marker: it is cut "
                           "short (truncated)")
    if end.get("end") != FORMAT or not isinstance(end.get("rows"), dict):
        raise ImportError_(f"line {end['line']}: damaged end marker")
    expected = {table: n for table, n in end["rows"].items() if n}
    if expected != counts:
        wrong = sorted(t for t in set(expected) | set(counts)
                       if expected.get(t, 0) != counts.get(t, 0))
        details = ", ".join(f"{t}: {counts.get(t, 0)} of {expected.get(t, 0)}" for t in wrong)
        raise ImportError_(f"line {end['line']}: the end marker counts other rows than the "
                           f"file has ({details}): the file is damaged")


def _reset_sequences(conn: Any) -> None:
    """Explicit ids were inserted: move each serial's sequence past the highest one."""
    for table in _tables():
        for column in table.primary_key.columns:
            single_integer_key = (len(table.primary_key.columns) == 1
                                  and isinstance(column.type, Integer))
            if column.autoincrement is True or (column.autoincrement == "auto"
                                                and single_integer_key):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"))
