"""Feeds and tables put together from per-item fragments equal the files written whole."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
import realistic_tree
from test_publish import HEALTH, SETTINGS

from regiofeed.publish import PublishSettings, municipalities
from regiofeed.publish.context import PublishContext
from regiofeed.publish.registry import FORMATS, render_all
from regiofeed.publish.scopes import STREAMS, scopes

# Text that looks like the elements the feeds are cut at; escaped, it must not cut them.
TRICKY = {
    "id": "tricky-1",
    "url": "https://www.bad-belzig.de/aktuelles/tricky",
    "title": 'Neu: <entry> & <item> </entry>\n</item>\n  <entry> "quoted"',
    "summary": "</item>\n    <item>\n</entry>",
    "content_text": "Zeile eins\n\n</channel>\n</feed>",
    "date_published": "2024-08-31T12:00:00+02:00",
    "tags": ["<entry>"],
    "_regiofeed": {"kind": "news", "sources": ["bad-belzig-aktuelles", "goerzke"],
                   "publisher": "Stadt Bad Belzig", "municipality": "Bad Belzig",
                   "licence": realistic_tree.DL_BY},
}  # fmt: skip


def whole_files(ctx: PublishContext) -> dict[str, bytes]:
    """Render every file of every scope and stream with a memo of its own: nothing spliced."""
    files = {}
    for scope in ctx.scopes:
        items = [item for item in ctx.items if scope.matches(item)]
        for stream in (None, *STREAMS):
            target = replace(ctx, scope=scope, items=items, memo={})
            if stream:
                target = replace(target.for_stream(stream), memo={})
            for fmt in FORMATS:
                if scope.kind in fmt.scopes and (fmt.streams or stream is None):
                    data = fmt.render(replace(target, memo={}))
                    files[target.path(fmt.path)] = (
                        data if isinstance(data, bytes) else b"".join(data)
                    )
    return files


@pytest.mark.parametrize("base_url", ["https://daten.example.org/", None])
def test_spliced_files_equal_the_files_written_whole(base_url: str | None) -> None:
    sources = realistic_tree.SOURCES
    items = municipalities.assign([*realistic_tree.items(), copy.deepcopy(TRICKY)], sources)
    settings: PublishSettings = SETTINGS.model_copy(update={"base_url": base_url})
    ctx = PublishContext(
        items=items,
        sources=sources,
        health=HEALTH,
        settings=settings,
        today=realistic_tree.TODAY,
        scopes=tuple(scopes(sources, items)),
    )
    spliced = render_all(ctx)
    whole = whole_files(ctx)
    assert set(spliced) == set(whole)
    # Every kind of file that is put together from fragments, in every scope and stream.
    for name in ("feed.xml", "atom.xml", "feed.json", "events.ics", "data/items.csv",
                 "data/events-excel.csv", "data/items.json"):  # fmt: skip
        assert sum(path.endswith(name) for path in whole) > 3
    different = [path for path in whole if spliced[path] != whole[path]]
    assert different == []
    shared: Any = [path for path in whole if b"tricky" in whole[path] and "atom" in path]
    assert len(shared) >= 4  # the tricky item is in several feeds: spliced, not rendered again
