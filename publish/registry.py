"""The registry of published formats and publish_all, which writes them all atomically."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from publish import (
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
from publish import health as health_json  # the parameter of publish_all is named health
from publish.atomic import write_if_changed
from publish.context import Item, PublishContext, PublishSettings, Source
from publish.dates import BERLIN
from publish.items import newest_first
from publish.scopes import (
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
    STREAMS,
    Scope,
    items_by_scope,
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
    render: Callable[[PublishContext], bytes]
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
    """What publish_all did: files rewritten, files already up to date, stale files removed."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when at least one file was written or removed."""
        return bool(self.written or self.removed)


def render_all(
    ctx: PublishContext, formats: tuple[Format, ...] = FORMATS
) -> dict[str, bytes]:
    """Render every format for every scope (and stream) of ``ctx``; return tree path -> bytes.

    Items are sorted newest first once and dealt to the scopes in one pass, so each scope's
    writers share one ordered list (``ctx.newest`` is then a near no-op sort).
    """
    tree = list(ctx.scopes) or scopes(ctx.sources, ctx.items)
    dealt = items_by_scope(tree, newest_first(ctx.items))
    rendered: dict[str, bytes] = {}
    pages: dict[str, bytes] = {}
    for scope in tree:
        scoped = ctx.for_scope(scope, dealt[scope])
        streams = {stream: scoped.for_stream(stream) for stream in STREAMS}
        for fmt in formats:
            if scope.kind not in fmt.scopes:
                continue
            target = pages if fmt.media_type == "text/html" else rendered
            target[scoped.path(fmt.path)] = fmt.render(scoped)
            if fmt.streams:
                for stream_ctx in streams.values():
                    target[stream_ctx.path(fmt.path)] = fmt.render(stream_ctx)
    rendered.update(pages)  # dicts keep insertion order: pages last
    return rendered


def publish_all(
    out_dir: Path,
    items: list[Item],
    sources: list[Source],
    health: dict[str, Any],
    settings: PublishSettings,
    *,
    today: date | None = None,
) -> PublishReport:
    """Render every format and write the files under ``out_dir`` that differ from what is there.

    Every format is written for the whole tree and, where the format says so, again for each
    source (``sources/<id>/``) and municipality (``municipalities/<slug>/``); see
    ``publish.scopes``. ``today`` is the day index.html and events.ics count "upcoming" from;
    default: today in Europe/Berlin. Everything is rendered before anything is written, so a
    failing format leaves the whole tree as it was. Files with identical bytes are not touched
    (their mtime stays). Scope folders of sources and municipalities that are gone lose the
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
    rendered = render_all(ctx)
    rendered.update(dcat.extra_pages(ctx))  # catalog/page-2.ttl … when the catalogue is paged
    events = ical.event_files(ctx)  # calendar/<id>.ics, one event each, linked from the pages
    rendered = {**events, **rendered}  # before the pages that link to them

    out_dir = Path(out_dir)
    report = PublishReport()
    for relative, data in rendered.items():
        path = out_dir / relative
        (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    report.removed = remove_stale_scopes(out_dir, tree)
    report.removed += ical.remove_stale_event_files(out_dir, set(events))
    logger.info(
        "publish: %d items, %d scopes, %d files written, %d unchanged, %d removed",
        len(items),
        len(tree),
        len(report.written),
        len(report.unchanged),
        len(report.removed),
    )
    return report


def remove_stale_scopes(out_dir: Path, current: list[Scope]) -> list[Path]:
    """Remove the files publish_all writes from scope folders that are no longer scopes.

    Only the names of a scope's own files are removed (a file someone else put there stays, and
    so does its folder). A gone source's feeds would otherwise go on claiming to be current.
    """
    keep = {scope.path for scope in current}
    removed: list[Path] = []
    for parent in (SOURCES_DIR, MUNICIPALITIES_DIR):
        base = out_dir / parent
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            scope_path = f"{parent}{folder.name}/"
            if scope_path in keep or not folder.is_dir() or folder.is_symlink():
                continue
            stale = Scope(scope_path, "", "source", None)
            for relative in [*scope_files(stale), stale.file(INDEX_HTML)]:
                path = out_dir / relative
                if path.is_file() and not path.is_symlink():
                    path.unlink()
                    removed.append(path)
            # Deepest folders first; a folder that still holds something else stays.
            for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
                with contextlib.suppress(OSError):
                    sub.rmdir()
            with contextlib.suppress(OSError):
                folder.rmdir()
    return removed
