"""The OParl spider: council meetings of a council information system (OParl 1.0/1.1) as events.

Walks System → Body → the body's meeting list, page by page along `links.next`, and reads
every Meeting as an event record. Incremental as OParl 1.1 §2.5 describes: after a complete
walk the list URL's watermark is kept (as that URL's validator), and the next walk asks only for
`modified_since` it; deleted meetings (`deleted: true` tombstones) are reported as gone.
Vendor quirks absorbed, as meine-stadt-transparent's importer documents them: 1.0 and 1.1 type
URIs, a single Body or `[]` where a list page belongs, 404 for a filtered list that is empty
(SD.NET RIM), tombstones without `type`, `next` links that already carry the filter, objects
repeated on later pages, linked (URL) instead of embedded objects. Spurious 500s are retried
by Scrapy's retry middleware (RETRY_HTTP_CODES).
"""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from regiofeed.models.normalise.dates import to_berlin
from regiofeed.models.normalise.text import clean_text, sanitize_html
from regiofeed.models.records import EventInfo, Location, Record
from regiofeed.spiders.base import SourceSpider, describe_failure
from regiofeed.spiders.extract import place_and_online
from regiofeed.spiders.middlewares import CONDITIONAL

# The watermark is set this much before the walk began: a meeting changed while we walked, or
# a server clock a little behind ours, is listed again next time (unchanged, it costs nothing).
OVERLAP = timedelta(hours=1)
# A bound on list pages per list on top of Scrapy's page budget: a server whose `next` never
# ends cannot keep us.
MAX_LIST_PAGES = 1000
# A full walk this often: a server that drops a meeting without a tombstone (not OParl 1.1,
# but seen) gets it noticed as missing, as for any other source.
FULL_WALK_EVERY = timedelta(days=7)
_FULL = "full:"
_JSON = {"Accept": "application/json"}


def oparl_type(obj: Any) -> str | None:
    """Return the OParl type name of an object ('System', 'Body', 'Meeting'…), None if none.

    >>> oparl_type({"type": "https://schema.oparl.org/1.0/Body"})
    'Body'
    """
    if not isinstance(obj, dict):
        return None
    value = obj.get("type")
    if not isinstance(value, str) or "schema.oparl.org/" not in value:
        return None
    return value.rstrip("/").rsplit("/", 1)[-1]


def sniff_oparl(body: bytes) -> str | None:
    """Say whether a response is an OParl entry point: 'System', 'Body' or None."""
    if body.lstrip()[:1] != b"{" or b"schema.oparl.org" not in body[:65536]:
        return None
    try:
        kind = oparl_type(json.loads(body))
    except ValueError:
        return None
    return kind if kind in ("System", "Body") else None


def with_modified_since(url: str, since: str) -> str:
    """Add `modified_since` to a list URL unless the server's own link already carries it.

    The value is UTC with "Z" and no fraction: it needs no percent-encoding (a literal "+"
    of an offset reads as a space on many servers) and has no microseconds (rejected by some).

    >>> with_modified_since("https://ris.example/meetings?page=2", "2024-01-01T10:00:00Z")
    'https://ris.example/meetings?page=2&modified_since=2024-01-01T10:00:00Z'
    """
    parts = urlsplit(url)
    if any(key == "modified_since" for key, _ in parse_qsl(parts.query)):
        return url
    query = f"{parts.query}&modified_since={since}" if parts.query else f"modified_since={since}"
    return parts._replace(query=query).geturl()


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return to_berlin(parsed)


def _geo(location: dict[str, Any]) -> tuple[float | None, float | None]:
    """(lat, lon) of a GeoJSON Point; RFC 7946 orders [lon, lat], which some servers swap."""
    geometry = (location.get("geojson") or {}).get("geometry") or {}
    coordinates = geometry.get("coordinates") if geometry.get("type") == "Point" else None
    try:
        lon, lat = float(coordinates[0]), float(coordinates[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None, None
    # The servers are German (lat 47–55, lon 5–16): a pair that only fits swapped is swapped.
    if not (47 <= lat <= 56 and 5 <= lon <= 16) and (47 <= lon <= 56 and 5 <= lat <= 16):
        lat, lon = lon, lat
    return lat, lon


def meeting_location(location: Any) -> tuple[Location | None, bool, str | None]:
    """Read an OParl Location: its address fields where given, else its description split as
    any place text is (spiders.extract.place_and_online); (location, online, join link)."""
    if not isinstance(location, dict):
        return None, False, None
    description = clean_text(str(location.get("description") or "")) or None
    street = location.get("streetAddress")
    if street or location.get("postalCode") or location.get("locality"):
        # The venue is the description's first part when that is not the address itself.
        venue = description.split(",")[0].strip() if description else None
        if venue and street and (venue.startswith(street) or street.startswith(venue)):
            venue = None
        name = ", ".join(part for part in (location.get("room"), venue) if part) or None
        place: Location | None = Location(
            name=name, street=street,
            postal_code=location.get("postalCode"), locality=location.get("locality"))
        online, link = False, None
    else:
        place, online, link = place_and_online(description)
        if place is not None and location.get("room"):
            place = place.model_copy(update={"name": f"{location['room']}, {place.name}"
                                             if place.name else location["room"]})
    lat, lon = _geo(location)
    if lat is not None and lon is not None:
        place = (place or Location(name=description)).model_copy(update={"lat": lat, "lon": lon})
    return place, online, link


def _file_url(file: Any) -> str | None:
    """The link of a File: its accessUrl when embedded, the object URL when only linked."""
    if isinstance(file, str):
        return file
    if isinstance(file, dict):
        return file.get("accessUrl") or file.get("downloadUrl") or file.get("id")
    return None


def meeting_record(meeting: dict[str, Any], source_id: str,
                   linked: dict[str, dict[str, Any] | None]) -> Record | None:
    """Read one Meeting as an event record; None without an id, a start or a name.

    `linked` holds objects the meeting names by URL (its organizations, a 1.0 location).
    Times are read with their offset and given in Europe/Berlin.
    """
    start = _time(meeting.get("start"))
    meeting_id = meeting.get("id")
    if start is None or not isinstance(meeting_id, str):
        return None
    committees: list[str] = []
    # Every name a committee goes by ("Ausschuss für Haushalt und Finanzen", "Finanzausschuss").
    aliases: list[str] = []
    for org in meeting.get("organization") or []:
        obj = (linked.get(org) if isinstance(org, str) else org) or {}
        names = [str(obj[k]) for k in ("name", "shortName") if isinstance(obj.get(k), str)]
        if names and names[0] not in committees:
            committees.append(names[0])
            aliases.extend(names)
    name = clean_text(str(meeting.get("name") or ""))
    committee = ", ".join(committees)
    if not name:
        name = f"Sitzung: {committee}" if committee else ""
    elif committee and not any(alias.lower() in name.lower() for alias in aliases):
        name = f"{committee}: {name}"
    if not name:
        return None
    location = meeting.get("location")
    if isinstance(location, str):
        location = linked.get(location)
    place, online, online_url = meeting_location(location)
    # The agenda's public items (public may be absent: then the item is not marked secret).
    agenda = [item for item in meeting.get("agendaItem") or []
              if isinstance(item, dict) and item.get("public", True) is not False
              and not item.get("deleted")]
    lines = [" ".join(str(part) for part in (item.get("number"), item.get("name")) if part)
             for item in agenda]
    lines = [line for line in lines if line]
    invitation = _file_url(meeting.get("invitation"))
    text_parts = []
    if lines:
        text_parts.append("Tagesordnung (öffentlicher Teil):\n" + "\n".join(lines))
    if invitation:
        text_parts.append(f"Einladung: {invitation}")
    html_parts = []
    if lines:
        html_parts.append("<p>Tagesordnung (öffentlicher Teil):</p><ol>"
                          + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ol>")
    if invitation:
        html_parts.append(f'<p><a href="{html.escape(invitation)}">Einladung</a></p>')
    web = meeting.get("web")
    end = _time(meeting.get("end"))
    created = _time(meeting.get("created"))
    modified = _time(meeting.get("modified"))
    keywords = [str(k) for k in meeting.get("keyword") or [] if k]
    return Record(
        source_id=source_id,
        key=meeting_id,
        url=web if isinstance(web, str) and web.startswith("http") else meeting_id,
        title=name,
        content_text="\n\n".join(text_parts) or None,
        content_html=(sanitize_html("".join(html_parts), meeting_id) or None) if html_parts
        else None,
        date_published=created,
        date_modified=modified if modified != created else None,
        tags=sorted({*committees, *keywords}),
        kind="event",
        event=EventInfo(
            start=start,
            end=end if end is not None and end > start else None,
            online=online,
            location=place,
            status="cancelled" if meeting.get("cancelled") is True else None,
            organizer=committee or None,
            online_url=online_url,
        ),
    )


def list_objects(data: Any) -> tuple[list[Any], str | None]:
    """The objects of an OParl list page and its `links.next`; quirks: `[]` for an empty page,
    a bare object (or a bare array) where a page belongs."""
    if isinstance(data, list):
        return data, None
    if not isinstance(data, dict):
        return [], None
    if "data" not in data and "id" in data:
        return [data], None
    objects = data.get("data") if isinstance(data.get("data"), list) else []
    links = data.get("links") if isinstance(data.get("links"), dict) else {}
    following = links.get("next")
    return objects, following if isinstance(following, str) and following else None


@dataclass
class _Waiting:
    """Meetings of one list page that wait for linked objects before they become records."""

    meetings: list[dict[str, Any]]
    missing: set[str] = field(default_factory=set)


class OparlWalk:
    """The walk of one OParl endpoint for a spider; its callbacks yield requests and records.

    Used by OparlSpider, and by AutoSpider when its URL turns out to be an OParl endpoint.
    `emit` passes every record on (AutoSpider counts them).
    """

    def __init__(self, spider: SourceSpider,
                 emit: Callable[[Iterable[Record]], Iterator[Record]] | None = None) -> None:
        self.spider = spider
        self.emit = emit or (lambda records: iter(records))
        self.started = datetime.now(UTC)
        self.previous: dict[str, dict[str, str]] = {}
        self.seen_pages: set[str] = set()
        self.seen_meetings: set[str] = set()
        self.linked: dict[str, dict[str, Any] | None] = {}
        self.requested: set[str] = set()
        self.waiting: list[_Waiting] = []
        self.open_lists = 0
        self.list_failed = False
        self.watermarks: dict[str, str] = {}
        self.full_walks: dict[str, str] = {}
        self.repeated = 0
        self.incremental = False
        self.gone_keys: set[str] = set()
        self.meetings = 0

    # -- requests

    def request(self, target: str, callback: Callable[..., Any], errback: Callable[..., Any],
                **kwargs: Any) -> scrapy.Request:
        # OParl's own `modified_since` replaces conditional GET for these requests.
        return scrapy.Request(target, callback=callback, errback=errback, headers=_JSON,
                              meta={CONDITIONAL: False}, cb_kwargs=kwargs)

    def begin(self, response: Response) -> Iterator[Any]:
        """Start from the entry response: a System (walk its bodies) or a Body."""
        self.previous = getattr(self.spider, "validators", {})
        data = self._json(response, fatal=True)
        kind = oparl_type(data)
        if kind == "System" and isinstance(data.get("body"), str):
            self.spider.discovered = f"OParl system {response.url}"
            self.open_lists += 1
            yield self.request(data["body"], self.body_page, self.list_error, page=1)
        elif kind == "Body":
            self.spider.discovered = f"OParl body {response.url}"
            yield from self._body(data)
        elif data is not None:
            self.spider.fail(f"not an OParl System or Body at {response.url}")

    def _json(self, response: Response, *, fatal: bool = False) -> Any:
        try:
            return json.loads(response.body)
        except ValueError:
            message = f"not JSON at {response.url}"
            if fatal:
                self.spider.fail(message)
            else:
                self.spider.page_errors.append(message)
            return None

    # -- the lists

    def body_page(self, response: Response, page: int) -> Iterator[Any]:
        bodies, following = list_objects(self._json(response))
        for body in bodies:
            if isinstance(body, str):  # a linked Body
                self.open_lists += 1
                yield self.request(body, self.body_page, self.list_error, page=1)
            elif oparl_type(body) == "Body" and not body.get("deleted"):
                yield from self._body(body)
        yield from self._next(response, following, page, self.body_page)

    def _body(self, body: dict[str, Any]) -> Iterator[Any]:
        meetings = body.get("meeting")
        if not isinstance(meetings, str):
            self.spider.page_errors.append(f"OParl body without a meeting list: {body.get('id')}")
            return
        url = meetings
        known = self.previous.get(meetings) or {}
        previous = known.get("last_modified")
        # The last full walk rides along as the list's "etag": "full:<ISO 8601 time>".
        full = known.get("etag", "").removeprefix(_FULL)
        if previous and full and _time(full) and self.started - _time(full) < FULL_WALK_EVERY:
            self.incremental = True
            url = with_modified_since(meetings, previous)
        else:
            full = self.started.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.watermarks[meetings] = (self.started - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.full_walks[meetings] = full
        self.open_lists += 1
        yield self.request(url, self.meeting_page, self.list_error, page=1)

    def _next(self, response: Response, following: str | None, page: int,
              callback: Callable[..., Any]) -> Iterator[Any]:
        """Follow `links.next`; a list ends at its last page, a loop, or the page bound."""
        self.seen_pages.add(response.url)
        if following:
            since = dict(parse_qsl(urlsplit(response.url).query)).get("modified_since")
            url = with_modified_since(response.urljoin(following), since) if since else \
                response.urljoin(following)
            if url not in self.seen_pages and page < MAX_LIST_PAGES:
                yield self.request(url, callback, self.list_error, page=page + 1)
                return
            self.spider.page_errors.append(f"OParl list stopped at page {page}: {url}")
        self.open_lists -= 1

    def meeting_page(self, response: Response, page: int) -> Iterator[Any]:
        meetings, following = list_objects(self._json(response))
        fresh = []
        for meeting in meetings:
            if not isinstance(meeting, dict) or not isinstance(meeting.get("id"), str):
                continue
            if meeting["id"] in self.seen_meetings:
                self.repeated += 1  # a page that repeats an object of an earlier one
                continue
            self.seen_meetings.add(meeting["id"])
            if meeting.get("deleted") is True:
                self.gone_keys.add(meeting["id"])  # a tombstone, with or without `type`
            elif oparl_type(meeting) in ("Meeting", None):
                fresh.append(meeting)
        yield from self._resolve(_Waiting(fresh))
        yield from self._next(response, following, page, self.meeting_page)

    def list_error(self, failure: Failure) -> None:
        """A list page failed after its retries: the walk is incomplete, the source fails
        (its watermark stays, so the next run asks again from the same point)."""
        response = getattr(failure.value, "response", None)
        if (response is not None and response.status == 404
                and "modified_since" in dict(parse_qsl(urlsplit(response.url).query))):
            # SD.NET RIM answers a filtered list that would be empty with 404 (documented by
            # meine-stadt-transparent's SternbergLoader): nothing changed, the list ends.
            self.open_lists -= 1
            return
        self.list_failed = True
        self.spider.fail(describe_failure(failure))

    # -- linked objects (organizations, a 1.0 location given as URL)

    def _resolve(self, waiting: _Waiting) -> Iterator[Any]:
        for meeting in waiting.meetings:
            for url in [*(meeting.get("organization") or []), meeting.get("location")]:
                if isinstance(url, str) and url not in self.linked:
                    waiting.missing.add(url)
        if not waiting.missing:
            yield from self._records(waiting.meetings)
            return
        self.waiting.append(waiting)
        for url in sorted(waiting.missing - self.requested):
            self.requested.add(url)
            yield self.request(url, self.linked_object, self.linked_error, url=url)

    def linked_object(self, response: Response, url: str) -> Iterator[Record]:
        data = self._json(response)
        self.linked[url] = data if isinstance(data, dict) else None
        yield from self._arrived(url)

    def linked_error(self, failure: Failure) -> Iterator[Record]:
        self.spider.page_errors.append(describe_failure(failure))
        url = failure.request.cb_kwargs["url"]  # type: ignore[attr-defined]
        self.linked[url] = None  # the meeting is read without it
        yield from self._arrived(url)

    def _arrived(self, url: str) -> Iterator[Record]:
        for waiting in list(self.waiting):
            waiting.missing.discard(url)
            if not waiting.missing:
                self.waiting.remove(waiting)
                yield from self._records(waiting.meetings)

    def _records(self, meetings: list[dict[str, Any]]) -> Iterator[Record]:
        records = []
        for meeting in meetings:
            record = meeting_record(meeting, self.spider.source.id, self.linked)
            if record is not None:
                records.append(record)
        self.meetings += len(records)
        yield from self.emit(records)

    # -- the end

    @property
    def complete(self) -> bool:
        """Every list was walked to its end without a failed page."""
        return bool(self.watermarks) and self.open_lists == 0 and not self.list_failed

    def finish(self, reason: str) -> None:
        """Hand the spider what the store needs: gone keys, incrementality, new watermarks."""
        self.spider.gone_keys = set(self.gone_keys)  # type: ignore[attr-defined]
        self.spider.incremental = self.incremental  # type: ignore[attr-defined]
        if self.repeated:
            self.spider.logger.info("%s: %d repeated OParl objects skipped",
                                    self.spider.source.id, self.repeated)
        if reason != "finished" or not self.complete:
            return
        for url, since in self.watermarks.items():
            self.spider.validators_seen[url] = {"last_modified": since,
                                                "etag": _FULL + self.full_walks[url]}


class OparlSpider(SourceSpider):
    """Read the meetings of an OParl System or Body URL as event records."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.walk = OparlWalk(self)
        self.gone_keys: set[str] = set()
        self.incremental = False

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.source.url, callback=self.parse, errback=self.on_entry_error,
                             headers=_JSON, meta={CONDITIONAL: False})

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        yield from self.walk.begin(response)

    def closed(self, reason: str) -> None:
        self.walk.finish(reason)
