"""Source health report (health.json): the store's health dict as JSON (RFC 8259), keys sorted."""

from __future__ import annotations

import json
from typing import Any

from regiofeed.publish.context import PublishContext

PATH = "health.json"
MEDIA_TYPE = "application/json"


def render(ctx: PublishContext) -> bytes:
    """Render the health dict as it is: UTF-8, keys sorted, indent 2, final newline."""
    return encode(ctx.health)


def encode(health: dict[str, Any]) -> bytes:
    """The bytes of health.json for a health dict (see render)."""
    text = json.dumps(health, ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")
