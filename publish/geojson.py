"""GeoJSON (RFC 7946) writer for events.geojson: the events that have coordinates, for maps."""

from __future__ import annotations

from typing import Any

from regiofeed.publish.context import Item, PublishContext
from regiofeed.publish.dates import event_days, format_event_when
from regiofeed.publish.ical import calendar_events
from regiofeed.publish.items import dumps, event_place

PATH = "events.geojson"
MEDIA_TYPE = "application/geo+json"


def render(ctx: PublishContext) -> bytes:
    """Render the events of events.ics (upcoming and recent) that have a place with
    coordinates as a FeatureCollection of Points, soonest first.

    Coordinates are WGS 84 longitude, latitude (RFC 7946 3.1.1, in that order). An event
    without coordinates is left out; events.csv and events.ics carry it.
    """
    features = [_feature(item) for item in calendar_events(ctx) if _geo(item)]
    return dumps({"type": "FeatureCollection", "features": features})


def _geo(item: Item) -> dict[str, Any]:
    event = (item.get("_regiofeed") or {}).get("event") or {}
    geo = (event.get("location") or {}).get("geo") or {}
    return geo if geo.get("lat") is not None and geo.get("lon") is not None else {}


def _feature(item: Item) -> dict[str, Any]:
    ext = item.get("_regiofeed") or {}
    event = ext["event"]
    geo = _geo(item)
    first, last = event_days(event)
    properties = {
        "id": item["id"],
        "title": item.get("title") or item["id"],
        "url": item.get("url"),
        "start": event["start"],
        "end": event.get("end"),
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "when": format_event_when(event),
        "place": event_place(event),
        "municipality": ext.get("municipality"),
        "publisher": ext.get("publisher"),
        "licence": ext.get("licence"),
        "status": event.get("status"),
    }
    return {
        "type": "Feature",
        "id": item["id"],
        "geometry": {"type": "Point", "coordinates": [float(geo["lon"]), float(geo["lat"])]},
        "properties": {key: value for key, value in properties.items() if value is not None},
    }
