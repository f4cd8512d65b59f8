"""The health ledger: per source and run what was fetched and found, and whether it looks broken.

A source is *failed* when its last crawl failed, *empty* when it answered but yielded nothing,
and *degraded* when it yielded far fewer records than it usually does (its site changed and
our selectors or feed no longer match). In every case its last good items stay published.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session

from regiofeed.models.candidates import chunks
from regiofeed.models.messages import clean_message
from regiofeed.models.tables import RECORD, SourceRunRow

# How many earlier successful runs make "usual", and how far below it counts as degraded.
USUAL_WINDOW = 10
DEGRADED_BELOW = 0.5
# Below this many records a drop says little (a list of three can become two).
USUAL_MINIMUM = 4
HISTORY = 10
BROKEN = ("failed", "empty", "degraded")
# The warning a crawl gives for input it could read only in part (spiders.degraded.PREFIX).
DAMAGED_INPUT = "degraded input"
SOURCE_RUN = SourceRunRow.__table__
# A source's runs, newest first.
_NEWEST_FIRST = (SOURCE_RUN.c.started_at.desc(), SOURCE_RUN.c.id.desc())


def _runs(session: Session, source_id: str, limit: int, **where: Any) -> list[Any]:
    """The source's latest runs, newest first (rows of source_run, read without the ORM:
    health is read for every source of a run)."""
    query = core_select(SOURCE_RUN).where(SOURCE_RUN.c.source_id == source_id)
    if "ok" in where:
        query = query.where(SOURCE_RUN.c.ok.is_(where["ok"]))
    return list(session.connection().execute(
        query.order_by(*_NEWEST_FIRST).limit(limit)))


def usual_records(session: Session, source_id: str) -> float | None:
    """The median of records seen by the source's recent successful runs (None: no history)."""
    recent = _runs(session, source_id, USUAL_WINDOW, ok=True)
    counts = [r.records_seen for r in recent if r.records_seen]
    return median(counts) if counts else None


def far_below_usual(seen: int, usual: float | None) -> bool:
    """Whether a crawl that saw `seen` records found far fewer than the source usually has.

    >>> far_below_usual(2, 10), far_below_usual(6, 10), far_below_usual(1, 3)
    (True, False, False)
    """
    return usual is not None and usual >= USUAL_MINIMUM and seen < usual * DEGRADED_BELOW


def _parse_errors(run: Any) -> int:
    return sum(1 for warning in run.warnings if warning.startswith("parse error"))


def _damaged_input(run: Any) -> str | None:
    """Every reason the source's input was not what it claims (spiders.degraded.PREFIX), in one
    line; the crawl may list its warnings in any order."""
    return "; ".join(w for w in run.warnings if w.startswith(DAMAGED_INPUT)) or None


def _run_summary(run: Any) -> dict[str, Any]:
    summary = {
        "started": run.started_at.isoformat(),
        "ok": run.ok,
        "http_statuses": run.statuses,
        "bytes": run.bytes,
        "records_seen": run.records_seen,
        "new": run.new,
        "changed": run.changed,
        "gone": run.gone,
        "parse_errors": _parse_errors(run),
        "duration_s": run.duration_s,
        "not_modified": run.not_modified,
        "error": clean_message(run.error),
    }
    return {k: v for k, v in summary.items() if v is not None}


def live_records(session: Session, source_ids: list[str]) -> dict[str, int]:
    """How many records each source shows now (not gone): one query per chunk of sources."""
    counts = dict.fromkeys(source_ids, 0)
    for part in chunks(sorted(counts)):
        for source_id, count in session.connection().execute(
                core_select(RECORD.c.source_id, func.count())
                .where(RECORD.c.source_id.in_(part), RECORD.c.gone_at.is_(None))
                .group_by(RECORD.c.source_id)):
            counts[source_id] = count
    return counts


def recent_runs(session: Session, source_ids: list[str], limit: int) -> dict[str, list[Any]]:
    """The latest `limit` runs of each source, newest first (as `_runs` orders them): one
    query per chunk of sources, ranked by a window function, not one query per source (a run
    reads the health of every source, twice)."""
    found: dict[str, list[Any]] = {source_id: [] for source_id in source_ids}
    place = func.row_number().over(partition_by=SOURCE_RUN.c.source_id,
                                   order_by=_NEWEST_FIRST).label("place")
    for part in chunks(sorted(found)):
        ranked = core_select(SOURCE_RUN, place).where(
            SOURCE_RUN.c.source_id.in_(part)).subquery()
        query = (core_select(*(ranked.c[column.name] for column in SOURCE_RUN.c))
                 .where(ranked.c.place <= limit)
                 .order_by(ranked.c.source_id, ranked.c.place))
        for row in session.connection().execute(query):
            found[row.source_id].append(row)
    return found


_RECENT = max(HISTORY, USUAL_WINDOW + 1)


def health_of(session: Session, source_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The health entry of each source, in the order given (see source_health)."""
    items = live_records(session, source_ids)
    recent = recent_runs(session, source_ids, _RECENT)
    return {source_id: source_health(session, source_id, items[source_id], recent[source_id])
            for source_id in source_ids}


def source_health(session: Session, source_id: str, items: int | None = None,
                  recent: list[Any] | None = None) -> dict[str, Any]:
    """Return the health entry of one source (the per-source object of health.json).

    `items`: the source's live records, and `recent` its latest runs (`recent_runs`), when
    the caller read them already.
    """
    if recent is None:
        recent = recent_runs(session, [source_id], _RECENT)[source_id]
    if items is None:
        items = live_records(session, [source_id])[source_id]
    if not recent:
        return {"status": "never", "items": items}
    last = recent[0]
    # Mostly among the recent runs; only a source that failed for long is looked up further.
    searched_all = len(recent) < _RECENT  # no older runs
    success = next((r for r in recent if r.ok), None)
    if success is None and not searched_all:
        success = next(iter(_runs(session, source_id, 1, ok=True)), None)
    changed = next((r for r in recent if r.new + r.changed + r.gone > 0), None)
    if changed is None and not searched_all:
        changed = session.connection().execute(
            core_select(SOURCE_RUN).where(
                SOURCE_RUN.c.source_id == source_id,
                (SOURCE_RUN.c.new + SOURCE_RUN.c.changed + SOURCE_RUN.c.gone) > 0)
            .order_by(SOURCE_RUN.c.started_at.desc()).limit(1)).first()
    earlier = [r.records_seen for r in recent[1:USUAL_WINDOW + 1] if r.ok and r.records_seen]
    usual = median(earlier) if earlier else None

    status = "ok" if last.ok else "failed"
    reason = None
    if last.ok and last.records_seen == 0:
        status, reason = "empty", "the source answered but yielded no records"
    elif last.ok and far_below_usual(last.records_seen, usual):
        status = "degraded"
        reason = f"{last.records_seen} records, usually {usual:g}"
    elif last.ok and (damaged := _damaged_input(last)):
        # Read as far as it went (spiders.degraded): published, but never called "ok".
        status, reason = "degraded", damaged
    entry = {
        "status": status,
        "reason": reason,
        "last_attempt": last.started_at.isoformat(),
        "last_success": success.finished_at.isoformat() if success else None,
        # The last run that found something new, changed or gone (what index.html shows).
        "last_change": changed.finished_at.isoformat() if changed else None,
        "items": items,
        "usual_records": usual,
        "records_seen": last.records_seen,
        "new": last.new,
        "changed": last.changed,
        "unchanged": last.unchanged,
        "gone": last.gone,
        "pages": last.pages,
        "bytes": last.bytes,
        "http_statuses": last.statuses,
        "not_modified": last.not_modified,
        "parse_errors": _parse_errors(last),
        "duration_s": last.duration_s,
        # Messages as recorded may quote a page or a URL with its credentials: cleaned here,
        # where every reader (health.json, `regiofeed health`, notifications) gets them.
        "error": clean_message(last.error),
        "warnings": [clean_message(w) for w in last.warnings],
        # What auto found and used (copyable into sources.toml to freeze it).
        "discovered": last.discovered,
        # Retry-After on 429/503: no run crawls the source before this time.
        "deferred_until": last.deferred_until.isoformat() if last.deferred_until else None,
        "history": [_run_summary(run) for run in recent[:HISTORY]],
    }
    return {k: v for k, v in entry.items() if v is not None and v != []}
