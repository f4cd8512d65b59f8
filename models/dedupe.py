"""Assign records to items: exact URL and source links first, then blocked similarity (see below).

A new record is compared only with candidates the shared index in the store hands out, never
with every item:

1. the same canonical URL (`record_index.url_hash`), from any source;
2. a link to its original — `Record.original_url`, "Quelle: …", "Weiterlesen", a teaser's
   link — to a stored record's URL, or a stored record's such link to this record's URL
   (`record_link`); an unlabelled link in the text counts only with similar content;
3. news: records sharing a MinHash band (`record_band`, keyed by hash, with the publication
   day so the lookup stays within NEWS_MAX_DAYS), whose stored signature estimates a Jaccard
   similarity of at least PREFILTER_JACCARD;
4. events: records starting on the same day ±1 within EVENT_TIME_TOLERANCE, at the same
   postal code or none (`record_index.kind, day, start_min, postal_code`).

Candidates are then judged by models.similarity. Rules 3 and 4 never join two records of the
same source (a calendar lists a monthly event twelve times; two entries of one site are two
things), and never put a record into an item an operator split it out of. The record joins
the item of the best candidate; it never bridges two items (no transitive chains): merging
items is the operator's decision, or follows from a changed record that was alone.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    TextClause,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Compiled

from regiofeed.models.similarity import (
    EVENT_TIME_TOLERANCE,
    NEWS_MAX_DAYS,
    PREFILTER_JACCARD,
    Features,
    Verdict,
    compare,
    compare_events,
    estimate_packed,
    features,
    jaccard,
    title_similarity,
)
from regiofeed.models.tables import (
    ItemDecisionRow,
    RecordBandRow,
    RecordIndexRow,
    RecordLinkRow,
    RecordRow,
)

CHUNK = 500
# News candidates judged per record, those sharing the most keys first.
MAX_CANDIDATES = 10
RECORD = RecordRow.__table__
INDEX = RecordIndexRow.__table__
BAND = RecordBandRow.__table__
LINK = RecordLinkRow.__table__
DECISION = ItemDecisionRow.__table__


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass(frozen=True)
class Match:
    """Where a record belongs: an existing item (with the rule and evidence), or a new one."""

    item_id: str | None
    rule: str
    note: str = ""
    record_id: int | None = None


@dataclass
class _Stored:
    """A stored record as a candidate: its item, source and (possibly partial) features."""

    record_id: int
    item_id: str
    source_id: str
    features: Features
    full: bool


def index_rows(record_id: int, feats: Features) -> tuple[dict, list[dict], list[dict]]:
    """Return the record_index row, record_band rows and record_link rows of one record."""
    row = {
        "record_id": record_id, "kind": feats.kind, "day": feats.day, "end_day": feats.end_day,
        "start_min": feats.start_min, "title": feats.title[:500],
        "url_hash": url_hash(feats.url) if feats.url else None,
        "postal_code": (feats.postal_code or "")[:10] or None,
        "locality": (feats.locality or "")[:100] or None, "place": feats.place,
        "street": (feats.street or "")[:200] or None, "online": feats.online,
        "signature": feats.packed_signature(),
    }
    bands = [{"key": key, "day": feats.day, "record_id": record_id}
             for key in sorted(set(feats.index_keys()))]
    links = {url_hash(u): labelled for u, labelled in feats.links}
    return row, bands, [{"url_hash": h, "record_id": record_id, "labelled": lab}
                        for h, lab in links.items()]


def write_index(conn: Connection, entries: Iterable[tuple[int, Features]],
                replace: bool = False) -> None:
    """Insert (or with `replace`, rewrite) the index rows of records, in bulk."""
    rows, bands, links = [], [], []
    ids = []
    for record_id, feats in entries:
        ids.append(record_id)
        row, b, lnk = index_rows(record_id, feats)
        rows.append(row)
        bands.extend(b)
        links.extend(lnk)
    if replace:
        for part in chunks(ids):
            for table in (INDEX, BAND, LINK):
                conn.execute(delete(table).where(table.c.record_id.in_(part)))
    for table, values in ((INDEX, rows), (BAND, bands), (LINK, links)):
        if not values:
            continue
        if table is BAND and conn.dialect.name == "postgresql":
            _copy_bands(conn, values)
        else:
            conn.execute(insert(table), values)


def _copy_bands(conn: Connection, bands: list[dict[str, int]]) -> None:
    """Band rows into PostgreSQL by COPY, in this transaction: 16 a news record, the bulk of
    what storing writes, and COPY takes them several times faster than INSERTs."""
    conn.execute(select(1))  # make sure the transaction has begun on this connection
    driver_connection = conn.connection.driver_connection
    assert driver_connection is not None
    with driver_connection.cursor() as cursor, cursor.copy(
            "COPY record_band (key, day, record_id) FROM STDIN") as copy:
        for band in bands:
            copy.write_row((band["key"], band["day"], band["record_id"]))


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


_BANDS_WITHIN_ARRAYS = text(
    "SELECT b.key, b.day, b.record_id FROM unnest(CAST(:keys AS BIGINT[]), "
    "CAST(:firsts AS INTEGER[]), CAST(:lasts AS INTEGER[])) AS wanted (key, lo, hi) "
    "JOIN record_band b ON b.key = wanted.key AND b.day BETWEEN wanted.lo AND wanted.hi")


def _window_params(windows: Sequence[tuple[int, int, int]]) -> dict[str, int]:
    params: dict[str, int] = {}
    for i, (key, lo, hi) in enumerate(windows):
        params[f"k{i}"], params[f"lo{i}"], params[f"hi{i}"] = key, lo, hi
    return params


class Matcher:
    """Find the item each of a batch of records belongs to, reading the index in the store."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._full: dict[int, _Stored] = {}

    # -- reading candidates --------------------------------------------------------------------

    def _stored_full(self, ids: Iterable[int]) -> dict[int, _Stored]:
        """Load stored records with full features (their data), cached."""
        missing = sorted(set(ids) - set(self._full))
        for part in chunks(missing):
            query = select(RECORD.c.id, RECORD.c.item_id, RECORD.c.source_id, RECORD.c.data,
                           RECORD.c.first_seen).where(RECORD.c.id.in_(part))
            for row in self.conn.execute(query):
                self._full[row.id] = _Stored(row.id, row.item_id, row.source_id,
                                             features(row.data, row.first_seen, links=False),
                                             True)
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

    def _events(self, batch: list[Features]) -> tuple[dict[int, list[_Stored]],
                                                     dict[int, list[tuple[int, _Stored]]]]:
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
        all_day: dict[int, list[_Stored]] = defaultdict(list)
        timed: dict[int, list[tuple[int, _Stored]]] = defaultdict(list)
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
            stored = _Stored(row.record_id, row.item_id, row.source_id, lite_features(row),
                             False)
            if row.start_min is None:
                all_day[row.day].append(stored)
            else:
                timed[row.day].append((row.start_min, stored))
        for values in timed.values():
            values.sort(key=lambda pair: pair[0])
        return all_day, timed

    def _news(self, batch: list[Features]) -> dict[int, dict[int, int]]:
        """Band hits per batch position: {position: {record_id: hits}}, pre-judged."""
        wanted: dict[int, list[int]] = defaultdict(list)
        for pos, feats in enumerate(batch):
            if feats.kind != "news":
                continue
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
        for row in self._band_rows(windows):
            for pos in wanted[row.key]:
                if abs(batch[pos].day - row.day) <= NEWS_MAX_DAYS:
                    hits[pos][row.record_id] += 1
        # Pre-judge by the stored signatures: chance collisions of one band are not read.
        signatures: dict[int, bytes] = {}
        ids = sorted({rid for per in hits.values() for rid in per})
        for part in chunks(ids):
            query = select(INDEX.c.record_id, INDEX.c.signature).where(
                INDEX.c.record_id.in_(part))
            signatures.update({row.record_id: row.signature for row in self.conn.execute(query)
                               if row.signature})
        for pos, per in hits.items():
            mine = batch[pos].packed_signature()
            for rid in list(per):
                theirs = signatures.get(rid)
                if mine is None or theirs is None or estimate_packed(mine, theirs) < \
                        PREFILTER_JACCARD:
                    del per[rid]
        return hits

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

    def _band_rows(self, windows: list[tuple[int, int, int]]) -> Iterator[Any]:
        """Band rows (key, day, record_id) matching (key, first day, last day) windows.

        PostgreSQL gets the windows as three arrays: a short statement it prepares once.
        Elsewhere a VALUES list of 300 windows a statement.
        """
        if self.conn.dialect.name == "postgresql":
            for part in chunks(windows, 20_000):
                keys, firsts, lasts = (list(column) for column in zip(*part, strict=True))
                yield from self.conn.execute(_BANDS_WITHIN_ARRAYS,
                                             {"keys": keys, "firsts": firsts, "lasts": lasts})
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

    # -- deciding ------------------------------------------------------------------------------

    def match(self, source_id: str, batch: list[Features],
              record_ids: Sequence[int | None] | None = None) -> list[Match]:
        """Return, for each record of `source_id` in `batch`, the item it belongs to.

        `record_ids` are the batch's own stored ids when re-matching changed records (so they
        do not find themselves); new records pass None.
        """
        own = list(record_ids) if record_ids is not None else [None] * len(batch)
        own_set = {i for i in own if i is not None}
        refused = self._refused(own_set) if own_set else {}
        url_hashes = {url_hash(f.url) for f in batch if f.url}
        link_hashes = {url_hash(u) for f in batch for u, _ in f.links}
        by_url = self._by_url(url_hashes | link_hashes)
        linking = self._linking(url_hashes)
        all_day, timed = self._events(batch)
        news_hits = self._news(batch)
        # Full features of records found by links and by news bands (few per record).
        linked_ids = {rid for rows in linking.values() for rid, _ in rows}
        news_ids = {rid for per in news_hits.values()
                    for rid, _ in sorted(per.items(), key=lambda kv: -kv[1])[:MAX_CANDIDATES]}
        self._stored_full(linked_ids | news_ids)
        candidate_items = {i for rows in by_url.values() for _, i, _, _ in rows}
        candidate_items |= {s.item_id for s in self._full.values()}
        candidate_items |= {s.item_id for rows in all_day.values() for s in rows}
        candidate_items |= {s.item_id for rows in timed.values() for _, s in rows}
        item_sources = self._item_sources(candidate_items)
        results = []
        for pos, feats in enumerate(batch):
            me = own[pos]
            blocked = refused.get(me, set()) if me is not None else set()
            match = self._decide(source_id, feats, me, blocked, by_url, linking,
                                 all_day, timed, news_hits.get(pos, {}), item_sources)
            if match.item_id is not None:
                item_sources[match.item_id].add(source_id)
            results.append(match)
        return results

    def _decide(self, source_id: str, feats: Features, me: int | None, blocked: set[str],
                by_url: dict[str, list[tuple[int, str, str, str]]],
                linking: dict[str, list[tuple[int, bool]]],
                all_day: dict[int, list[_Stored]], timed: dict[int, list[tuple[int, _Stored]]],
                hits: dict[int, int], item_sources: dict[str, set[str]]) -> Match:
        def usable(record_id: int, item_id: str) -> bool:
            return record_id != me and item_id not in blocked

        # An item is of one kind: a news page and the event it announces (same URL, the
        # spider's `announced_by`) stay two items.
        # 1. The same canonical URL, from any source.
        if feats.url:
            for rid, item, src, kind in sorted(by_url.get(url_hash(feats.url), []),
                                               key=lambda r: (r[2] == source_id, r[0])):
                if kind == feats.kind and usable(rid, item):
                    return Match(item, "same url", f"record {rid} ({src}) has the same URL", rid)
        # 2. A link to the original, in either direction.
        for url, labelled in feats.links:
            for rid, item, src, kind in by_url.get(url_hash(url), []):
                if src == source_id or kind != feats.kind or not usable(rid, item):
                    continue
                if labelled:
                    return Match(item, "links to its original",
                                 f"links to {url} of record {rid} ({src})", rid)
                stored = self._stored_full([rid]).get(rid)
                if stored and _similar_enough(feats, stored.features):
                    return Match(item, "links to it, similar",
                                 f"links to {url} of record {rid} ({src}) with similar content",
                                 rid)
        if feats.url:
            rows = linking.get(url_hash(feats.url), [])
            for rid, labelled in sorted(rows, key=lambda r: not r[1]):
                stored = self._stored_full([rid]).get(rid)
                if (stored is None or stored.source_id == source_id
                        or stored.features.kind != feats.kind):
                    continue
                if not usable(rid, stored.item_id):
                    continue
                if labelled or _similar_enough(feats, stored.features):
                    rule = "original of a copy" if labelled else "linked from it, similar"
                    return Match(stored.item_id, rule,
                                 f"record {rid} ({stored.source_id}) links here", rid)
        # 3./4. Similarity among blocked candidates.
        best: tuple[float, _Stored, Verdict] | None = None
        for stored in self._candidates(feats, all_day, timed, hits):
            if stored.source_id == source_id or not usable(stored.record_id, stored.item_id):
                continue
            if source_id in item_sources.get(stored.item_id, set()):
                continue
            verdict = compare(feats, stored.features)
            if not verdict.same and not stored.full and _wants_text(verdict):
                stored = self._stored_full([stored.record_id])[stored.record_id]
                verdict = compare(feats, stored.features)
            if verdict.same and (best is None or verdict.score > best[0]):
                best = (verdict.score, stored, verdict)
        if best is not None:
            score, stored, verdict = best
            return Match(stored.item_id, verdict.rule,
                         f"similar to record {stored.record_id} ({stored.source_id}), "
                         f"score {score:.2f}", stored.record_id)
        return Match(None, "new item")

    def _candidates(self, feats: Features, all_day: dict[int, list[_Stored]],
                    timed: dict[int, list[tuple[int, _Stored]]],
                    hits: dict[int, int]) -> Iterator[_Stored]:
        if feats.kind == "news":
            ranked = sorted(hits.items(), key=lambda kv: -kv[1])[:MAX_CANDIDATES]
            for rid, _ in ranked:
                if rid in self._full:
                    yield self._full[rid]
            return
        tolerance = int(EVENT_TIME_TOLERANCE.total_seconds() // 60)
        for day in (feats.day - 1, feats.day, feats.day + 1):
            yield from all_day.get(day, [])
            rows = timed.get(day, [])
            if feats.start_min is None:
                yield from (s for _, s in rows)
            elif rows:
                keys = [m for m, _ in rows]
                lo = bisect_left(keys, feats.start_min - tolerance)
                hi = bisect_right(keys, feats.start_min + tolerance)
                yield from (s for _, s in rows[lo:hi])


def _wants_text(verdict: Verdict) -> bool:
    """An event judged on title alone may still match by its description."""
    return verdict.rule == "other event (by title)"


def _similar_enough(a: Features, b: Features) -> bool:
    """With a link between them, ask less: related content and a plausible time."""
    if a.kind != b.kind:
        return False
    if a.kind == "event":
        verdict = compare_events(a, b)
        return verdict.same or (verdict.rule.startswith("other event") and verdict.score >= 40)
    if abs(a.day - b.day) > NEWS_MAX_DAYS:
        return False
    return jaccard(a.tokens, b.tokens) >= 0.05 or title_similarity(a.title, b.title) >= 50


def backfill_index(conn: Connection) -> int:
    """Index records stored before the dedupe index existed; return how many were added."""
    have = select(INDEX.c.record_id)
    query = select(RECORD.c.id, RECORD.c.data, RECORD.c.first_seen).where(
        RECORD.c.id.not_in(have))
    entries = [(row.id, features(row.data, row.first_seen)) for row in conn.execute(query)]
    write_index(conn, entries)
    return len(entries)


