"""Links that put events into people's calendars: webcal://, Google Calendar, Outlook.com.

Google's "TEMPLATE" and Outlook's "compose" deep links add one event; their subscription links
("cid", "addfromweb") subscribe to a whole calendar and need its public http(s) address.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from regiofeed.publish.dates import event_days, is_date_only, parse_instant

EVENT_DIR = "calendar/"  # calendar/<item id>.ics: one event to download and import
GOOGLE_ADD = "https://calendar.google.com/calendar/render"
GOOGLE_SUBSCRIBE = "https://calendar.google.com/calendar/r"
OUTLOOK_ADD = "https://outlook.live.com/calendar/0/deeplink/compose"
OUTLOOK_SUBSCRIBE = "https://outlook.live.com/calendar/0/addfromweb"
DETAILS_CHARS = 500  # the links carry a short description; the event page has the rest
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def event_file(item_id: str) -> str:
    """Return the tree path of the single-event calendar of an item.

    Ids that are not safe file names are replaced by a hash of themselves.

    >>> event_file("05045e442d35d178eef3")
    'calendar/05045e442d35d178eef3.ics'
    >>> event_file("https://example.org/a b")
    'calendar/i-842ffacff5dd910f5a9c.ics'
    """
    if SAFE_NAME.fullmatch(item_id):
        return f"{EVENT_DIR}{item_id}.ics"
    return f"{EVENT_DIR}i-{hashlib.sha256(item_id.encode()).hexdigest()[:20]}.ics"


def webcal(url: str) -> str | None:
    """Return the webcal:// address of an http(s) calendar URL (calendar apps subscribe to it).

    >>> webcal("https://example.org/events.ics")
    'webcal://example.org/events.ics'
    """
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return None


def subscribe_links(url: str, title: str) -> dict[str, str]:
    """Return the subscription links of a public calendar URL: webcal, Google, Outlook.

    >>> subscribe_links("https://example.org/events.ics", "Termine")["outlook"]
    'https://outlook.live.com/calendar/0/addfromweb?url=https%3A%2F%2Fexample.org%2Fevents.ics&name=Termine'
    """
    links = {"outlook": f"{OUTLOOK_SUBSCRIBE}?{urlencode({'url': url, 'name': title})}"}
    address = webcal(url)
    if address:
        links["webcal"] = address
        links["google"] = f"{GOOGLE_SUBSCRIBE}?cid={quote(address, safe='')}"
    return links


def add_links(title: str, event: dict[str, Any], place: str, details: str) -> dict[str, str]:
    """Return the Google Calendar and Outlook.com links that add this one event.

    Timed events go as UTC instants; all-day ones as days (Google: exclusive end day).

    >>> add_links("Fest", {"start": "2024-09-05T10:00:00+02:00",
    ...                    "end": "2024-09-05T12:00:00+02:00"}, "", "")["google"]
    'https://calendar.google.com/calendar/render?action=TEMPLATE&text=Fest&dates=20240905T080000Z%2F20240905T100000Z&ctz=Europe%2FBerlin'
    """
    details = details if len(details) <= DETAILS_CHARS else details[:DETAILS_CHARS] + " …"
    if event.get("all_day") or is_date_only(event["start"]):
        first, last = event_days(event)
        google_dates = f"{first:%Y%m%d}/{last + timedelta(days=1):%Y%m%d}"
        outlook = {"startdt": first.isoformat(), "enddt": (last + timedelta(days=1)).isoformat(),
                   "allday": "true"}  # fmt: skip
    else:
        start = parse_instant(event["start"])
        end_text = event.get("end")
        end = parse_instant(end_text) if end_text and not is_date_only(end_text) else start
        end = max(end, start)
        google_dates = f"{_utc(start)}/{_utc(end)}"
        outlook = {"startdt": start.isoformat(), "enddt": end.isoformat(), "allday": "false"}
    google = {"action": "TEMPLATE", "text": title, "dates": google_dates}
    if details:
        google["details"] = details
    if place:
        google["location"] = place
    google["ctz"] = "Europe/Berlin"
    compose = {"path": "/calendar/action/compose", "rru": "addevent", "subject": title, **outlook}
    if details:
        compose["body"] = details
    if place:
        compose["location"] = place
    return {"google": f"{GOOGLE_ADD}?{urlencode(google)}",
            "outlook": f"{OUTLOOK_ADD}?{urlencode(compose)}"}  # fmt: skip


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
