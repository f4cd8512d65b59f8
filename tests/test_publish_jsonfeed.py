"""Every feed.json of the tree against the JSON Feed 1.1 spec (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from test_publish import HEALTH, ITEMS, SETTINGS, SOURCES, TODAY

from regiofeed.publish import PublishSettings, publish_all

# The structure JSON Feed 1.1 requires, as a JSON Schema: top-level version, title and items;
# each item an id (a string), and content_html or content_text; dates RFC 3339; authors an
# array of objects; extension keys start with "_" and are objects.
STRING = {"type": "string"}
URL = {"type": "string", "pattern": "^(https?:|\\./|\\.\\./|[^:]+$)"}
AUTHORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": STRING, "url": URL, "avatar": URL},
        "anyOf": [{"required": ["name"]}, {"required": ["url"]}, {"required": ["avatar"]}],
    },
}
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
DATE = {"type": "string", "pattern": RFC3339}
ITEM = {
    "type": "object",
    "required": ["id"],
    "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
    "properties": {
        "id": STRING,
        "url": URL,
        "external_url": URL,
        "title": STRING,
        "content_html": STRING,
        "content_text": STRING,
        "summary": STRING,
        "image": URL,
        "banner_image": URL,
        "date_published": DATE,
        "date_modified": DATE,
        "authors": AUTHORS,
        "tags": {"type": "array", "items": STRING},
        "language": STRING,
        "attachments": {"type": "array"},
    },
    "patternProperties": {"^_": {"type": "object"}},
    "additionalProperties": False,
}
FEED = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": STRING,
        "home_page_url": URL,
        "feed_url": URL,
        "description": STRING,
        "user_comment": STRING,
        "next_url": URL,
        "icon": URL,
        "favicon": URL,
        "authors": AUTHORS,
        "language": STRING,
        "expired": {"type": "boolean"},
        "hubs": {"type": "array"},
        "items": {"type": "array", "items": ITEM},
    },
    "patternProperties": {"^_": {"type": "object"}},
    "additionalProperties": False,
}
VALIDATOR = Draft202012Validator(FEED)


def problems(feed: Any) -> list[str]:
    return [f"{list(error.path)}: {error.message}" for error in VALIDATOR.iter_errors(feed)]


def test_the_check_rejects_what_the_spec_forbids() -> None:
    assert problems({"version": "https://jsonfeed.org/version/1", "title": "x", "items": []})
    assert problems({"version": "https://jsonfeed.org/version/1.1", "title": "x",
                     "items": [{"id": "a"}]})  # no content  # fmt: skip
    assert problems({"version": "https://jsonfeed.org/version/1.1", "title": "x",
                     "items": [{"id": 1, "content_text": ""}]})  # fmt: skip
    assert problems({"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": [],
                     "author": {"name": "1.0 style"}})  # fmt: skip


@pytest.mark.parametrize("settings", [SETTINGS, PublishSettings()], ids=["absolute", "relative"])
def test_every_json_feed_of_the_tree_is_json_feed_1_1(
    tmp_path: Path, settings: PublishSettings
) -> None:
    publish_all(tmp_path, copy.deepcopy(ITEMS), SOURCES, HEALTH, settings, today=TODAY)
    feeds = sorted(tmp_path.rglob("feed.json"))
    assert len(feeds) == 18
    for path in feeds:
        feed = json.loads(path.read_text(encoding="utf-8"))
        assert problems(feed) == [], path
        for item in feed["items"]:  # every item says where it comes from, under which licence
            assert item["_regiofeed"]["sources"] and item["_regiofeed"]["licence"]


def test_stream_feeds_hold_one_kind_each(tmp_path: Path) -> None:
    publish_all(tmp_path, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    for path in tmp_path.rglob("news/feed.json"):
        kinds = {i["_regiofeed"]["kind"] for i in json.loads(path.read_text())["items"]}
        assert kinds <= {"news"}, path
    for path in tmp_path.rglob("events/feed.json"):
        kinds = {i["_regiofeed"]["kind"] for i in json.loads(path.read_text())["items"]}
        assert kinds <= {"event"}, path
    feed = json.loads((tmp_path / "sources/kts-smart-cities/events/feed.json").read_text())
    assert feed["title"] == "Hoher Fläming aktuell – KTS Smart Cities – Veranstaltungen"
    assert feed["feed_url"] == (
        "https://daten.example.org/hoher-flaeming/sources/kts-smart-cities/events/feed.json"
    )
    assert feed["home_page_url"] == (
        "https://daten.example.org/hoher-flaeming/sources/kts-smart-cities/"
    )
    assert [item["id"] for item in feed["items"]] == ["rf-event-smart-cities"]
