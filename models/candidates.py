"""Dedupe candidates: the stored records the index in the store offers for a batch of records."""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    TextClause,
    and_,
    bindparam,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Compiled

from regiofeed.models.similarity import (
    BINS,
    EVENT_TIME_TOLERANCE,
    NEWS_MAX_DAYS,
    PREFILTER_JACCARD,
    Features,
    equal_bins,
    features,
    unpack_signature,
)
from regiofeed.models.tables import (
    DECISION,
    INDEX,
    LINK,
    RECORD,
)

CHUNK = 500

# Features of stored record versions kept per process, newest use last (about 5 kB each).
FEATURES_CACHED = 20_000
_FEATURES: OrderedDict[tuple[int, str, datetime], Features] = OrderedDict()


def forget_features() -> None:
    """Drop the cached features (up to about 100 MB) once a run's storing is over: publishing
    needs the memory, and the next run's candidates are others."""
    _FEATURES.clear()


# News candidates judged per record, those sharing the most keys first.
MAX_CANDIDATES = 10


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass
class StoredCandidate:
    """A stored record as a candidate: its item, source and (possibly partial) features."""

    record_id: int
    item_id: str
    source_id: str
    features: Features
    full: bool


def lite_features(row: Any) -> Features:
    """Features from a record_index row alone: enough to judge events by time, place, title."""
    return Features(kind=row.kind, day=row.day, tokens=set(), title=row.title, title_stems=[],
                    end_day=row.end_day, start_min=row.start_min, postal_code=row.postal_code,
                    locality=row.locality, place=row.place, street=row.street,
                    online=row.online)


# Built once: thousands of lookups per crawl should not rebuild their statement each time.
_EVENTS_ON_DAYS = (select(INDEX, RECORD.c.item_id, RECORD.c.source_id)
                   .join(RECORD, RECORD.c.id == INDEX.c.record_id)
                   .where(INDEX.c.kind == "event",
                          # Three days as equalities, so the index seeks the start minutes.
                          INDEX.c.day.in_([bindparam("before"), bindparam("day"),
                                           bindparam("after")])))


_IN_WINDOW = INDEX.c.start_min.between(bindparam("first"), bindparam("last"))


_EVENTS_AROUND = _EVENTS_ON_DAYS.where(or_(INDEX.c.start_min.is_(None), _IN_WINDOW))


# Events at another postal code are never the same (models.similarity.place_relation): an
# event with a postal code asks only for those with the same code or none. Spelt out as
# alternatives of plain conditions, so that PostgreSQL checks the code in the index (a
# bitmap OR) instead of reading every event of those hours from the table.
_NO_CODE = INDEX.c.postal_code.is_(None)


_SAME_CODE = INDEX.c.postal_code == bindparam("code")


_ALL_DAY = INDEX.c.start_min.is_(None)


_EVENTS_ON_DAYS_AT = _EVENTS_ON_DAYS.where(or_(_NO_CODE, _SAME_CODE))


_EVENTS_AROUND_AT = _EVENTS_ON_DAYS.where(or_(
    and_(_ALL_DAY, _NO_CODE), and_(_ALL_DAY, _SAME_CODE),
    and_(_IN_WINDOW, _NO_CODE), and_(_IN_WINDOW, _SAME_CODE)))


@lru_cache(maxsize=8)
def _bands_within(count: int) -> TextClause:
    """Band rows with one of `count` keys, each within its own day window (one statement)."""
    rows = ", ".join(f"(CAST(:k{i} AS BIGINT), :lo{i}, :hi{i})" for i in range(count))
    # Only numbered placeholders go into the text; the values are bound.
    return text(f"WITH wanted (key, lo, hi) AS (VALUES {rows}) "
                "SELECT b.key, b.day, b.record_id FROM wanted JOIN record_band b "
                "ON b.key = wanted.key AND b.day BETWEEN wanted.lo AND wanted.hi")


@lru_cache(maxsize=8)
def _bands_within_sqlite(count: int) -> str:
    """_bands_within for SQLite's own cursor: `count` windows as positional parameters."""
    rows = ", ".join(["(CAST(? AS INTEGER), ?, ?)"] * count)
    return (f"WITH wanted (key, lo, hi) AS (VALUES {rows}) "
            "SELECT b.key, b.day, b.record_id FROM wanted JOIN record_band b "
            "ON b.key = wanted.key AND b.day BETWEEN wanted.lo AND wanted.hi")


_BANDS_WITHIN_ARRAYS = text(
    "SELECT b.key, b.day, b.record_id FROM unnest(CAST(:keys AS BIGINT[]), "
    "CAST(:firsts AS INTEGER[]), CAST(:lasts AS INTEGER[])) AS wanted (key, lo, hi) "
    "JOIN record_band b ON b.key = wanted.key AND b.day BETWEEN wanted.lo AND wanted.hi")


def _window_params(windows: Sequence[tuple[int, int, int]]) -> dict[str, int]:
    params: dict[str, int] = {}
    for i, (key, lo, hi) in enumerate(windows):
        params[f"k{i}"], params[f"lo{i}"], params[f"hi{i}"] = key, lo, hi
    return params


class CandidateReader:
    """Read the candidates of a batch from the store: same URL, links, events around, news bands."""

    conn: Connection
    _full: dict[int, StoredCandidate]

    def _stored_full(self, ids: Iterable[int]) -> dict[int, StoredCandidate]:
        """Load stored records with full features (their data), cached.

        The features of a record version are kept for the process (FEATURES_CACHED): the
        same stored records are candidates again and again in one run, and folding their
        text is most of what judging them costs. Their data is read only when not cached.
        """
        ids = list(ids)
        missing = sorted(set(ids) - set(self._full))
        uncached: list[int] = []
        for part in chunks(missing):
            query = select(RECORD.c.id, RECORD.c.item_id, RECORD.c.source_id,
                           RECORD.c.content_hash, RECORD.c.first_seen).where(
                               RECORD.c.id.in_(part))
            for row in self.conn.execute(query):
                # first_seen too: an undated news record's day is the day it was first seen.
                key = (row.id, row.content_hash, row.first_seen)
                cached = _FEATURES.get(key)
                if cached is None:
                    uncached.append(row.id)
                    continue
                _FEATURES.move_to_end(key)
                self._full[row.id] = StoredCandidate(row.id, row.item_id, row.source_id,
                                                     cached, True)
        for part in chunks(uncached):
            query = select(RECORD.c.id, RECORD.c.item_id, RECORD.c.source_id, RECORD.c.data,
                           RECORD.c.first_seen, RECORD.c.content_hash).where(
                               RECORD.c.id.in_(part))
            for row in self.conn.execute(query):
                feats = features(row.data, row.first_seen, links=False)
                _FEATURES[(row.id, row.content_hash, row.first_seen)] = feats
                if len(_FEATURES) > FEATURES_CACHED:
                    _FEATURES.popitem(last=False)
                self._full[row.id] = StoredCandidate(row.id, row.item_id, row.source_id,
                                                     feats, True)
        return {i: self._full[i] for i in ids if i in self._full}

    def _by_url(self, hashes: set[str]) -> dict[str, list[tuple[int, str, str, str]]]:
        """Stored records at these URL hashes: {url_hash: [(id, item, source, kind)]}."""
        found: dict[str, list[tuple[int, str, str, str]]] = defaultdict(list)
        for part in chunks(sorted(hashes)):
            query = (select(INDEX.c.url_hash, INDEX.c.kind, RECORD.c.id, RECORD.c.item_id,
                            RECORD.c.source_id)
                     .join(RECORD, RECORD.c.id == INDEX.c.record_id)
                     .where(INDEX.c.url_hash.in_(part)))
            for row in self.conn.execute(query):
                found[row.url_hash].append((row.id, row.item_id, row.source_id, row.kind))
        return found

    def _linking(self, hashes: set[str]) -> dict[str, list[tuple[int, bool]]]:
        """Stored records that link to these URL hashes: {url_hash: [(record_id, labelled)]}."""
        found: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for part in chunks(sorted(hashes)):
            query = select(LINK.c.url_hash, LINK.c.record_id, LINK.c.labelled).where(
                LINK.c.url_hash.in_(part))
            for row in self.conn.execute(query):
                found[row.url_hash].append((row.record_id, bool(row.labelled)))
        return found

    def _events(self, batch: list[Features]) -> tuple[dict[int, list[StoredCandidate]],
                                                     dict[int, list[tuple[int, StoredCandidate]]]]:
        """Stored events starting within a day of the batch's events, and for timed ones
        within the time tolerance: all-day ones by day, timed ones by day sorted by minute.

        One query per start day, postal code and window of overlapping start times, on the
        index (kind, day, start_min): the rows read depend on how busy those hours are at
        that place, not on the size of the store.
        """
        tolerance = int(EVENT_TIME_TOLERANCE.total_seconds() // 60)
        # Per start day and postal code: None (an all-day event wants the whole days), or the
        # start minutes of its timed events, merged into windows that overlap.
        starts: dict[tuple[int, str | None], list[int] | None] = {}
        for feats in batch:
            if feats.kind != "event":
                continue
            # Stored codes are cut to the column's 10 characters.
            probe = (feats.day, (feats.postal_code or "")[:10] or None)
            if feats.start_min is None:
                starts[probe] = None
            elif starts.get(probe, []) is not None:
                starts.setdefault(probe, []).append(feats.start_min)  # type: ignore[union-attr]
        queries: list[tuple[tuple[int, str | None], tuple[int, int] | None]] = []
        for probe, minutes in sorted(starts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            if minutes is None:
                queries.append((probe, None))
                continue
            spans: list[list[int]] = []
            for minute in sorted(minutes):
                if spans and minute - tolerance <= spans[-1][1] + tolerance:
                    spans[-1][1] = minute
                else:
                    spans.append([minute, minute])
            queries.extend((probe, (lo - tolerance, hi + tolerance)) for lo, hi in spans)
        all_day: dict[int, list[StoredCandidate]] = defaultdict(list)
        timed: dict[int, list[tuple[int, StoredCandidate]]] = defaultdict(list)
        seen: set[int] = set()
        lookups: list[tuple[Select, dict[str, Any]]] = []
        for (day, code), window in queries:
            params: dict[str, Any] = {"before": day - 1, "day": day, "after": day + 1,
                                      "code": code}
            if window is None:
                statement = _EVENTS_ON_DAYS_AT if code else _EVENTS_ON_DAYS
            else:
                statement = _EVENTS_AROUND_AT if code else _EVENTS_AROUND
                params.update(first=window[0], last=window[1])
            lookups.append((statement, params))
        for row in self._rows_of(lookups):
            if row.record_id in seen:
                continue
            seen.add(row.record_id)
            stored = StoredCandidate(row.record_id, row.item_id, row.source_id, lite_features(row),
                             False)
            if row.start_min is None:
                all_day[row.day].append(stored)
            else:
                timed[row.day].append((row.start_min, stored))
        for values in timed.values():
            values.sort(key=lambda pair: pair[0])
        return all_day, timed

    def _news(self, batch: list[Features]) -> dict[int, dict[int, int]]:
        """Band hits per batch position: {position: {record_id: hits}}, pre-judged: for news
        the news and events alike, for events the news pages only."""
        wanted: dict[int, list[int]] = defaultdict(list)
        for pos, feats in enumerate(batch):
            for key in set(feats.index_keys()):
                wanted[key].append(pos)
        hits: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        if not wanted:
            return hits
        # Each key is looked up only within NEWS_MAX_DAYS of the days of the records that
        # want it, so the rows read depend on how busy those weeks are, not on the store.
        windows: list[tuple[int, int, int]] = []
        for key, positions in wanted.items():
            days = sorted({batch[pos].day for pos in positions})
            lo = hi = days[0]
            for day in days[1:]:
                if day - hi > 2 * NEWS_MAX_DAYS:
                    windows.append((key, lo - NEWS_MAX_DAYS, hi + NEWS_MAX_DAYS))
                    lo = day
                hi = day
            windows.append((key, lo - NEWS_MAX_DAYS, hi + NEWS_MAX_DAYS))
        days = [feats.day for feats in batch]
        for key, day, record_id in self._band_rows(windows):
            for pos in wanted[key]:
                if abs(days[pos] - day) <= NEWS_MAX_DAYS:
                    hits[pos][record_id] += 1
        return self._prejudged(batch, hits)

    def _prejudged(self, batch: list[Features], hits: dict[int, dict[int, int]]
                   ) -> dict[int, dict[int, int]]:
        """The MAX_CANDIDATES best band hits of each position that pass the pre-judge, those
        sharing the most bands first (ties in the order the index gave them).

        Chance collisions of one band are dropped by the stored signatures: two bands shared
        are four equal bins, past the bar already, so only single-band hits need theirs. An
        event looks for news pages that republish it here (other events it finds by time and
        place), so its hits need their kind. Signatures and kinds are read for the best
        unjudged hits only, round by round, until every position has its candidates: in a
        region's common words a record meets a hundred stored ones, and only ten are judged.
        """
        needed = PREFILTER_JACCARD * BINS
        ranked = {pos: sorted(per.items(), key=lambda kv: -kv[1]) for pos, per in hits.items()}
        mine = {pos: unpack_signature(packed) if (packed := batch[pos].packed_signature())
                else None for pos in ranked}
        kept: dict[int, dict[int, int]] = {pos: {} for pos in ranked}
        at = dict.fromkeys(ranked, 0)
        kinds: dict[int, str] = {}
        signatures: dict[int, tuple[int, ...] | None] = {}

        def wants_row(pos: int, rid: int, n: int) -> bool:
            return rid not in kinds and (batch[pos].kind == "event" or 2 * n < needed)

        while True:
            # Judge each position's hits in rank order as far as what was read allows.
            wanted: set[int] = set()
            for pos, order in ranked.items():
                event = batch[pos].kind == "event"
                while at[pos] < len(order) and len(kept[pos]) < MAX_CANDIDATES:
                    rid, n = order[at[pos]]
                    if wants_row(pos, rid, n):
                        break
                    at[pos] += 1
                    if event and kinds.get(rid) == "event":
                        continue
                    if 2 * n >= needed:
                        kept[pos][rid] = n
                        continue
                    ours, theirs = mine[pos], signatures.get(rid)
                    if ours and theirs and equal_bins(ours, theirs) >= needed:
                        kept[pos][rid] = n
                # Ask for as many rows as could still be needed here.
                room = MAX_CANDIDATES - len(kept[pos])
                for rid, n in order[at[pos]:]:
                    if room <= 0:
                        break
                    if wants_row(pos, rid, n):
                        wanted.add(rid)
                        room -= 1
            if not wanted:
                return kept
            for part in chunks(sorted(wanted)):
                query = select(INDEX.c.record_id, INDEX.c.kind, INDEX.c.signature).where(
                    INDEX.c.record_id.in_(part))
                for row in self.conn.execute(query):
                    kinds[row.record_id] = row.kind
                    signatures[row.record_id] = (unpack_signature(row.signature)
                                                 if row.signature else None)
            for rid in wanted:  # a record gone from the index meanwhile: judged as unknown
                kinds.setdefault(rid, "")

    def _rows_of(self, lookups: list[tuple[Select, dict[str, Any]]]) -> Iterator[Any]:
        """The rows of many small queries, in order.

        PostgreSQL gets them in one pipeline: thousands of lookups a crawl would otherwise
        wait for a round trip each (psycopg pipeline mode, same transaction).
        """
        if self.conn.dialect.name != "postgresql" or len(lookups) < 2:
            for statement, params in lookups:
                yield from self.conn.execute(statement, params)
            return
        # Only on PostgreSQL: psycopg is not needed for a SQLite store.
        from psycopg.rows import namedtuple_row

        driver_connection = self.conn.connection.driver_connection
        assert driver_connection is not None
        compiled: dict[int, Compiled] = {}
        cursors = []
        with driver_connection.pipeline():
            for statement, params in lookups:
                if id(statement) not in compiled:
                    compiled[id(statement)] = statement.compile(dialect=self.conn.dialect)
                query = compiled[id(statement)]
                cursor = driver_connection.cursor(row_factory=namedtuple_row)
                cursor.execute(str(query), query.construct_params(params))
                cursors.append(cursor)
        for cursor in cursors:
            yield from cursor.fetchall()
            cursor.close()

    def _band_rows(self, windows: list[tuple[int, int, int]]) -> Iterator[tuple[int, int, int]]:
        """Band rows (key, day, record_id) matching (key, first day, last day) windows.

        PostgreSQL gets the windows as three arrays: a short statement it prepares once.
        SQLite a VALUES list of 300 windows a statement, on the driver's own cursor: common
        bands return hundreds of thousands of rows a crawl, and SQLAlchemy's rows and the
        cache key of a statement with 900 parameters cost more than SQLite's lookup.
        """
        if self.conn.dialect.name == "postgresql":
            for part in chunks(windows, 20_000):
                keys, firsts, lasts = (list(column) for column in zip(*part, strict=True))
                yield from self.conn.execute(_BANDS_WITHIN_ARRAYS,
                                             {"keys": keys, "firsts": firsts, "lasts": lasts})
            return
        if self.conn.dialect.name == "sqlite":
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                for part in chunks(windows, 300):
                    cursor.execute(_bands_within_sqlite(len(part)),
                                   [value for window in part for value in window])
                    yield from cursor.fetchall()
            finally:
                cursor.close()
            return
        for part in chunks(windows, 300):
            yield from self.conn.execute(_bands_within(len(part)), _window_params(part))

    def _item_sources(self, item_ids: set[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for part in chunks(sorted(item_ids)):
            query = select(RECORD.c.item_id, RECORD.c.source_id).where(
                RECORD.c.item_id.in_(part))
            for row in self.conn.execute(query):
                found[row.item_id].add(row.source_id)
        return found

    def _refused(self, record_ids: set[int]) -> dict[int, set[str]]:
        """Items an operator split these records out of: they never rejoin them."""
        found: dict[int, set[str]] = defaultdict(set)
        for part in chunks(sorted(record_ids)):
            query = select(DECISION.c.record_id, DECISION.c.item_id).where(
                DECISION.c.action == "split", DECISION.c.record_id.in_(part))
            for row in self.conn.execute(query):
                found[row.record_id].add(row.item_id)
        return found
