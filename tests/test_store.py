"""The store on SQLite and PostgreSQL: identity within a source, revisions, gone marks, items."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.models.sources import parse_sources
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow

BERLIN = ZoneInfo("Europe/Berlin")

SOURCES = parse_sources("""
[[source]]
id = "stadt"
name = "Stadt – Aktuelles"
publisher = "Stadt Bad Belzig"
municipality = "Bad Belzig"
url = "https://stadt.example/aktuelles/"
kind = "rss"
licence = "dl-by-de/2.0"
""").sources


def news(key: str, title: str, text: str = "Text.") -> Record:
    return Record(source_id="stadt", key=key, url=key, title=title, content_text=text,
                  date_published=datetime(2024, 8, 7, 9, 0, tzinfo=BERLIN))


def run(store: Store, records: list[Record], ok: bool = True) -> tuple:
    run_id = store.begin_run()
    result = CrawlResult(source_id="stadt", ok=ok, records=records,
                         error=None if ok else "HTTP 500 at https://stadt.example/aktuelles/")
    return store.apply_crawl(run_id, result, utcnow())


@pytest.fixture
def store(db_url: str) -> Store:
    with Store(db_url) as opened:
        opened.sync_sources(SOURCES)
        yield opened


def test_second_run_over_unchanged_records_adds_and_changes_nothing(store: Store) -> None:
    records = [news("https://stadt.example/a", "A"), news("https://stadt.example/b", "B")]
    first = run(store, records)
    assert (first.new, first.changed, first.unchanged) == (2, 0, 0)
    items_before = store.items()
    counts_before = store.counts()
    second = run(store, records)
    assert (second.new, second.changed, second.unchanged, second.gone) == (0, 0, 2, 0)
    assert store.items() == items_before
    after = store.counts()
    assert after["record"] == counts_before["record"] == 2
    assert after["record_revision"] == counts_before["record_revision"] == 2
    assert after["item"] == 2


def test_changed_record_makes_revision_and_moves_date_modified(store: Store) -> None:
    run(store, [news("https://stadt.example/a", "Alt")])
    (before,) = store.items()
    assert "date_modified" not in before
    summary = run(store, [news("https://stadt.example/a", "Neu", "Anderer Text.")])
    assert summary.changed == 1
    (after,) = store.items()
    assert after["id"] == before["id"]
    assert after["title"] == "Neu"
    assert datetime.fromisoformat(after["date_modified"]) > datetime.fromisoformat(
        after["date_published"])
    revisions = store.revisions("stadt", "https://stadt.example/a")
    assert [r.number for r in revisions] == [1, 2]
    assert [r.data["title"] for r in revisions] == ["Alt", "Neu"]


def test_vanished_record_is_marked_gone_after_two_runs_not_deleted(store: Store) -> None:
    a, b = news("https://stadt.example/a", "A"), news("https://stadt.example/b", "B")
    run(store, [a, b])
    assert run(store, [a]).gone == 0  # one miss can be a page cut short
    assert len(store.items()) == 2
    assert run(store, [a]).gone == 1
    assert [i["title"] for i in store.items()] == ["A"]
    assert len(store.items(include_gone=True)) == 2
    assert store.counts()["record"] == 2
    # It comes back when the source shows it again.
    assert run(store, [a, b]).gone == 0
    assert len(store.items()) == 2


def test_failed_or_empty_crawl_keeps_last_good_items(store: Store) -> None:
    run(store, [news("https://stadt.example/a", "A")])
    for _ in range(3):
        failed = run(store, [], ok=False)
        assert not failed.ok and failed.gone == 0
        assert run(store, []).gone == 0
    assert [i["title"] for i in store.items()] == ["A"]
    health = store.health(["stadt"])["stadt"]
    assert health["status"] == "empty"
    assert health["items"] == 1
    assert "last_success" in health


def test_failed_crawl_is_in_health(store: Store) -> None:
    run(store, [], ok=False)
    health = store.health(["stadt", "other"])
    assert health["stadt"]["status"] == "failed"
    assert "HTTP 500" in health["stadt"]["error"]
    assert "last_success" not in health["stadt"]
    assert health["other"] == {"status": "never", "items": 0}


def test_item_object_follows_the_design(store: Store) -> None:
    event = Record(
        source_id="stadt", key="urn:x:1", url="https://stadt.example/konferenz",
        title="Regionalkonferenz", content_text="Text", kind="event",
        date_published=date(2024, 8, 7),
        event=EventInfo(
            start=datetime(2024, 9, 5, 10, tzinfo=BERLIN),
            end=datetime(2024, 9, 5, 17, tzinfo=BERLIN),
            location=Location(name="Kulturzentrum Bad Belzig", street="Weitzgrunder Str. 4",
                              postal_code="14806", locality="Bad Belzig"),
        ),
    )
    run(store, [event])
    (item,) = store.items()
    assert item["url"] == "https://stadt.example/konferenz"
    assert item["date_published"] == "2024-08-07"
    ext = item["_regiofeed"]
    assert ext["kind"] == "event"
    assert ext["sources"] == ["stadt"]
    assert ext["publisher"] == "Stadt Bad Belzig"
    assert ext["municipality"] == "Bad Belzig"
    assert ext["licence"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert ext["event"] == {
        "start": "2024-09-05T10:00:00+02:00", "end": "2024-09-05T17:00:00+02:00",
        "all_day": False, "online": False,
        "location": {"name": "Kulturzentrum Bad Belzig", "street": "Weitzgrunder Str. 4",
                     "postal_code": "14806", "locality": "Bad Belzig"},
    }
    assert None not in item.values()
    assert "also_at" not in ext


def test_reopening_a_store_keeps_everything(db_url: str) -> None:
    with Store(db_url) as first:
        first.sync_sources(SOURCES)
        run(first, [news("https://stadt.example/a", "A")])
    with Store(db_url) as again:
        assert [i["title"] for i in again.items()] == ["A"]


def test_past_event_dropped_by_its_calendar_stays_published_news_does_not(store: Store) -> None:
    past = Record(source_id="stadt", key="k-fest", url="https://stadt.example/fest",
                  title="Burgfest 2023", kind="event", content_text="Mittelalter",
                  event=EventInfo(start=date(2023, 8, 25), end=date(2023, 8, 26), all_day=True))
    gone_news = news("https://stadt.example/alt", "Alte Meldung")
    keeper = news("https://stadt.example/bleibt", "Bleibt")
    run(store, [past, gone_news, keeper])
    for _ in range(2):  # both vanish from the source: gone after two runs
        run(store, [keeper])
    assert [i["title"] for i in store.items()] == ["Bleibt"]
    published = {i["title"] for i in store.published_items(date(2024, 9, 1))}
    assert published == {"Bleibt", "Burgfest 2023"}
    # The same event, had it been upcoming, would count as withdrawn.
    assert {i["title"] for i in store.published_items(date(2023, 8, 1))} == {"Bleibt"}


def _crawl_twice(store: Store, prefix: str, year: int, batched: bool) -> tuple:
    """Three sources crawled, then again: a 304, a changed source and a failed one; the
    second crawl stored in one batch or one source at a time. What came of it, the prefix
    taken off the source ids."""
    ids = [f"{prefix}{name}" for name in "abc"]
    store.sync_sources(parse_sources("\n".join(
        f'[[source]]\nid = "{i}"\nname = "{i}"\npublisher = "P"\n'
        f'url = "https://{i}.example/"\nkind = "rss"\nlicence = "dl-by-de/2.0"\n'
        for i in ids)).sources)

    def record(source: str, n: int, title: str) -> Record:
        return Record(source_id=source, key=f"https://{source}.example/{n}",
                      url=f"https://{source}.example/{n}", title=f"{title} {source} {year}",
                      content_text=f"Meldung {n} von {source} im Jahr {year}.",
                      date_published=datetime(year, 8, 7, 9, 0, tzinfo=BERLIN))

    a, b, c = ids
    started = utcnow()
    store.apply_crawls(store.begin_run(), [
        (CrawlResult(source_id=i, ok=True, records=[record(i, n, "Erste") for n in range(3)],
                     validators={f"https://{i}.example/": {"etag": '"1"'}}), started)
        for i in ids])
    second = [
        CrawlResult(source_id=a, ok=True, not_modified=True, statuses={"304": 1},
                    validators={f"https://{a}.example/": {"etag": '"2"'}}),
        CrawlResult(source_id=b, ok=True, records=[record(b, 0, "Geändert"),
                                                   record(b, 9, "Neu")]),
        CrawlResult(source_id=c, ok=False, error="HTTP 500"),
    ]
    run_id = store.begin_run()
    if batched:
        summaries = store.apply_crawls(run_id, [(r, started) for r in second])
    else:
        summaries = [store.apply_crawl(run_id, r, started) for r in second]
    health = store.health(ids)
    strip = len(prefix)
    return (
        [(s.source_id[strip:], s.ok, s.records_seen, s.new, s.changed, s.unchanged, s.gone)
         for s in summaries],
        {k[strip:]: (e["status"], e["records_seen"], e["items"], e.get("not_modified"))
         for k, e in health.items()},
        [{url.replace(prefix, ""): v for url, v in found.items()}
         for found in store.validators_of(ids)],
        sorted(item["title"].replace(f" {year}", "").replace(f" {prefix}", " ")
               for item in store.items() if item["_regiofeed"]["sources"][0] in ids))


def test_a_batch_stores_as_one_crawl_at_a_time_would(store: Store) -> None:
    """apply_crawls: a 304, a changed source and a failed one in one transaction give the
    summaries, ledger, validators and items that storing them one by one gives."""
    one_by_one = _crawl_twice(store, "one-", 2023, batched=False)
    batched = _crawl_twice(store, "batch-", 2024, batched=True)
    assert batched == one_by_one
    summaries, health, validators, titles = batched
    assert summaries[0] == ("a", True, 3, 0, 0, 3, 0)
    assert summaries[1][3:5] == (1, 1)  # one new, one changed
    assert health["a"] == ("ok", 3, 3, True)
    assert health["c"][0] == "failed"
    assert validators[0] == {"https://a.example/": {"etag": '"2"'}}
    assert "Neu b" in titles
