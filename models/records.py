"""The record: one news item or event as one source shows it, the output of every spider."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from regiofeed.models.berlin import parse_iso


def _date_or_datetime(value: Any) -> Any:
    """Read ISO text as a date when it has no time, so that JSON round trips keep date-only."""
    if isinstance(value, str):
        return parse_iso(value)
    return value


# A point in time (aware datetime) or a whole day (date).
DateOrTime = Annotated[datetime | date, BeforeValidator(_date_or_datetime)]


class Location(BaseModel):
    """A place as far as the text allows splitting it (schema.org Place/PostalAddress)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    locality: str | None = None
    # WGS 84 coordinates where the source gives them (schema.org GeoCoordinates, iCal GEO).
    lat: float | None = None
    lon: float | None = None

    def is_empty(self) -> bool:
        return not any((self.name, self.street, self.postal_code, self.locality))


class EventInfo(BaseModel):
    """When and where an event happens; date-only values mean an all-day event."""

    model_config = ConfigDict(extra="forbid")

    start: DateOrTime
    # For all-day events the last day it runs (inclusive), as in the item object.
    end: DateOrTime | None = None
    all_day: bool = False
    online: bool = False
    location: Location | None = None
    # schema.org eventStatus / iCal STATUS, normalised; None means as planned.
    status: Literal["cancelled", "postponed", "rescheduled"] | None = None
    organizer: str | None = None
    # The join link of an online event.
    online_url: str | None = None
    # Prices or "free" as the source states them (schema.org offers), plain text.
    offers: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | date | None) -> datetime | date | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("event times must be timezone-aware")
        return value


class Record(BaseModel):
    """One thing as one source shows it, already normalised (see models/normalise/)."""

    model_config = ConfigDict(extra="forbid")

    source_id: str
    # The source's guid, or the canonical URL: what identifies the thing within its source.
    key: str
    url: str | None = None
    title: str
    content_text: str | None = None
    content_html: str | None = None
    summary: str | None = None
    date_published: DateOrTime | None = None
    date_modified: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    author: str | None = None
    image: str | None = None
    # The image's alt text, where the source gives one.
    image_alt: str | None = None
    kind: Literal["news", "event"] = "news"
    event: EventInfo | None = None
    original_url: str | None = None  # the original it copies: rel=canonical, "Quelle: …"
    # For an event found inside a news page: the key of that news record (same source).
    announced_by: str | None = None
    # What a careful editor would want to know about how the record was read: a title's date
    # that contradicts the feed's, a teaser whose article could not be fetched. None, not
    # [], when there is nothing: records read before this field keep their content hash.
    notes: list[str] | None = None

    @field_validator("date_published", "date_modified")
    @classmethod
    def _aware(cls, value: datetime | date | None) -> datetime | date | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value

    def content_hash(self) -> str:
        """Return a fingerprint of what the source says; equal hashes mean no new revision."""
        payload = self.model_dump_json(exclude_none=True).encode()
        return hashlib.sha256(payload).hexdigest()
