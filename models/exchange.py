"""Export and import the whole store as JSON Lines: a lossless backup and a way between databases.

The first line is a header naming the format and the schema revision; every further line is
one row, `{"table": ..., "row": {...}}`, tables in foreign-key order and rows by primary key,
so that two exports of the same content are byte-identical.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Integer, LargeBinary, Table, func, insert, select, text
from sqlmodel import SQLModel

import regiofeed.models.tables  # noqa: F401  (registers every table on the metadata)
from regiofeed.models.store import Store
from regiofeed.models.tables import UTCDateTime

FORMAT = "regiofeed-export"
VERSION = 1
_BATCH = 1000


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


def export_lines(store: Store) -> Iterator[str]:
    """Yield the export as lines (without newlines): header first, then every row."""
    tables = _tables()
    yield json.dumps({"format": FORMAT, "version": VERSION, "revision": _revision(store),
                      "tables": [t.name for t in tables]}, sort_keys=True)
    with store.engine.connect() as conn:
        for table in tables:
            order = list(table.primary_key.columns) or list(table.columns)
            result = conn.execution_options(stream_results=True).execute(
                select(table).order_by(*order))
            for row in result.mappings():
                yield json.dumps({"table": table.name, "row": _encode(table, dict(row))},
                                 ensure_ascii=False, sort_keys=True)


def export_store(store: Store, out: IO[str]) -> int:
    """Write the whole store to `out`; return the number of rows written."""
    rows = -1
    for line in export_lines(store):
        out.write(line + "\n")
        rows += 1
    return rows


def _is_empty(store: Store) -> bool:
    with store.engine.connect() as conn:
        return all(conn.execute(select(func.count()).select_from(t)).scalar_one() == 0
                   for t in _tables())


def import_store(store: Store, lines: Iterable[str]) -> dict[str, int]:
    """Load an export into an empty store; return rows per table.

    Raises ImportError_ for a foreign file, another schema revision, or a store with data.
    """
    iterator = iter(lines)
    try:
        header = json.loads(next(iterator))
    except (StopIteration, json.JSONDecodeError):
        raise ImportError_("not a regiofeed export: no header line") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ImportError_(f"not a regiofeed export (format {header.get('format')!r})")
    if header.get("revision") != _revision(store):
        raise ImportError_(f"export is of schema revision {header.get('revision')}, this store "
                           f"is at {_revision(store)}: import into a store of the same version")
    if not _is_empty(store):
        raise ImportError_("the target store is not empty; import needs an empty store")
    tables = {t.name: t for t in _tables()}
    counts: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    current: Table | None = None
    with store.engine.begin() as conn:
        for number, line in enumerate(iterator, start=2):
            if not line.strip():
                continue
            entry = json.loads(line)
            table = tables.get(entry.get("table"))
            if table is None:
                raise ImportError_(f"line {number}: unknown table {entry.get('table')!r}")
            if table is not current and batch:
                conn.execute(insert(current), batch)
                batch = []
            current = table
            batch.append(_decode(table, entry["row"]))
            counts[table.name] = counts.get(table.name, 0) + 1
            if len(batch) >= _BATCH:
                conn.execute(insert(table), batch)
                batch = []
        if batch and current is not None:
            conn.execute(insert(current), batch)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return counts


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
