"""Read JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1) into feedparser-shaped entries.

feedparser 6.0 reads RSS and Atom but not JSON Feed; this gives the feed spider the same entry
shape for all three.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from html import escape
from typing import Any

VERSION_PREFIX = "https://jsonfeed.org/version/"


class NotAJsonFeed(ValueError):
    """The body is not JSON, or not a JSON Feed."""


def _parsed_time(value: Any) -> time.struct_time | None:
    """RFC 3339 text to a UTC struct_time, as feedparser's *_parsed values are."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).timetuple()


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    content = []
    if isinstance(item.get("content_html"), str):
        content.append({"type": "text/html", "value": item["content_html"]})
    elif isinstance(item.get("content_text"), str):
        # Plain text: escape it so that the HTML clean-up keeps it as text.
        paragraphs = [p for p in item["content_text"].split("\n\n") if p.strip()]
        content.append({"type": "text/html",
                        "value": "".join(f"<p>{escape(p)}</p>" for p in paragraphs)})
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
    return {
        "id": str(item["id"]) if item.get("id") is not None else None,
        "link": item.get("url") or item.get("external_url"),
        "title": item.get("title") or "",
        "content": content,
        "summary": item.get("summary") or "",
        "published_parsed": _parsed_time(item.get("date_published")),
        "updated_parsed": _parsed_time(item.get("date_modified")),
        "tags": [{"term": t} for t in item.get("tags") or [] if isinstance(t, str)],
        "author": ", ".join(names),
    }


def parse_json_feed(body: bytes) -> list[dict[str, Any]]:
    """Return the feed's items as feedparser-shaped entries; raise NotAJsonFeed otherwise."""
    try:
        feed = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAJsonFeed(f"not JSON: {exc}") from None
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith(VERSION_PREFIX):
        raise NotAJsonFeed("no JSON Feed version")
    items = feed.get("items")
    if not isinstance(items, list):
        raise NotAJsonFeed("no items list")
    return [_entry(item) for item in items if isinstance(item, dict)]
