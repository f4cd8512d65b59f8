"""Load and validate `sources.toml`: the sources to crawl and the crawl's politeness settings."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from regiofeed.models.licences import LICENCE_BASE, LICENCES
from regiofeed.models.presets import PRESETS
from regiofeed.models.push_config import PushConfig

# The kinds of source the design names; each has its spider (spiders/worker.py).
KNOWN_KINDS = ("auto", "rss", "atom", "jsonfeed", "ical", "jsonld", "html", "sitemap", "oparl")
FEED_KINDS = ("rss", "atom", "jsonfeed")


# EU data themes (http://publications.europa.eu/resource/authority/data-theme).
DATA_THEMES = ("AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "OP_DATPRO",
               "REGI", "SOCI", "TECH", "TRAN")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SCHEDULES = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
INTERVAL = re.compile(r"^(\d+)\s*(m|h|d)$")


class SourcesError(ValueError):
    """A sources file that cannot be used; `problems` holds one line per problem."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class Selectors(BaseModel):
    """CSS selectors (Scrapy's dialect, with ::text and ::attr()) for `kind = "html"`."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(description="one element per item on the list page")
    title: str = Field(description="the item's title, inside the item element")
    link: str | None = Field(None, description="the detail page, followed and read")
    date: str | None = Field(None, description="the publication date shown with the item")
    summary: str | None = Field(None, description="the teaser text")
    location: str | None = Field(None, description="an event's place (list item or detail)")
    when: str | None = Field(None, description="an event's date and time (list item or detail)")
    content: str | None = Field(None, description="the main text on the detail page")
    next: str | None = Field(None, description="the next list page (pagination)")


class Source(BaseModel):
    """One `[[source]]` of sources.toml."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    publisher: str
    url: str
    kind: Literal["auto", "rss", "atom", "jsonfeed", "ical", "jsonld", "html", "sitemap",
                  "oparl"]
    licence: str
    municipality: str | None = None
    ags: str | None = None
    schedule: str = "hourly"
    # What the items of a source are when the page itself does not say (an event calendar).
    item_kind: Literal["news", "event"] | None = None
    # Contact URL for the crawler's User-Agent, if it differs from [crawl] contact.
    contact: str | None = None
    # The publishing body's own web page and e-mail, for the catalogue's contact point.
    publisher_url: str | None = None
    publisher_email: str | None = None
    keywords: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    max_pages: int = Field(5, ge=1, le=500)
    # kind "auto": a feed item that is only a teaser gets its article fetched once.
    follow_teasers: bool = True
    selectors: Selectors | None = None
    # kind "html": a named selector set of spiders/presets.py ("typo3-news"); a
    # [source.selectors] table next to it overrides the preset key by key.
    preset: str | None = None
    # kind "sitemap": a regular expression a page URL must match to be read ("/aktuelles/").
    url_pattern: str | None = None
    # Further hosts whose pages this source may fetch (a town's news on its CMS provider's
    # host); links elsewhere are kept as URLs but never fetched (spiders/offhost.py).
    hosts: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """Fill selectors (and item_kind) from the preset; the source's own keys win."""
        if not isinstance(data, dict) or data.get("preset") not in PRESETS:
            return data  # an unknown preset is reported by _known_preset
        own = data.get("selectors")
        if own is not None and not isinstance(own, dict):
            return data
        preset = PRESETS[data["preset"]]
        merged = {**preset["selectors"], **(own or {})}
        data = {**data, "selectors": merged}
        if data.get("item_kind") is None and preset.get("item_kind"):
            data["item_kind"] = preset["item_kind"]
        return data

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            known = ", ".join(sorted(PRESETS))
            raise ValueError(f"unknown preset {value!r}; known presets: {known}")
        return value

    @field_validator("themes")
    @classmethod
    def _themes(cls, value: list[str]) -> list[str]:
        unknown = [theme for theme in value if theme not in DATA_THEMES]
        if unknown:
            raise ValueError(f"expected EU data theme codes ({', '.join(DATA_THEMES)}), "
                             f"got {', '.join(unknown)}")
        return value

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("expected a slug of lower-case letters, digits and hyphens")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an absolute http:// or https:// URL")
        return value

    @field_validator("licence")
    @classmethod
    def _licence(cls, value: str) -> str:
        if value.startswith(LICENCE_BASE):
            value = value.removeprefix(LICENCE_BASE)
        if value not in LICENCES:
            raise ValueError(f"expected a licence id of {LICENCE_BASE}, e.g. 'dl-by-de/2.0'")
        return value

    @field_validator("ags")
    @classmethod
    def _ags(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{8}", value):
            raise ValueError("expected the 8-digit Amtlicher Gemeindeschlüssel, e.g. '12069020'")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        schedule_interval(value)
        return value

    @field_validator("url_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"expected a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _selectors_match_kind(self) -> Source:
        if self.kind == "html" and self.selectors is None:
            raise ValueError("selectors: kind 'html' needs a [source.selectors] table")
        if self.kind != "html" and self.selectors is not None:
            if self.preset is not None:
                raise ValueError(f"preset: only kind 'html' takes a preset, not {self.kind!r}")
            raise ValueError(f"selectors: only kind 'html' takes selectors, not {self.kind!r}")
        return self

    @property
    def licence_uri(self) -> str:
        return LICENCE_BASE + self.licence

    @property
    def interval(self) -> timedelta:
        return schedule_interval(self.schedule)


class CrawlSettings(BaseModel):
    """The `[crawl]` table: politeness and limits, shared by all sources of a file."""

    model_config = ConfigDict(extra="forbid")

    contact: str = "https://github.com/regiofeed/regiofeed"
    delay: float = Field(2.0, ge=0, description="seconds between requests to one domain")
    concurrency_per_domain: int = Field(1, ge=1, le=16)
    timeout: float = Field(30.0, gt=0, description="seconds for one download")
    max_bytes: int = Field(10_000_000, gt=0, description="largest response body accepted")
    # Wall-clock limit for one source; the crawl process is killed after it.
    source_timeout: float = Field(600.0, gt=0)
    obey_robots: bool = True
    # Budgets of one source (spiders/worker.py): bytes of all its responses, pages, records.
    max_source_bytes: int = Field(50_000_000, gt=0)
    max_source_pages: int = Field(2000, ge=1)
    max_source_records: int = Field(20_000, ge=1)
    # The crawl engine (spiders/engine.py): crawler processes (0: one per core), sources each
    # runs at once, the memory a process may grow to and the silence after which it is killed.
    workers: int = Field(0, ge=0, le=64)
    sources_per_worker: int = Field(32, ge=1, le=1000)
    worker_memory_mb: int = Field(1024, ge=64)
    worker_stall: float = Field(60.0, gt=0)
    # Wall-clock limit of a run's crawl: sources not finished by then fail, the rest publish.
    run_timeout: float | None = Field(None, gt=0)


class PublishConfig(BaseModel):
    """The `[publish]` table: what the published tree and its catalogue say about themselves.

    ``base_url`` is the public URL of the tree (e.g. ``https://example.org/regiofeed/``); when
    it is None, links are relative and feed self-links are left out.
    ``feed_size`` is how many of the newest items go into feed.xml, atom.xml and feed.json.
    ``calendar_past_days``: events.ics carries upcoming events and those whose last day is at
    most this many days ago (data/events.csv carries every event).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "regiofeed"
    description: str = "Nachrichten und Veranstaltungen aus der Region"
    # Public URL of the tree; the catalogue's URIs are built from it.
    base_url: str | None = None
    # Who runs this regiofeed instance: the catalogue's publisher and contact point.
    publisher: str = "regiofeed"
    contact_email: str | None = None
    contact_url: str | None = None
    # Assigned by GovData to each harvested catalogue; left out unless set.
    contributor_id: str | None = None
    feed_size: int = Field(50, ge=1, le=1000)
    calendar_past_days: int = Field(30, ge=0)
    datasets_per_page: int = Field(100, ge=1)
    language: str = "de"
    # The page footer links to them: Impressum, Datenschutzerklärung, Barrierefreiheitserklärung.
    imprint_url: str | None = None
    privacy_url: str | None = None
    accessibility_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _with_trailing_slash(cls, value: str | None) -> str | None:
        # A base without the trailing slash would make urljoin drop its last segment.
        return value if value is None or value.endswith("/") else value + "/"

    def url_for(self, path: str) -> str:
        """Return the public URL of ``path`` in the tree, or ``path`` itself without base_url.

        >>> PublishConfig(base_url="https://example.org/rf").url_for("feed.xml")
        'https://example.org/rf/feed.xml'
        >>> PublishConfig().url_for("feed.xml")
        'feed.xml'
        """
        return path if self.base_url is None else self.base_url + path


class NotifyConfig(BaseModel):
    """The `[notify]` table: who hears when a source breaks and when it recovers."""

    model_config = ConfigDict(extra="forbid")

    # POSTed as JSON ({"text": ..., "changes": [...]}: Slack/Mattermost-style hooks read text).
    webhook: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    # The name of the environment variable holding the SMTP password, never the password.
    smtp_password_env: str | None = None
    mail_from: str | None = None
    mail_to: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _mail_complete(self) -> NotifyConfig:
        if self.smtp_host and not (self.mail_from and self.mail_to):
            raise ValueError("smtp_host: mail needs mail_from and mail_to as well")
        return self


@dataclass(frozen=True)
class SourcesConfig:
    sources: list[Source]
    crawl: CrawlSettings
    publish: PublishConfig = field(default_factory=PublishConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    push: PushConfig = field(default_factory=PushConfig)

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def schedule_interval(value: str) -> timedelta:
    """Turn a schedule ('hourly', 'daily', 'weekly', '30m', '6h', '2d') into an interval.

    >>> schedule_interval("6h")
    datetime.timedelta(seconds=21600)
    """
    if value in SCHEDULES:
        return SCHEDULES[value]
    match = INTERVAL.match(value.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError("expected 'hourly', 'daily', 'weekly' or an interval such as '30m', '6h'")
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount)}.get(
        unit, timedelta(days=amount)
    )


def is_due(source: Source, last_attempt: datetime | None, now: datetime) -> bool:
    """Say whether a source's schedule calls for a crawl now.

    A little slack (a twelfth of the interval, at most five minutes) keeps an hourly cron from
    skipping a source whose last run started a few seconds less than an hour ago.

    >>> from datetime import UTC
    >>> s = Source(id="a", name="A", publisher="P", url="https://a.example/", kind="rss",
    ...            licence="cc-zero", schedule="hourly")
    >>> is_due(s, datetime(2024, 1, 1, 10, 2, tzinfo=UTC), datetime(2024, 1, 1, 11, 0, tzinfo=UTC))
    True
    >>> is_due(s, datetime(2024, 1, 1, 10, 30, tzinfo=UTC), datetime(2024, 1, 1, 11, tzinfo=UTC))
    False
    """
    if last_attempt is None:
        return True
    slack = min(source.interval / 12, timedelta(minutes=5))
    return now - last_attempt >= source.interval - slack


def select_sources(config: SourcesConfig, last_attempts: dict[str, datetime],
                   force: bool, only: list[str] | None,
                   deferred: dict[str, datetime] | None = None) -> list[Source]:
    """The sources this run crawls: those named in `only`, else all (force) or the due ones.

    A source whose server asked for a pause (`deferred`: Retry-After on 429/503) waits until
    then, even with `force`; naming it in `only` is the operator's explicit override.
    """
    if only:
        unknown = sorted(set(only) - {s.id for s in config.sources})
        if unknown:
            raise ValueError(f"no such source in the sources file: {', '.join(unknown)}")
        return [s for s in config.sources if s.id in only]
    now = datetime.now(UTC)
    deferred = deferred or {}
    return [s for s in config.sources if s.id not in deferred
            and (force or is_due(s, last_attempts.get(s.id), now))]


def _describe(error: dict[str, Any], sources: list[Any]) -> str:
    """Turn one pydantic error into 'source 'id': key 'x': what was expected'."""
    loc = list(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "required key is missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "literal_error":
        message = f"expected one of {', '.join(KNOWN_KINDS)}, got {error.get('input')!r}"
    if loc and loc[0] == "source" and len(loc) >= 2 and isinstance(loc[1], int):
        index = loc[1]
        raw = sources[index] if index < len(sources) else {}
        ident = raw.get("id") if isinstance(raw, dict) else None
        who = f"source {ident!r}" if ident else f"source #{index + 1} (no id)"
        key = ".".join(str(part) for part in loc[2:])
        for field_name in ("selectors", "preset"):
            if not key and message.startswith(f"{field_name}: "):
                key, message = field_name, message.removeprefix(f"{field_name}: ")
        return f"{who}: key {key!r}: {message}" if key else f"{who}: {message}"
    key = ".".join(str(part) for part in loc)
    return f"key {key!r}: {message}"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: list[Source] = Field(min_length=1)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    push: PushConfig = Field(default_factory=PushConfig)


def parse_sources(text: str, path: Path | str = "sources.toml") -> SourcesConfig:
    """Parse the text of a sources file; raise SourcesError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(path, [f"not valid TOML: {exc}"]) from None
    sources_raw = raw.get("source", [])
    if not isinstance(sources_raw, list):
        raise SourcesError(path, ["key 'source': expected [[source]] tables"])
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(err, sources_raw) for err in exc.errors()]
        raise SourcesError(path, problems) from None
    seen: set[str] = set()
    duplicates = []
    for source in parsed.source:
        if source.id in seen:
            duplicates.append(f"source {source.id!r}: key 'id': the id is used more than once")
        seen.add(source.id)
    if duplicates:
        raise SourcesError(path, duplicates)
    return SourcesConfig(sources=parsed.source, crawl=parsed.crawl, publish=parsed.publish,
                         notify=parsed.notify, push=parsed.push)


def load_sources(path: Path | str) -> SourcesConfig:
    """Read and validate a sources file; raise SourcesError (or OSError) on failure."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(path, [f"cannot be read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        # TOML is UTF-8 (TOML 1.0); the line helps find e.g. a Latin-1 "ä".
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SourcesError(path, [f"line {line}: not UTF-8 (byte 0x{exc.object[exc.start]:02x}"
                                  "); save the file as UTF-8"]) from None
    return parse_sources(text, path)
