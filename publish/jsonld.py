"""schema.org Event (https://schema.org/Event) as JSON-LD for the events shown on a page."""

from __future__ import annotations

import json
from typing import Any

from regiofeed.publish.context import Item

SCHEMA = "https://schema.org"
STATUS = {"cancelled": "EventCancelled", "postponed": "EventPostponed",
          "rescheduled": "EventRescheduled"}  # fmt: skip


def events_script(items: list[Item]) -> str:
    """Return the JSON-LD of ``items`` (events) as text safe inside ``<script>``, or "".

    "<" is written as \\u003c, so no value can close the script element.
    """
    events = [event_object(item) for item in items]
    if not events:
        return ""
    data = {"@context": SCHEMA, "@graph": events}
    return json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c")


def event_object(item: Item) -> dict[str, Any]:
    """Build one schema.org Event: name, dates, status, attendance mode, place, organiser.

    >>> event_object({"id": "a", "title": "Fest", "_regiofeed": {"event": {
    ...     "start": "2024-09-05", "all_day": True, "online": True}}})["location"]
    {'@type': 'VirtualLocation', 'name': 'online'}
    """
    ext = item.get("_regiofeed") or {}
    event = ext.get("event") or {}
    result: dict[str, Any] = {"@type": "Event", "name": item.get("title") or item["id"],
                              "startDate": event["start"]}  # fmt: skip
    if event.get("end"):
        result["endDate"] = event["end"]
    status = STATUS.get(str(event.get("status", "")).lower(), "EventScheduled")
    result["eventStatus"] = f"{SCHEMA}/{status}"
    place = _place(event.get("location") or {})
    online = bool(event.get("online"))
    mode = "Mixed" if online and place else "Online" if online else "Offline"
    result["eventAttendanceMode"] = f"{SCHEMA}/{mode}EventAttendanceMode"
    locations = [place] if place else []
    if online:
        virtual = {"@type": "VirtualLocation", "name": "online"}
        if event.get("online_url"):
            virtual["url"] = event["online_url"]
        locations.append(virtual)
    if locations:
        result["location"] = locations[0] if len(locations) == 1 else locations
    if item.get("url"):
        result["url"] = item["url"]
    text = item.get("summary") or item.get("content_text")
    if text:
        result["description"] = " ".join(text.split())[:500]
    if item.get("image"):
        result["image"] = item["image"]
    if ext.get("publisher"):
        result["organizer"] = {"@type": "Organization", "name": ext["publisher"]}
    return result


def _place(location: dict[str, Any]) -> dict[str, Any] | None:
    address = {"streetAddress": location.get("street"), "postalCode": location.get("postal_code"),
               "addressLocality": location.get("locality")}  # fmt: skip
    address = {key: value for key, value in address.items() if value}
    if not address and not location.get("name"):
        return None
    place: dict[str, Any] = {"@type": "Place"}
    if location.get("name"):
        place["name"] = location["name"]
    if address:
        place["address"] = {"@type": "PostalAddress", **address, "addressCountry": "DE"}
    geo = location.get("geo") or {}
    if geo.get("lat") is not None and geo.get("lon") is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": geo["lat"],
                        "longitude": geo["lon"]}  # fmt: skip
    return place
