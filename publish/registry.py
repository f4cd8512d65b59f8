"""The registry of published formats and publish_all, which writes them all atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from regiofeed.publish import (
    atom,
    dcat,
    dumps,
    geojson,
    html,
    ical,
    jsonfeed,
    municipalities,
    opml,
    rss,
    search,
    tables,
)
from regiofeed.publish import health as health_json  # the parameter of publish_all is named health
from regiofeed.publish.atomic import Chunks, TreeWriter
from regiofeed.publish.calendar_links import EVENT_DIR
from regiofeed.publish.context import ORDERS, Item, PublishContext, PublishSettings, Source
from regiofeed.publish.dates import BERLIN
from regiofeed.publish.scopes import (
    CALENDAR,
    EVENTS_CSV,
    FEED_ATOM,
    FEED_JSON,
    FEED_RSS,
    INDEX_HTML,
    ITEMS_CSV,
    ITEMS_JSON,
    MUNICIPALITIES_DIR,
    SOURCES_DIR,
    STREAM_KIND,
    STREAMS,
    Scope,
    deal,
    scope_files,
    scopes,
)

logger = logging.getLogger(__name__)

ROOT_ONLY = frozenset({"all"})
EVERY_SCOPE = frozenset({"all", "source", "municipality"})


@dataclass(frozen=True)
class Format:
    """One published file: where it goes, its media type and how to render it.

    ``path`` is relative to a scope folder. ``scopes`` names the scope kinds that get the file
    ("all" is the root of the tree; see ``publish.scopes``); ``streams`` adds a copy per stream
    (``news/``, ``events/``) rendered from the items of that kind only.
    """

    path: str
    media_type: str
    render: Callable[[PublishContext], Chunks]
    scopes: frozenset[str] = ROOT_ONLY
    streams: bool = False


# Data first, then feeds; pages (text/html) are always written last, wherever they are listed,
# so a reader of a page never follows a link to a file that is older than the page. A new
# format (e.g. the DCAT catalogue) is one more entry here.
FORMATS: tuple[Format, ...] = (
    Format(ITEMS_JSON, dumps.MEDIA_TYPE, dumps.render, EVERY_SCOPE),
    Format(ITEMS_CSV, tables.MEDIA_TYPE, tables.render_items, EVERY_SCOPE),
    Format(EVENTS_CSV, tables.MEDIA_TYPE, tables.render_events, EVERY_SCOPE),
    Format(health_json.PATH, health_json.MEDIA_TYPE, health_json.render),
    Format(FEED_JSON, jsonfeed.MEDIA_TYPE, jsonfeed.render, EVERY_SCOPE, streams=True),
    Format(FEED_RSS, rss.MEDIA_TYPE, rss.render, EVERY_SCOPE, streams=True),
    Format(FEED_ATOM, atom.MEDIA_TYPE, atom.render, EVERY_SCOPE, streams=True),
    Format(CALENDAR, ical.MEDIA_TYPE, ical.render, EVERY_SCOPE),
    Format(tables.ITEMS_EXCEL, tables.MEDIA_TYPE, tables.render_items_excel, EVERY_SCOPE),
    Format(tables.EVENTS_EXCEL, tables.MEDIA_TYPE, tables.render_events_excel, EVERY_SCOPE),
    Format(geojson.PATH, geojson.MEDIA_TYPE, geojson.render, EVERY_SCOPE),
    Format(opml.PATH, opml.MEDIA_TYPE, opml.render),
    Format(search.PATH, search.MEDIA_TYPE, search.render),
    *(Format(path, media_type, render) for path, media_type, render in dcat.CATALOG_FILES),
    Format(INDEX_HTML, html.MEDIA_TYPE, html.render, EVERY_SCOPE),
)


@dataclass
class PublishReport:
    """What publish_all did: files rewritten, files already up to date, stale files removed.

    ``seconds`` is the wall time spent rendering each format (by its path in a scope folder)
    and, under "write" and "swap", writing the next generation and swapping it in. A format
    that hands out its file in chunks (the dumps) renders while it is written: under "write".
    ``swapped`` tells whether the tree was replaced at once (see ``publish.atomic.TreeWriter``).
    """

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    swapped: bool = False

    @property
    def changed(self) -> bool:
        """True when at least one file was written or removed."""
        return bool(self.written or self.removed)


def iter_rendered(
    ctx: PublishContext,
    formats: tuple[Format, ...] | None = None,
    seconds: dict[str, float] | None = None,
) -> Iterator[tuple[str, Chunks]]:
    """Render every format for every scope (and stream) of ``ctx``, one file at a time.

    Yields (tree path, bytes or an iterable of byte chunks), so no more than one file's output
    is held at once. Items are sorted newest first once and dealt to the scopes in one pass,
    so each scope's writers share one ordered list. Pages (text/html) come after everything
    else of their scope. ``seconds`` collects the wall time per format path.
    """
    formats = FORMATS if formats is None else formats
    timing: dict[str, float] = {} if seconds is None else seconds
    tree = list(ctx.scopes) or scopes(ctx.sources, ctx.items)
    # Sorted once for the whole tree, in each order the writers want, and dealt to the scopes.
    newest = ctx.newest
    by_stream = {
        stream: [item for item in newest if (item.get("_regiofeed") or {}).get("kind") == kind]
        for stream, kind in STREAM_KIND.items()
    }
    dealt = deal(tree, ctx.items, newest, *by_stream.values(), *map(ctx.sorted_as, ORDERS))
    names = (*by_stream, *ORDERS)
    ordered = sorted(formats, key=lambda fmt: fmt.media_type == "text/html")  # stable
    for scope in tree:
        lists = {name: orders.pop(scope) for name, orders in zip(names, dealt[1:], strict=True)}
        scoped = ctx.for_scope(scope, dealt[0].pop(scope), ordered=True, dealt=lists)
        streams = {stream: scoped.for_stream(stream, lists[stream]) for stream in STREAMS}
        for fmt in ordered:
            if scope.kind not in fmt.scopes:
                continue
            targets = [scoped, *(streams.values() if fmt.streams else ())]
            for target in targets:
                started = time.perf_counter()
                data = fmt.render(target)
                timing[fmt.path] = timing.get(fmt.path, 0.0) + time.perf_counter() - started
                yield target.path(fmt.path), data


def render_all(ctx: PublishContext, formats: tuple[Format, ...] | None = None) -> dict[str, bytes]:
    """Render every format for every scope (and stream) of ``ctx``; return tree path -> bytes."""
    return {
        path: data if isinstance(data, bytes) else b"".join(data)
        for path, data in iter_rendered(ctx, formats)
    }


def publish_all(
    out_dir: Path,
    items: list[Item],
    sources: list[Source],
    health: dict[str, Any],
    settings: PublishSettings,
    *,
    today: date | None = None,
) -> PublishReport:
    """Render every format and publish the tree under ``out_dir``, swapped in as a whole.

    Every format is written for the whole tree and, where the format says so, again for each
    source (``sources/<id>/``) and municipality (``municipalities/<slug>/``); see
    ``publish.scopes``. ``today`` is the day index.html and events.ics count "upcoming" from;
    default: today in Europe/Berlin. The next generation of the tree is built beside it and
    swapped in at once (``publish.atomic.TreeWriter``), so a failing format leaves the whole
    tree as it was and a reader never sees a mix of two runs. Files with identical bytes keep
    their inode and mtime. Scope folders of sources and municipalities that are gone lose the
    files publish_all wrote there (nothing else), then the folder if it is empty.
    """
    items = municipalities.assign(items, sources)  # of its place and of every source
    tree = scopes(sources, items)
    ctx = PublishContext(
        items=items,
        sources=sources,
        health=health,
        settings=settings,
        today=today or datetime.now(BERLIN).date(),
        scopes=tuple(tree),
    )
    events = ical.event_files(ctx)  # calendar/<id>.ics, one event each, linked from the pages
    out_dir = Path(out_dir)
    report = PublishReport()
    started = time.perf_counter()
    with TreeWriter(out_dir) as writer:
        for relative, data in events.items():  # before the pages that link to them
            writer.write(relative, data)
        for relative, data in iter_rendered(ctx, seconds=report.seconds):
            writer.write(relative, data)
        # catalog/page-2.ttl … when the catalogue is paged
        for relative, data in dcat.extra_pages(ctx).items():
            writer.write(relative, data)
        stale_scope = stale_scope_files(tree)
        writer.carry_over(drop=lambda relative: stale_scope(relative) or (
            relative.startswith(EVENT_DIR) and relative not in events))
        rendering = sum(report.seconds.values())
        report.seconds["write"] = time.perf_counter() - started - rendering
        started = time.perf_counter()
        writer.commit(last=lambda relative: relative.endswith(".html"))
        report.seconds["swap"] = time.perf_counter() - started
    report.written = [out_dir / relative for relative in writer.written]
    report.unchanged = [out_dir / relative for relative in writer.unchanged]
    report.removed = [out_dir / relative for relative in writer.removed]
    report.swapped = writer.swapped
    logger.info(
        "publish: %d items, %d scopes, %d files written, %d unchanged, %d removed",
        len(items),
        len(tree),
        len(report.written),
        len(report.unchanged),
        len(report.removed),
    )
    return report


def stale_scope_files(current: list[Scope]) -> Callable[[str], bool]:
    """Return a test for the tree paths publish_all wrote into scope folders that are gone.

    Only the names of a scope's own files match (a file someone else put there stays, and so
    does its folder). A gone source's feeds would otherwise go on claiming to be current.
    """
    keep = {scope.path for scope in current}
    own = {name[len("x/") :] for name in scope_files(Scope("x/", "", "source"))} | {INDEX_HTML}

    def stale(relative: str) -> bool:
        for parent in (SOURCES_DIR, MUNICIPALITIES_DIR):
            if relative.startswith(parent):
                folder, inside, rest = relative[len(parent) :].partition("/")
                # A folder (ending in "/") of a gone scope is only kept for what stays in it.
                gone = bool(inside) and f"{parent}{folder}/" not in keep
                return gone and (rest in own or rest == "" or rest.endswith("/"))
        return False

    return stale
