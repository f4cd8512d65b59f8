"""HTML5 (https://html.spec.whatwg.org/) pages for citizens (index.html per scope), via Jinja2."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from itertools import islice
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.filters import do_indent
from markupsafe import Markup

from regiofeed.publish import geojson, opml, search, tables
from regiofeed.publish.calendar_links import add_links, event_file, subscribe_links
from regiofeed.publish.context import Item, PublishContext, Source
from regiofeed.publish.dates import (
    event_days,
    format_date,
    format_event_when,
    format_time,
    is_date_only,
    local_day,
    parse_instant,
    rfc3339,
)
from regiofeed.publish.ical import calendar_events
from regiofeed.publish.items import event_place
from regiofeed.publish.jsonld import events_script
from regiofeed.publish.licences import licence_label
from regiofeed.publish.scopes import (
    CALENDAR,
    EVENTS_CSV,
    FEED_ATOM,
    FEED_JSON,
    FEED_RSS,
    INDEX_HTML,
    ITEMS_CSV,
    ITEMS_JSON,
    Scope,
    municipality_slug,
    scopes,
)

PATH = INDEX_HTML
MEDIA_TYPE = "text/html"

NEWS_LIMIT = 20  # latest news shown; the feeds and dumps carry the rest
UPCOMING_LIMIT = 100  # the calendar carries the rest
PAST_EVENTS_LIMIT = 5  # a short look back, most recent first
RECENT_PAST_LIMIT = 10  # shown in place of upcoming events when none are announced
TEASER_CHARS = 240
NO_MUNICIPALITY = "Überregional"
# The DCAT-AP.de catalogue at the root of the tree (written by publish.dcat).
CATALOGUE = (
    ("catalog.ttl", "text/turtle", "Turtle"),
    ("catalog.rdf", "application/rdf+xml", "RDF/XML"),
    ("catalog.jsonld", "application/ld+json", "JSON-LD"),
)

STATUS_LABELS = {
    "ok": "in Ordnung",
    "failed": "fehlgeschlagen",
    "empty": "liefert nichts (letzte Einträge bleiben)",
    "never": "noch nicht abgerufen",
}

_ENV = Environment(
    loader=PackageLoader("regiofeed.publish", "templates"),
    autoescape=True,  # every value comes from foreign websites
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _indent(text: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    """Jinja's ``indent`` filter, on the plain text of markup: the same characters, without
    markupsafe escaping (a no-op on markup) every line of every entry of a page again."""
    if isinstance(text, Markup):
        return Markup(do_indent(str(text), width, first, blank))
    return do_indent(text, width, first, blank)


_ENV.filters["indent"] = _indent


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
    cancelled: bool
    municipality: str
    ics: str | None = None  # the single-event calendar, relative to the page
    google: str | None = None  # "add to Google Calendar"
    outlook: str | None = None  # "add to Outlook.com"
    past: bool = False


@dataclass(frozen=True)
class DayView:
    """The events on one day, with the anchor and German label of its heading."""

    label: str
    anchor: str
    entries: list[EntryView]


@dataclass(frozen=True)
class GroupView:
    """The entries of one municipality within a section, with the anchor of its heading."""

    name: str
    anchor: str
    entries: list[EntryView]


@dataclass(frozen=True)
class SourceView:
    """One configured source and its health, for the "Quellen" table."""

    name: str
    url: str
    publisher: str
    municipality: str
    licence: str
    licence_url: str
    page: str
    status: str
    status_label: str
    last_change: str
    last_change_iso: str | None
    items: int | None
    error: str | None


@dataclass(frozen=True)
class ScopeLink:
    """Another scope of the tree as a link (filter, feed table), relative to this page."""

    title: str
    kind: str
    href: str
    current: bool


def render(ctx: PublishContext) -> bytes:
    """Render the index.html of the context's scope: coming events by day, news by
    municipality, past events, sources and their health, and every feed, calendar and data
    file to subscribe, with the JSON-LD, OpenGraph and alternate links machines read.

    Only ``ctx.today`` brings time in: an event is upcoming while its last day is today or
    later, so a running multi-day event still shows. When none is upcoming, the most recent
    past ones show instead, marked as past. A news item that announced an event shown here
    (same address) is left out of the news. Same input and same day, same bytes. Links are
    relative, so the tree works from any address and from the file system.
    """
    sources = ctx.source_by_id()
    facts = ctx.facts
    events = ctx.events_soonest
    upcoming, past = ctx.sorted_as("upcoming"), ctx.sorted_as("past")
    shown = upcoming[:UPCOMING_LIMIT] or past[:RECENT_PAST_LIMIT]
    announced = {url for item in events for url in _addresses(item)}
    news = list(
        islice(
            (item for item in ctx.newest if not _event(item) and item.get("url") not in announced),
            NEWS_LIMIT,
        )
    )
    changed = ctx.sorted_as("changed")
    updated = facts(changed[0]).modified if changed else None
    root = "../" * ctx.scope.path.count("/")
    tree = list(ctx.scopes) or scopes(ctx.sources, ctx.items)
    # Every page links the municipalities; only the root's links every source (a page per
    # source listing every source would grow with the square of the sources).
    links = [
        _scope_link(scope, ctx.scope, root)
        for scope in tree
        if scope.kind == "municipality" or ctx.scope.kind == "all"
    ]
    listed = _listed_sources(ctx)
    base = ctx.settings.base_url
    page_title = " – ".join(filter(None, (ctx.scope.title, ctx.settings.title)))
    in_calendar = {item["id"] for item in calendar_events(ctx)}
    entry = _entry_maker(sources, ctx.today, root, in_calendar, ctx.memo)

    page = _ENV.get_template("index.html.j2").render(
        settings=ctx.settings,
        scope=ctx.scope,
        page_title=page_title,
        root=root,
        today=format_date(ctx.today),
        updated=_format_moment(updated.isoformat()) if updated else None,
        updated_iso=rfc3339(updated.isoformat()) if updated else None,
        days=_days([entry(item) for item in shown], ctx.today),
        showing_past=not upcoming and bool(shown),
        more_upcoming=max(0, len(upcoming) - UPCOMING_LIMIT),
        past=[entry(item) for item in past[:PAST_EVENTS_LIMIT]] if upcoming else [],
        news=_groups([entry(item) for item in news], "nachrichten"),
        sources=[_source_view(source, ctx.health, root) for source in listed],
        municipalities=[link for link in links if link.kind == "municipality"],
        source_links=[link for link in links if link.kind == "source"],
        files=_files(),
        canonical=base + ctx.scope.path if base else None,
        subscribe=subscribe_links(base + ctx.scope.path + CALENDAR, page_title) if base else {},
        jsonld=Markup(events_script(shown)),  # "<" escaped by events_script
        catalogue=CATALOGUE,
    )
    return page.encode("utf-8")


def _addresses(item: Item) -> list[str]:
    """Every address an item was found at (url and also_at)."""
    also = (item.get("_regiofeed") or {}).get("also_at") or []
    return [url for url in (item.get("url"), *also) if url]


def _days(entries: list[EntryView], today: date) -> list[DayView]:
    """Group events by the day they are shown under: their first day, or today while they run
    (past events: their first day). Order kept."""
    by_day: dict[date, list[EntryView]] = {}
    for entry in entries:
        first = local_day(entry.when_iso) if entry.when_iso else today
        day = first if entry.past else max(first, today)
        by_day.setdefault(day, []).append(entry)
    return [DayView(_day_label(day, today), f"tag-{day.isoformat()}", by_day[day])
            for day in by_day]  # fmt: skip


def _day_label(day: date, today: date) -> str:
    """Say a day the German way, "Heute" and "Morgen" first.

    >>> _day_label(date(2024, 9, 2), date(2024, 9, 1))
    'Morgen, Mo., 2. September 2024'
    """
    prefix = {0: "Heute, ", 1: "Morgen, "}.get((day - today).days, "")
    return prefix + format_date(day)


def _files() -> dict[str, str]:
    """The file names the template links to, from publish.scopes."""
    return {
        "rss": FEED_RSS, "atom": FEED_ATOM, "json": FEED_JSON, "ics": CALENDAR,
        "items_json": ITEMS_JSON, "items_csv": ITEMS_CSV, "events_csv": EVENTS_CSV,
        "items_excel": tables.ITEMS_EXCEL, "events_excel": tables.EVENTS_EXCEL,
        "geojson": geojson.PATH, "opml": opml.PATH, "search": search.PATH, "index": INDEX_HTML,
    }  # fmt: skip


def _scope_link(scope: Scope, current: Scope, root: str) -> ScopeLink:
    # index.html named explicitly, so the links also work opened from the file system.
    return ScopeLink(scope.title, scope.kind, root + scope.path + INDEX_HTML, scope == current)


def _listed_sources(ctx: PublishContext) -> list[Source]:
    """The sources the page's table lists: all at the root, itself on a source's page."""
    if ctx.scope.kind == "source":
        return [source for source in (ctx.source_by_id().get(ctx.scope.key or ""),) if source]
    if ctx.scope.kind == "all":
        return list(ctx.sources)
    contributing = {
        source_id
        for item in ctx.items
        for source_id in item.get("_regiofeed", {}).get("sources", [])
    }
    return [source for source in ctx.sources if _source_in_scope(source, ctx.scope, contributing)]


def _source_in_scope(source: Source, scope: Scope, contributing: set[str]) -> bool:
    """Tell whether the sources table of the page of ``scope`` lists ``source``.

    A municipality's page lists the sources configured for it and those its items come from.
    """
    if scope.kind == "source":
        return source["id"] == scope.key
    if scope.kind == "municipality":
        configured = source.get("municipality")
        if configured and municipality_slug(configured) == municipality_slug(scope.key or ""):
            return True
        return source["id"] in contributing
    return True


def _groups(entries: Iterable[EntryView], prefix: str) -> list[GroupView]:
    """Group entries by municipality (alphabetically, "Überregional" last), order kept inside."""
    by_name: dict[str, list[EntryView]] = {}
    for entry in entries:
        by_name.setdefault(entry.municipality, []).append(entry)
    names = sorted(by_name, key=lambda name: (name == NO_MUNICIPALITY, municipality_slug(name)))
    return [
        GroupView(name, f"{prefix}-{municipality_slug(name)}", by_name[name]) for name in names
    ]


def _event(item: Item) -> dict[str, Any]:
    """Return the item's event details, or {} for news (and events without a start)."""
    ext = item.get("_regiofeed", {})
    event = ext.get("event") or {}
    return event if event.get("start") else {}


def _entry_maker(
    sources: dict[str, Source],
    today: date,
    root: str,
    in_calendar: set[str],
    memo: dict[Any, Any],
) -> Callable[[Item], EntryView]:
    """Return a function that builds the view of one item on this page.

    An item shown on several pages is viewed once per run (``memo``): only the link to its
    calendar file depends on the page, by the way back to the root of the tree.
    """

    def entry(item: Item) -> EntryView:
        key = ("html", item["id"], item["id"] in in_calendar)
        view: EntryView | None = memo.get(key)
        if view is None:
            view = memo[key] = _entry(item, sources, today, "", in_calendar)
        return replace(view, ics=root + view.ics) if root and view.ics else view

    return entry


def _entry(
    item: Item, sources: dict[str, Source], today: date, root: str, in_calendar: set[str]
) -> EntryView:
    """Build the view of one item: German date, place, where it comes from, calendar links."""
    ext = item.get("_regiofeed", {})
    event = _event(item)
    title = item.get("title") or item["id"]
    teaser = _teaser(item)
    links: dict[str, str] = {}
    if event:
        when, when_iso, place = format_event_when(event), event["start"], event_place(event)
        links = add_links(title, event, place, teaser)
    else:
        published = item.get("date_published") or item.get("date_modified") or ""
        when = format_date(local_day(published), weekday=False) if published else ""
        when_iso, place = published, ""
    known = [sources[source_id] for source_id in ext.get("sources", []) if source_id in sources]
    first = known[0] if known else None
    return EntryView(
        title=title,
        url=item.get("url"),
        when=when,
        when_iso=_datetime_attr(when_iso),
        place=place,
        teaser=teaser,
        publisher=ext.get("publisher", ""),
        source_name=first.get("name") if first else None,
        source_url=first.get("url") if first else None,
        also_from=[source.get("name", source["id"]) for source in known[1:]],
        cancelled=str(event.get("status", "")).lower() == "cancelled",
        municipality=ext.get("municipality") or NO_MUNICIPALITY,
        ics=root + event_file(item["id"]) if item["id"] in in_calendar else None,
        google=links.get("google"),
        outlook=links.get("outlook"),
        past=bool(event) and event_days(event)[1] < today,
    )


def _teaser(item: Item) -> str:
    """Return the summary, or the start of the text cut at a word, ending in "…"."""
    text = " ".join((item.get("summary") or item.get("content_text") or "").split())
    if len(text) <= TEASER_CHARS:
        return text
    return text[:TEASER_CHARS].rsplit(" ", 1)[0].rstrip(",;:.–-") + " …"


# What the pages show of a source's health entry (all the other keys are health.json's alone):
# a run that changes none of them leaves every page as it was (publish.unchanged).
PAGE_HEALTH_KEYS = ("status", "last_change", "items", "error")


def _source_view(source: Source, health: dict[str, Any], root: str) -> SourceView:
    """Join a configured source with its entry in the health report."""
    state = health.get("sources", {}).get(source["id"], {})
    status = state.get("status", "never")
    # When the source's content last changed, not when it was last fetched: the page must stay
    # byte-identical while nothing changes.
    last_change = state.get("last_change")
    licence = source.get("licence", "")
    return SourceView(
        name=source.get("name", source["id"]),
        url=source.get("url", ""),
        publisher=source.get("publisher", ""),
        municipality=source.get("municipality", ""),
        licence=licence_label(licence) if licence else "",
        licence_url=licence,
        page=f"{root}sources/{source['id']}/{INDEX_HTML}",
        status=status,
        status_label=STATUS_LABELS.get(status, status),
        last_change=_format_moment(last_change) if last_change else "–",
        last_change_iso=_datetime_attr(last_change) if last_change else None,
        items=state.get("items"),
        error=state.get("error"),
    )


def _datetime_attr(value: str) -> str:
    """Return a valid HTML ``<time datetime>`` value: a date as is, a date-time in whole seconds.

    >>> _datetime_attr("2023-08-25"), _datetime_attr("2024-09-01T06:00:00.5+00:00")
    ('2023-08-25', '2024-09-01T06:00:00+00:00')
    """
    if not value or is_date_only(value):
        return value
    return rfc3339(value)


def _format_moment(value: str) -> str:
    """Format an ISO 8601 date-time as German date and Europe/Berlin time."""
    moment = parse_instant(value)
    return f"{format_date(local_day(value))}, {format_time(moment)} Uhr"
