"""Full JSON dump of every item (data/items.json): a JSON array of JSON Feed 1.1 item objects."""

from __future__ import annotations

import json

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.items import canonical_item

PATH = "data/items.json"
MEDIA_TYPE = "application/json"


def render(ctx: PublishContext) -> bytes:
    """Render every item, ordered by id; the same bytes as ``items.dumps`` of the list.

    Id order (not date order) keeps the file's diff small between runs: an item keeps its place
    when its dates change, and a new item adds lines without shifting the others.
    """
    items = sorted(ctx.items, key=lambda item: str(item.get("id", "")))
    if not items:
        return b"[]\n"
    # json.dumps with indent runs in pure Python; an item in several scopes is encoded once
    # per publish run and its lines indented into each array.
    parts = [_item_json(ctx, item) for item in items]
    return ("[\n" + ",\n".join(parts) + "\n]\n").encode("utf-8")


def _item_json(ctx: PublishContext, item: Item) -> str:
    """Return the item as an element of a top-level array (indent 2, one level in)."""
    key = (PATH, item["id"])
    if key not in ctx.memo:
        text = json.dumps(canonical_item(item), ensure_ascii=False, indent=2)
        # Raw newlines only occur between tokens: inside strings JSON escapes them.
        ctx.memo[key] = "  " + text.replace("\n", "\n  ")
    text: str = ctx.memo[key]
    return text
