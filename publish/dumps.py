"""Full JSON dump of every item (data/items.json): a JSON array of JSON Feed 1.1 item objects."""

from __future__ import annotations

from publish.context import PublishContext
from publish.items import canonical_item, dumps

PATH = "data/items.json"
MEDIA_TYPE = "application/json"


def render(ctx: PublishContext) -> bytes:
    """Render every item, ordered by id.

    Id order (not date order) keeps the file's diff small between runs: an item keeps its place
    when its dates change, and a new item adds lines without shifting the others.
    """
    items = sorted(ctx.items, key=lambda item: str(item.get("id", "")))
    return dumps([canonical_item(item) for item in items])
