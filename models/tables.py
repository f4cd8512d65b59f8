"""SQLModel tables of the store: sources, records, revisions, items, runs and their results."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        # SQLite keeps no offset: what we wrote was UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class SourceRow(SQLModel, table=True):
    """A configured source as last seen in a sources file."""

    __tablename__ = "source"

    id: str = Field(primary_key=True, max_length=100)
    name: str
    publisher: str
    municipality: str | None = None
    ags: str | None = Field(default=None, max_length=12)
    url: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(max_length=20)
    licence: str
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts()


class ItemRow(SQLModel, table=True):
    """A thing the world sees; here one record each, later the merge of several."""

    __tablename__ = "item"

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=10)
    created_at: datetime = _ts()
    # When any of its records last changed (observed), for ordering and date_modified.
    changed_at: datetime = _ts(index=True)
    gone_at: datetime | None = _ts(nullable=True)
    # Set when a merge absorbed this item: the surviving item's id, for consumers to follow.
    merged_into: str | None = Field(default=None, max_length=40, index=True)


class RecordRow(SQLModel, table=True):
    """One thing as one source shows it; its content lives in revisions, the newest copied here."""

    __tablename__ = "record"
    __table_args__ = (UniqueConstraint("source_id", "key_hash", name="uq_record_source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", max_length=100, index=True)
    key: str = Field(sa_column=Column(Text, nullable=False))
    # sha256 of key: URLs and guids can be longer than an index entry allows.
    key_hash: str = Field(max_length=64)
    item_id: str = Field(foreign_key="item.id", max_length=40, index=True)
    content_hash: str = Field(max_length=64)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    revision: int = 1
    first_seen: datetime = _ts()
    last_seen: datetime = _ts()
    changed_at: datetime = _ts()
    # Successful runs in a row that did not find the record; gone after two.
    missing_runs: int = 0
    gone_at: datetime | None = _ts(nullable=True)
    # Why the record is in its item: the rule that joined it ("new item", "same url", …) and
    # what it was compared with, for `regiofeed items show`.
    join_rule: str | None = Field(default=None, max_length=60)
    join_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RevisionRow(SQLModel, table=True):
    """Every version of a record, oldest first; nothing is ever overwritten."""

    __tablename__ = "record_revision"
    __table_args__ = (UniqueConstraint("record_id", "number", name="uq_revision_number"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    number: int
    content_hash: str = Field(max_length=64)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    fetched_at: datetime = _ts()
    run_id: str | None = Field(default=None, max_length=36)


class RunRow(SQLModel, table=True):
    """One pipeline run."""

    __tablename__ = "run"

    id: str = Field(primary_key=True, max_length=36)
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    status: str = Field(default="running", max_length=20)


class HttpValidatorRow(SQLModel, table=True):
    """ETag and Last-Modified of a fetched URL, sent back next run for a conditional GET."""

    __tablename__ = "http_validator"

    source_id: str = Field(foreign_key="source.id", max_length=100, primary_key=True)
    url_hash: str = Field(max_length=64, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    etag: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_modified: str | None = Field(default=None, max_length=64)


class SourceRunRow(SQLModel, table=True):
    """What one run did with one source: the health ledger."""

    __tablename__ = "source_run"
    __table_args__ = (Index("ix_source_run_source_started", "source_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id", max_length=36, index=True)
    source_id: str = Field(foreign_key="source.id", max_length=100)
    started_at: datetime = _ts()
    finished_at: datetime = _ts()
    ok: bool
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    statuses: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pages: int = 0
    bytes: int = 0
    # The source answered 304 Not Modified at its entry URL.
    not_modified: bool = False
    records_seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    duration_s: float = 0.0
    # kind "auto": which probe, feed or list answered and why the others were not used.
    discovered: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The source answered 429/503 with Retry-After: no run crawls it again before this time.
    deferred_until: datetime | None = _ts(nullable=True)


class RecordIndexRow(SQLModel, table=True):
    """Dedupe index: the comparable facts of a record, blocked by day (events) and URL."""

    __tablename__ = "record_index"
    # The postal code too: events elsewhere are filtered in the index, before any row is read.
    __table_args__ = (Index("ix_record_index_event_window", "kind", "day", "start_min",
                            "postal_code"),)

    record_id: int = Field(foreign_key="record.id", primary_key=True)
    kind: str = Field(max_length=10)
    # Local calendar day (date.toordinal, Europe/Berlin): event start, or news publication.
    day: int
    end_day: int | None = None
    # Minutes since the epoch of a timed event's start; None for all-day events and news.
    start_min: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    title: str = Field(sa_column=Column(Text, nullable=False))
    url_hash: str | None = Field(default=None, max_length=64, index=True)
    postal_code: str | None = Field(default=None, max_length=10)
    locality: str | None = Field(default=None, max_length=100)
    place: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    street: str | None = Field(default=None, max_length=200)
    online: bool = False
    # News: the packed MinHash signature, to pre-judge candidates without reading their text.
    signature: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class RecordBandRow(SQLModel, table=True):
    """Dedupe index for news: MinHash band and title-stem keys of a record, with its day."""

    __tablename__ = "record_band"

    key: int = Field(sa_column=Column(BigInteger, primary_key=True))
    day: int = Field(primary_key=True)
    # Indexed for re-indexing a changed record: its band rows are found without a scan.
    record_id: int = Field(foreign_key="record.id", primary_key=True, index=True)


class RecordLinkRow(SQLModel, table=True):
    """A link from a record to what may be its original ("Quelle: …", a teaser's link)."""

    __tablename__ = "record_link"

    url_hash: str = Field(max_length=64, primary_key=True)
    record_id: int = Field(foreign_key="record.id", primary_key=True, index=True)
    # Named or introduced as the source; an unlabelled link needs similar content too.
    labelled: bool = False


class ItemDecisionRow(SQLModel, table=True):
    """An operator's decision (merge two items, split a record out); applied on every run."""

    __tablename__ = "item_decision"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=10)
    item_id: str = Field(max_length=40, index=True)
    other_item_id: str | None = Field(default=None, max_length=40)
    record_id: int | None = Field(default=None, index=True)
    created_at: datetime = _ts()
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


# The tables themselves, for Core statements (bulk inserts, updates) beside the ORM.
ITEM = ItemRow.__table__
RECORD = RecordRow.__table__
REVISION = RevisionRow.__table__
DECISION = ItemDecisionRow.__table__


def hash_key(key: str) -> str:
    """The indexed hash of a record's key (guid or canonical URL), hex SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()
INDEX = RecordIndexRow.__table__
BAND = RecordBandRow.__table__
LINK = RecordLinkRow.__table__


class PushedItemRow(SQLModel, table=True):
    """An item as last sent to a target system (the Smart Village App): what it was sent as,
    so that an unchanged item is never sent twice and a gone one can be removed there."""

    __tablename__ = "pushed_item"

    target: str = Field(primary_key=True, max_length=20)
    item_id: str = Field(primary_key=True, max_length=40)
    # The target's type and id of the record it made ("NewsItem", "EventRecord").
    record_type: str = Field(max_length=40)
    remote_id: str | None = Field(default=None, max_length=64)
    # sha256 of what was sent: the mutation and its variables.
    content_hash: str = Field(max_length=64)
    pushed_at: datetime = _ts()


class PushTargetRow(SQLModel, table=True):
    """The last push to a target, for health.json."""

    __tablename__ = "push_target"

    target: str = Field(primary_key=True, max_length=20)
    last_attempt: datetime = _ts()
    last_success: datetime | None = _ts(nullable=True)
    ok: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
