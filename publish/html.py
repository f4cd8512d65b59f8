"""HTML5 (https://html.spec.whatwg.org/) first page for citizens (index.html), via Jinja2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from publish.context import Item, PublishContext, Source
from publish.dates import (
    event_days,
    format_date,
    format_event_when,
    format_time,
    local_day,
    parse_instant,
)
from publish.items import event_place, last_modified, newest_first

PATH = "index.html"
MEDIA_TYPE = "text/html"

NEWS_LIMIT = 20  # latest news shown; the feeds and dumps carry the rest
PAST_EVENTS_LIMIT = 5  # a short look back, most recent first
TEASER_CHARS = 240

STATUS_LABELS = {
    "ok": "in Ordnung",
    "failed": "fehlgeschlagen",
    "empty": "liefert nichts (letzte Einträge bleiben)",
    "never": "noch nicht abgerufen",
}

_ENV = Environment(
    loader=PackageLoader("publish", "templates"),
    autoescape=True,  # every value comes from foreign websites
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class EntryView:
    """One news item or event as the page shows it, all text already German."""

    title: str
    url: str | None
    when: str
    when_iso: str
    place: str
    teaser: str
    publisher: str
    source_name: str | None
    source_url: str | None
    also_from: list[str]


@dataclass(frozen=True)
class SourceView:
    """One configured source and its health, for the "Quellen" table."""

    name: str
    url: str
    publisher: str
    status: str
    status_label: str
    last_change: str
    last_change_iso: str | None
    items: int | None
    error: str | None


def render(ctx: PublishContext) -> bytes:
    """Render index.html: upcoming events, latest news, past events, sources and feed links.

    Only ``ctx.today`` brings time in: an event is upcoming while its last day is today or
    later, so a running multi-day event still shows. Same input and same day, same bytes.
    """
    sources = ctx.source_by_id()
    events = [item for item in ctx.items if _event(item)]
    news = [item for item in ctx.items if not _event(item)]

    upcoming = sorted(
        (item for item in events if event_days(_event(item))[1] >= ctx.today), key=_event_order
    )
    past = sorted(
        (item for item in events if event_days(_event(item))[1] < ctx.today),
        key=_event_order,
        reverse=True,
    )[:PAST_EVENTS_LIMIT]
    updated = last_modified(ctx.items)

    page = _ENV.get_template("index.html.j2").render(
        settings=ctx.settings,
        today=format_date(ctx.today),
        updated=_format_moment(updated.isoformat()) if updated else None,
        updated_iso=updated.isoformat() if updated else None,
        upcoming=[_entry(item, sources) for item in upcoming],
        past=[_entry(item, sources) for item in past],
        news=[_entry(item, sources) for item in newest_first(news)[:NEWS_LIMIT]],
        sources=[_source_view(source, ctx.health) for source in ctx.sources],
    )
    return page.encode("utf-8")


def _event(item: Item) -> dict[str, Any]:
    """Return the item's event details, or {} for news (and events without a start)."""
    ext = item.get("_regiofeed", {})
    event = ext.get("event") or {}
    return event if event.get("start") else {}


def _event_order(item: Item) -> tuple[Any, ...]:
    """Sort key for events: start instant, then title and id for a total order."""
    return (parse_instant(_event(item)["start"]), item.get("title", ""), item.get("id", ""))


def _entry(item: Item, sources: dict[str, Source]) -> EntryView:
    """Build the view of one item: German date, place and where it comes from."""
    ext = item.get("_regiofeed", {})
    event = _event(item)
    if event:
        when, when_iso, place = format_event_when(event), event["start"], event_place(event)
    else:
        published = item.get("date_published") or item.get("date_modified") or ""
        when = format_date(local_day(published), weekday=False) if published else ""
        when_iso, place = published, ""
    known = [sources[source_id] for source_id in ext.get("sources", []) if source_id in sources]
    first = known[0] if known else None
    return EntryView(
        title=item.get("title") or item["id"],
        url=item.get("url"),
        when=when,
        when_iso=when_iso,
        place=place,
        teaser=_teaser(item),
        publisher=ext.get("publisher", ""),
        source_name=first.get("name") if first else None,
        source_url=first.get("url") if first else None,
        also_from=[source.get("name", source["id"]) for source in known[1:]],
    )


def _teaser(item: Item) -> str:
    """Return the summary, or the start of the text cut at a word, ending in "…"."""
    text = " ".join((item.get("summary") or item.get("content_text") or "").split())
    if len(text) <= TEASER_CHARS:
        return text
    return text[:TEASER_CHARS].rsplit(" ", 1)[0].rstrip(",;:.–-") + " …"


def _source_view(source: Source, health: dict[str, Any]) -> SourceView:
    """Join a configured source with its entry in the health report."""
    state = health.get("sources", {}).get(source["id"], {})
    status = state.get("status", "never")
    # When the source's content last changed, not when it was last fetched: the page must stay
    # byte-identical while nothing changes.
    last_change = state.get("last_change")
    return SourceView(
        name=source.get("name", source["id"]),
        url=source.get("url", ""),
        publisher=source.get("publisher", ""),
        status=status,
        status_label=STATUS_LABELS.get(status, status),
        last_change=_format_moment(last_change) if last_change else "–",
        last_change_iso=last_change,
        items=state.get("items"),
        error=state.get("error"),
    )


def _format_moment(value: str) -> str:
    """Format an ISO 8601 date-time as German date and Europe/Berlin time."""
    moment = parse_instant(value)
    return f"{format_date(local_day(value))}, {format_time(moment)} Uhr"
