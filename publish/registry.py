"""The registry of published formats and publish_all, which writes them all atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from publish import dumps, html, jsonfeed, rss
from publish import health as health_json  # the parameter of publish_all is named health
from publish.atomic import write_if_changed
from publish.context import Item, PublishContext, PublishSettings, Source
from publish.dates import BERLIN

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    """One published file: where it goes in the tree, its media type and how to render it."""

    path: str
    media_type: str
    render: Callable[[PublishContext], bytes]


# Data first and index.html last, so a reader of the page never follows a link to a feed
# that is older than the page.
FORMATS: tuple[Format, ...] = tuple(
    Format(module.PATH, module.MEDIA_TYPE, module.render)
    for module in (dumps, health_json, jsonfeed, rss, html)
)


@dataclass
class PublishReport:
    """What publish_all did: files rewritten and files already up to date."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when at least one file was written."""
        return bool(self.written)


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

    ``today`` is the day index.html counts "upcoming" from; default: today in Europe/Berlin.
    Everything is rendered before anything is written, so a failing format leaves the whole
    tree as it was. Files with identical bytes are not touched (their mtime stays).
    """
    ctx = PublishContext(
        items=items,
        sources=sources,
        health=health,
        settings=settings,
        today=today or datetime.now(BERLIN).date(),
    )
    rendered = [(Path(out_dir) / fmt.path, fmt.render(ctx)) for fmt in FORMATS]

    report = PublishReport()
    for path, data in rendered:
        (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    logger.info(
        "publish: %d items, %d files written, %d unchanged",
        len(items),
        len(report.written),
        len(report.unchanged),
    )
    return report
