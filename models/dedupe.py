"""Assign records to items: exact URL and source links first, then blocked similarity (see below).

A new record is compared only with candidates the shared index in the store hands out, never
with every item:

1. the same canonical URL (`record_index.url_hash`), from any source;
2. a link to its original — `Record.original_url`, "Quelle: …", "Weiterlesen", a teaser's
   link — to a stored record's URL, or a stored record's such link to this record's URL
   (`record_link`); an unlabelled link in the text counts only with similar content;
3. news: records sharing a MinHash band (`record_band`, keyed by hash, with the publication
   day so the lookup stays within NEWS_MAX_DAYS), whose stored signature estimates a Jaccard
   similarity of at least PREFILTER_JACCARD; events are indexed under their first
   CROSS_BANDS bands, so news and events that tell the same find each other (issue 10: a
   portal's or paper's page republishing an event is that event);
4. events: records starting on the same day ±1 within EVENT_TIME_TOLERANCE, at the same
   postal code or none (`record_index.kind, day, start_min, postal_code`).

Candidates are then judged by models.similarity (across kinds by `compare_across`); a
candidate of the record's own kind wins over one of the other. Rules 3 and 4 never join two
records of the same source (a calendar lists a monthly event twelve times; two entries of one
site are two things), and never put a record into an item an operator split it out of. The
record joins the item of the best candidate; it never bridges two items (no transitive
chains): merging items is the operator's decision, or follows from a changed record that was
alone.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    delete,
    insert,
    select,
)

from regiofeed.models.candidates import (
    MAX_CANDIDATES,
    CandidateReader,
    StoredCandidate,
    chunks,
    url_hash,
)
from regiofeed.models.similarity import (
    EVENT_TIME_TOLERANCE,
    EVENT_TITLE_PLACE,
    NEWS_MAX_DAYS,
    Features,
    Verdict,
    compare,
    compare_events,
    containment,
    features,
    jaccard,
    other_file_numbers,
    title_similarity,
)
from regiofeed.models.tables import (
    BAND,
    INDEX,
    LINK,
    RECORD,
)


@dataclass(frozen=True)
class Match:
    """Where a record belongs: an existing item (with the rule and evidence), or a new one."""

    item_id: str | None
    rule: str
    note: str = ""
    record_id: int | None = None




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
        elif table is BAND and conn.dialect.name == "sqlite":
            # 16 rows a news record: the driver's executemany, without SQLAlchemy building
            # parameters row by row.
            conn.exec_driver_sql("INSERT INTO record_band (key, day, record_id) VALUES (?, ?, ?)",
                                 [(b["key"], b["day"], b["record_id"]) for b in values])
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












class Matcher(CandidateReader):
    """Find the item each of a batch of records belongs to, reading the index in the store."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._full: dict[int, StoredCandidate] = {}










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
                all_day: dict[int, list[StoredCandidate]],
                timed: dict[int, list[tuple[int, StoredCandidate]]],
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
        # 2. A link to the original, in either direction; to a record of the other kind (a
        # portal's page naming the event it republishes) only with similar content.
        for url, labelled in feats.links:
            rows = sorted(by_url.get(url_hash(url), []), key=lambda r: r[3] != feats.kind)
            for rid, item, src, kind in rows:
                if src == source_id or not usable(rid, item):
                    continue
                if labelled and kind == feats.kind:
                    return Match(item, "links to its original",
                                 f"links to {url} of record {rid} ({src})", rid)
                stored = self._stored_full([rid]).get(rid)
                if stored and _similar_enough(feats, stored.features, labelled):
                    return Match(item, "links to it, similar",
                                 f"links to {url} of record {rid} ({src}) with similar content",
                                 rid)
        if feats.url:
            rows = linking.get(url_hash(feats.url), [])
            for rid, labelled in sorted(rows, key=lambda r: not r[1]):
                stored = self._stored_full([rid]).get(rid)
                if stored is None or stored.source_id == source_id:
                    continue
                if not usable(rid, stored.item_id):
                    continue
                if (labelled and stored.features.kind == feats.kind) or _similar_enough(
                        feats, stored.features, labelled):
                    rule = "original of a copy" if labelled else "linked from it, similar"
                    return Match(stored.item_id, rule,
                                 f"record {rid} ({stored.source_id}) links here", rid)
        # 3./4. Similarity among blocked candidates.
        best: tuple[float, StoredCandidate, Verdict] | None = None
        for stored in self._candidates(feats, all_day, timed, hits):
            if stored.source_id == source_id or not usable(stored.record_id, stored.item_id):
                continue
            if source_id in item_sources.get(stored.item_id, set()):
                continue
            verdict = compare(feats, stored.features)
            if not stored.full and (verdict.same or _wants_text(verdict)):
                # Judged on its index row alone: its text may still join them, or name
                # another file number that keeps them apart.
                stored = self._stored_full([stored.record_id])[stored.record_id]
                verdict = compare(feats, stored.features)
            # A record of its own kind first: a copy of an article that also yields an event
            # belongs to the article.
            score = verdict.score + (0.0 if stored.features.kind == feats.kind else -1000.0)
            if verdict.same and (best is None or score > best[0]):
                best = (score, stored, verdict)
        if best is not None:
            _, stored, verdict = best
            return Match(stored.item_id, verdict.rule,
                         f"similar to record {stored.record_id} ({stored.source_id}), "
                         f"score {verdict.score:.2f}", stored.record_id)
        return Match(None, "new item")

    def _candidates(self, feats: Features, all_day: dict[int, list[StoredCandidate]],
                    timed: dict[int, list[tuple[int, StoredCandidate]]],
                    hits: dict[int, int]) -> Iterator[StoredCandidate]:
        ranked = sorted(hits.items(), key=lambda kv: -kv[1])[:MAX_CANDIDATES]
        for rid, _ in ranked:
            if rid in self._full:
                yield self._full[rid]
        if feats.kind == "news":
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


def _similar_enough(a: Features, b: Features, labelled: bool = False) -> bool:
    """With a link between them, ask less: related content and a plausible time.

    Across kinds (a news page and an event) a link named as the source ("Quelle",
    "Originalbeitrag", rel=canonical) needs a title that says much the same or an overlapping
    text; an unnamed link, as much as without the link.
    """
    if a.kind != b.kind:
        if not labelled or other_file_numbers(a, b):
            return compare(a, b).same
        return (title_similarity(a.title, b.title) >= EVENT_TITLE_PLACE
                or containment(a.tokens, b.tokens) >= 0.3)
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


def reindex_kind(conn: Connection, kind: str, batch: int = 2000) -> int:
    """Rewrite the index rows of every stored record of `kind`; return how many.

    For stores whose index was written by older rules (0007: events without band rows).
    """
    ids = list(conn.execute(select(INDEX.c.record_id).where(INDEX.c.kind == kind)
                            .order_by(INDEX.c.record_id)).scalars())
    for part in chunks(ids, batch):
        rows = conn.execute(select(RECORD.c.id, RECORD.c.data, RECORD.c.first_seen)
                            .where(RECORD.c.id.in_(part)))
        write_index(conn, [(row.id, features(row.data, row.first_seen)) for row in rows],
                    replace=True)
    return len(ids)
