"""The crawl result: what one source's crawl produced, the contract between spiders and store."""

from __future__ import annotations

from dataclasses import dataclass, field

from regiofeed.models.records import Record


@dataclass
class CrawlResult:
    """What one source's crawl produced: records, or the reason it failed."""

    source_id: str
    ok: bool
    records: list[Record] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    # Conditional GET: the entry URL was not modified (every record unchanged), or these
    # records' pages were not; and the validators to send next time.
    not_modified: bool = False
    unchanged_keys: list[str] = field(default_factory=list)
    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    # An incremental crawl (OParl modified_since) lists only what changed: records it does not
    # list stand unchanged; `gone_keys` are those the source says were deleted (tombstones).
    incremental: bool = False
    gone_keys: list[str] = field(default_factory=list)
    # What the spider found and read (auto-discovery), for health.json.
    discovered: str | None = None
    pages: int = 0
    bytes: int = 0
    duration_s: float = 0.0
    # 429/503 with Retry-After: the site asked to be left alone this many seconds.
    retry_after: float | None = None
