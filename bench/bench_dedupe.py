"""Benchmark dedupe: add 10,000 records to stores of 10k, 100k and 1M items; time, peak memory.

    .venv/bin/python bench/bench_dedupe.py                 # 10k, 100k, 1M on SQLite in /tmp
    .venv/bin/python bench/bench_dedupe.py --sizes 10000 --db postgresql://…/bench

Each store is built with direct bulk inserts (items, records, dedupe index: what apply_crawl
would have written), then a fresh process stores 10 crawls of 1,000 records each through
Store.apply_crawl, the real path: half news, half events, 30 % of them the same thing as a
stored item in other words, on other sources. It prints the time (wall and CPU seconds of the
storing process: on a shared machine compare the CPU seconds), the peak resident memory of
that process, and how many of the planted duplicates found their item.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

from regiofeed.models.berlin import BERLIN
from regiofeed.models.candidates import chunks
from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.dedupe import index_rows
from regiofeed.models.items import item_id_for
from regiofeed.models.records import Record
from regiofeed.models.similarity import features
from regiofeed.models.store import Store
from regiofeed.models.tables import ItemRow, RecordBandRow, RecordIndexRow, RecordRow, SourceRow

FIRST_DAY = date(2022, 1, 1)
DAYS = 4 * 365
SOURCES_OLD = 200
NEW = 10_000
NEW_SOURCES = 10
DUPLICATES = 0.3
_SYLLABLE_TEXT = ("ber ge sel dorf stadt wal mark heim bach feld kirch haus bur lin ten ner "
                  "kon fest platz rat schul see au hof brun tal stein wie sen ro mer")
SYLLABLES = _SYLLABLE_TEXT.split()


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def zipf_words(rng: random.Random, vocab: list[str], n: int) -> list[str]:
    # Skewed like content words after stop words are gone: the ten commonest words are in
    # about a sixth of the texts each, most words are rare.
    return [vocab[int(len(vocab) * rng.random() ** 2)] for _ in range(n)]


def synthetic(rng: random.Random, vocab: list[str], n: int, source: str, start: int = 0
              ) -> list[dict]:
    """Records as JSON data (what the store keeps), news and events alternating by number."""
    out = []
    for i in range(n):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        title = " ".join(zipf_words(rng, vocab, 5)).capitalize()
        body = " ".join(zipf_words(rng, vocab, rng.randint(60, 120))) + "."
        url = f"https://{source}.example/{start + i}"
        data: dict = {"source_id": source, "key": url, "url": url, "title": title,
                      "content_text": body, "kind": "news",
                      "date_published": datetime(day.year, day.month, day.day, 9,
                                                 tzinfo=BERLIN).isoformat()}
        if (start + i) % 2:
            hour = rng.randrange(9, 21)
            start_at = datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
            place = rng.randrange(2000)
            data.update(kind="event", event={
                "start": start_at.isoformat(),
                "end": (start_at + timedelta(hours=2)).isoformat(), "all_day": False,
                "online": False, "location": {"name": f"Ort {place}",
                                              "postal_code": f"{14000 + place % 900}"}})
            data.pop("date_published")
        out.append(data)
    return out


def reword(rng: random.Random, data: dict, source: str, n: int, seed: int = 0) -> dict:
    """The same thing on another site: other URL, a third of the words dropped, reordered."""
    words = data["content_text"].rstrip(".").split()
    kept = [w for w in words if rng.random() > 0.3]
    rng.shuffle(kept)
    url = f"https://{source}.example/copy-{seed}-{n}"
    title_words = data["title"].split()
    copy = {**data, "source_id": source, "key": url, "url": url,
            "title": " ".join(title_words[:4]).capitalize(), "content_text": " ".join(kept)}
    if "date_published" in copy:
        published = datetime.fromisoformat(copy["date_published"]) + timedelta(days=1)
        copy["date_published"] = published.isoformat()
    return copy


def build(db_url: str, size: int, seed: int = 1) -> None:
    """Fill a new store with `size` items of one record each, by bulk insert."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    now = datetime.now(UTC)
    with Store(db_url) as store:
        with store.engine.begin() as conn:
            conn.execute(insert(SourceRow.__table__), [
                {"id": f"old{s}", "name": f"Quelle {s}", "publisher": f"Gemeinde {s}",
                 "url": f"https://old{s}.example/", "kind": "rss", "licence": "dl-by-de/2.0",
                 "config": {}, "updated_at": now} for s in range(SOURCES_OLD)] + [
                {"id": f"new{s}", "name": f"Neue Quelle {s}", "publisher": f"Verein {s}",
                 "url": f"https://new{s}.example/", "kind": "rss", "licence": "dl-by-de/2.0",
                 "config": {}, "updated_at": now} for s in range(NEW_SOURCES)])
        next_id = 1
        for part in chunks(range(size), 20_000):
            datas = [d for n in part for d in synthetic(rng, vocab, 1, f"old{n % SOURCES_OLD}",
                                                        n)]
            items, records, index, bands = [], [], [], []
            for data in datas:
                item_id = item_id_for(data["source_id"], data["key"])
                items.append({"id": item_id, "kind": data["kind"], "created_at": now,
                              "changed_at": now})
                records.append({"id": next_id, "source_id": data["source_id"],
                                "key": data["key"], "key_hash": item_id + "0" * 44,
                                "item_id": item_id, "content_hash": "0" * 64, "data": data,
                                "revision": 1, "first_seen": now, "last_seen": now,
                                "changed_at": now, "missing_runs": 0, "join_rule": "new item"})
                row, band, _ = index_rows(next_id, features(data, now))
                index.append(row)
                bands.extend(band)
                next_id += 1
            with store.engine.begin() as conn:
                conn.execute(insert(ItemRow.__table__), items)
                conn.execute(insert(RecordRow.__table__), records)
                conn.execute(insert(RecordIndexRow.__table__), index)
                conn.execute(insert(RecordBandRow.__table__), bands)
        with store.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT setval('record_id_seq', :n)"), {"n": next_id})
                conn.execute(text("ANALYZE"))
            else:
                conn.execute(text("ANALYZE"))


def measure(db_url: str, size: int, seed: int = 2) -> dict:
    """Store 10 crawls of 1,000 records each; return seconds, peak memory and recall."""
    rng = random.Random(seed)
    vocab = vocabulary(random.Random(1))
    with Store(db_url) as store:
        with store.engine.connect() as conn:
            # Distinct originals: one drawn twice for the same new source would rightly stay
            # apart (a source never joins an item it is in already) and blur the count.
            sample_ids = rng.sample(range(1, size + 1), int(NEW * DUPLICATES))
            originals = {}
            for part in chunks(sample_ids):
                query = select(RecordRow.__table__.c.id, RecordRow.__table__.c.item_id,
                               RecordRow.__table__.c.data).where(
                                   RecordRow.__table__.c.id.in_(part))
                originals.update({row.id: (row.item_id, row.data) for row in conn.execute(query)})
        fresh = synthetic(rng, vocab, NEW - len(sample_ids), "new", 10_000_000 * seed)
        planted: dict[str, str] = {}
        batch: list[dict] = []
        for n, rid in enumerate(sample_ids):
            item_id, data = originals[rid]
            copy = reword(rng, data, f"new{n % NEW_SOURCES}", n, seed)
            planted[copy["key"]] = item_id
            batch.append(copy)
        for n, data in enumerate(fresh):
            data["source_id"] = f"new{n % NEW_SOURCES}"
            batch.append(data)
        per_source: dict[str, list[Record]] = {}
        for data in batch:
            record = Record.model_validate({k: v for k, v in data.items()})
            per_source.setdefault(record.source_id, []).append(record)
        run_id = store.begin_run()
        started = time.perf_counter()
        cpu_started = time.process_time()
        for source_id, records in sorted(per_source.items()):
            store.apply_crawl(run_id, CrawlResult(source_id=source_id, ok=True, records=records),
                              datetime.now(UTC))
        # Closing the connections checkpoints SQLite's write-ahead log into the database file:
        # work the last commits left behind, counted here.
        store.engine.dispose()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        with store.engine.connect() as conn:
            keys = list(planted)
            found = {}
            for part in chunks(keys):
                query = select(RecordRow.__table__.c.key, RecordRow.__table__.c.item_id).where(
                    RecordRow.__table__.c.key.in_(part))
                found.update(dict(conn.execute(query).all()))
            joined_fresh = conn.execute(text(
                "SELECT count(*) FROM record WHERE source_id LIKE 'new%' AND key LIKE "
                "'https://new.example/%' AND join_rule <> 'new item'")).scalar_one()
    hits = sum(found.get(k) == v for k, v in planted.items())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"items": size, "added": NEW, "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_seconds, 2),
            "peak_rss_mb": round(peak_mb), "planted_duplicates": len(planted),
            "found": hits, "fresh_records_joined_wrongly": joined_fresh}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="Comma-separated store sizes (items).")
    parser.add_argument("--db", default=None,
                        help="Store URL; default a new SQLite file per size in --dir.")
    parser.add_argument("--dir", default="/tmp/regiofeed-bench", help="Folder for SQLite files.")
    parser.add_argument("--measure", action="store_true",
                        help="Only add the 10,000 records to the existing store at --db.")
    parser.add_argument("--seed", type=int, default=2,
                        help="Seed of the added records (another seed adds other records).")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.db, int(args.sizes), args.seed)))
        return
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        db_url = args.db or f"sqlite:///{args.dir}/bench-{size}.db"
        if db_url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm"):
                Path(db_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        else:
            with Store(db_url) as store, store.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        started = time.perf_counter()
        build(db_url, size)
        built = time.perf_counter() - started
        # A fresh process: its peak memory is that of storing the crawls alone.
        done = subprocess.run([sys.executable, __file__, "--measure", "--db", db_url,
                               "--sizes", str(size)], capture_output=True, text=True,
                              check=True, env={**os.environ})
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["build_seconds"] = round(built, 1)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
