"""Item objects as Smart Village App GraphQL mutations (smart-village-app-mainserver schema).

News become `createNewsItem` (content blocks, source URL), events `createEventRecord` (dates,
addresses, categories, links); the item's stable id is the `externalId`, by which the server
replaces its earlier version. The licence and attribution go into the text, since the schema
has no field for them. Removals are `destroyRecord` by the server's record id.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from regiofeed.publish.licences import rights_statement

NEWS_MUTATION = """\
mutation PushNewsItem($externalId: String, $title: String, $author: String,
    $publishedAt: String, $publicationDate: String, $showPublishDate: Boolean,
    $sourceUrl: WebUrlInput, $contentBlocks: [ContentBlockInput!],
    $categories: [CategoryInput!], $address: AddressInput) {
  createNewsItem(externalId: $externalId, title: $title, author: $author,
      publishedAt: $publishedAt, publicationDate: $publicationDate,
      showPublishDate: $showPublishDate, sourceUrl: $sourceUrl,
      contentBlocks: $contentBlocks, categories: $categories, address: $address) {
    id
  }
}
"""

EVENT_MUTATION = """\
mutation PushEventRecord($externalId: String, $title: String, $description: String,
    $dates: [DateInput!], $addresses: [AddressInput!], $categories: [CategoryInput!],
    $urls: [WebUrlInput!], $organizer: OperatingCompanyInput, $tags: [String!]) {
  createEventRecord(externalId: $externalId, title: $title, description: $description,
      dates: $dates, addresses: $addresses, categories: $categories, urls: $urls,
      organizer: $organizer, tags: $tags) {
    id
  }
}
"""

DESTROY_MUTATION = """\
mutation RemoveRecord($id: ID, $recordType: String!) {
  destroyRecord(id: $id, recordType: $recordType) {
    id
    status
    statusCode
  }
}
"""

RECORD_TYPES = {"news": "NewsItem", "event": "EventRecord"}
# The Smart Village App's word for a cancelled event is part of its title.
_CANCELLED = "Abgesagt: "


@dataclass(frozen=True)
class Mutation:
    """One GraphQL request: document, variables, and the field whose result holds the id."""

    document: str
    variables: dict[str, Any]
    field: str
    record_type: str

    def content_hash(self) -> str:
        """sha256 of what is sent; an item whose hash is unchanged is not sent again."""
        payload = json.dumps([self.document, self.variables], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def body(self) -> dict[str, Any]:
        return {"query": self.document, "variables": self.variables}


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Leave out keys without a value: the schema's nullable arguments are then unset."""
    return {k: v for k, v in mapping.items() if v not in (None, "", [], {})}


def attribution(item: dict[str, Any]) -> str:
    """The line that says where an item comes from and under which licence (German)."""
    ext = item.get("_regiofeed", {})
    line = rights_statement(ext.get("publisher"), ext.get("licence"))
    return f"Quelle: {item['url']} · {line}" if item.get("url") else line


def _categories(item: dict[str, Any]) -> list[dict[str, str]]:
    return [{"name": tag} for tag in item.get("tags") or [] if tag]


def _parse(value: str) -> date | datetime:
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def event_dates(event: dict[str, Any]) -> list[dict[str, str]]:
    """The event's DateInput: days as YYYY-MM-DD, times as HH:MM in the item's offset
    (Europe/Berlin); an all-day event has days only.

    >>> event_dates({"start": "2024-09-05T10:00:00+02:00", "end": "2024-09-05T17:00:00+02:00"})
    [{'dateStart': '2024-09-05', 'dateEnd': '2024-09-05', 'timeStart': '10:00', 'timeEnd': '17:00'}]
    """
    start = _parse(event["start"])
    end = _parse(event["end"]) if event.get("end") else None
    entry: dict[str, Any] = {"dateStart": (start.date() if isinstance(start, datetime)
                                           else start).isoformat()}
    if end is not None:
        entry["dateEnd"] = (end.date() if isinstance(end, datetime) else end).isoformat()
    if isinstance(start, datetime):
        entry["timeStart"] = start.strftime("%H:%M")
    if isinstance(end, datetime):
        entry["timeEnd"] = end.strftime("%H:%M")
    return [entry]


def _address(location: dict[str, Any] | None) -> dict[str, Any] | None:
    if not location:
        return None
    geo = location.get("geo")
    return _compact({
        "addition": location.get("name"),
        "street": location.get("street"),
        "zip": location.get("postal_code"),
        "city": location.get("locality"),
        "geoLocation": {"latitude": geo["lat"], "longitude": geo["lon"]} if geo else None,
    }) or None


def news_mutation(item: dict[str, Any]) -> Mutation:
    """createNewsItem for a news item: one content block with the text and the attribution."""
    body = item.get("content_html") or _paragraphs(item.get("content_text"))
    block = _compact({
        "title": item["title"],
        "intro": item.get("summary"),
        "body": f"{body}<p>{html.escape(attribution(item))}</p>" if body
        else f"<p>{html.escape(attribution(item))}</p>",
    })
    authors = item.get("authors") or []
    variables = _compact({
        "externalId": item["id"],
        "title": item["title"],
        "author": authors[0].get("name") if authors else None,
        "publishedAt": item.get("date_published"),
        "publicationDate": item.get("date_published"),
        "showPublishDate": True,
        "sourceUrl": _compact({"url": item.get("url"),
                               "description": item.get("_regiofeed", {}).get("publisher")})
        or None,
        "contentBlocks": [block],
        "categories": _categories(item),
    })
    return Mutation(NEWS_MUTATION, variables, "createNewsItem", RECORD_TYPES["news"])


def event_mutation(item: dict[str, Any]) -> Mutation:
    """createEventRecord for an event item: dates, address, categories, links, attribution."""
    ext = item.get("_regiofeed", {})
    event = ext.get("event") or {}
    text = item.get("content_text") or ""
    if event.get("online_url"):
        text = f"{text}\n\nOnline: {event['online_url']}".strip()
    description = f"{text}\n\n{attribution(item)}".strip()
    title = item["title"]
    if event.get("status") == "cancelled" and not title.startswith(_CANCELLED):
        title = _CANCELLED + title
    urls = [{"url": url, "description": ext.get("publisher") or "Quelle"}
            for url in [item.get("url"), *(ext.get("also_at") or [])] if url]
    address = _address(event.get("location"))
    variables = _compact({
        "externalId": item["id"],
        "title": title,
        "description": description,
        "dates": event_dates(event) if event.get("start") else None,
        "addresses": [address] if address else None,
        "categories": _categories(item),
        "urls": urls,
        "organizer": {"name": event["organizer"]} if event.get("organizer") else None,
        "tags": [tag for tag in item.get("tags") or [] if tag],
    })
    return Mutation(EVENT_MUTATION, variables, "createEventRecord", RECORD_TYPES["event"])


def item_mutation(item: dict[str, Any]) -> Mutation:
    """The create mutation for an item object, by its kind."""
    if item.get("_regiofeed", {}).get("kind") == "event":
        return event_mutation(item)
    return news_mutation(item)


def destroy_mutation(record_type: str, remote_id: str) -> Mutation:
    """destroyRecord for what the server made of an item (its id, not our external id:
    the schema types `externalId` of destroyRecord as Int)."""
    return Mutation(DESTROY_MUTATION, {"id": remote_id, "recordType": record_type},
                    "destroyRecord", record_type)


def _paragraphs(text: str | None) -> str:
    if not text:
        return ""
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
