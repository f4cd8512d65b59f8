"""A local OParl 1.1 server on 127.0.0.1:0, its objects built from the OParl spec's examples.

tests/oparl/spec/ holds the specification's examples and JSON Schemas unmodified (see
PROVENANCE.md there); the meetings served here are copies of Meeting-01.json with their own
ids, names, dates, a cancelled one, one to delete, and one OParl 1.0-style meeting whose
location is linked by URL. Lists are paged (`links.next`), filtered by `modified_since`
(tombstones only then, as OParl 1.1 §2.5 says), the second meeting page answers 500 once,
and it repeats the last meeting of the first page, as some servers do.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
from json_reply import send_json

SPEC = Path(__file__).parent / "oparl" / "spec"
EXAMPLE_HOST = "https://oparl.example.org"
MEETINGS = "/body/0/meetings/"
PAGE_SIZE = 2


def example(name: str) -> dict[str, Any]:
    """One of the specification's examples, as published."""
    return json.loads((SPEC / "examples" / f"{name}.json").read_text())


def schema(name: str) -> dict[str, Any]:
    return json.loads((SPEC / "schema" / f"{name}.json").read_text())


def validate(obj: dict[str, Any]) -> None:
    """Validate an OParl 1.1 object against its schema, and its embedded objects against
    theirs (the spec's schemas name those with a `schema` keyword, not `$ref`)."""
    kind = obj["type"].rsplit("/", 1)[-1]
    spec = schema(kind)
    jsonschema.Draft4Validator(spec).validate(obj)
    for name, prop in spec["properties"].items():
        value = obj.get(name)
        target = prop.get("schema") or (prop.get("items") or {}).get("schema")
        if not target or value is None:
            continue
        for embedded in value if isinstance(value, list) else [value]:
            if isinstance(embedded, dict):
                validate(embedded)


def build_meetings(now: datetime) -> dict[str, dict[str, Any]]:
    """The meetings of the test body, by path; all but /meeting/290 are valid OParl 1.1."""
    base = example("Meeting-01")
    meetings: dict[str, dict[str, Any]] = {}

    def meeting(number: int, name: str, start: str, end: str, **changes: Any) -> None:
        obj = copy.deepcopy(base)
        obj["id"] = f"{EXAMPLE_HOST}/meeting/{number}"
        obj["name"], obj["start"], obj["end"] = name, start, end
        obj.update(changes)
        for order, item in enumerate(obj.get("agendaItem", []), start=1):
            # The spec's example lacks `order`, which its own 1.1 schema requires.
            item.update(meeting=obj["id"], order=order)
        meetings[f"/meeting/{number}"] = obj

    meeting(281, base["name"], base["start"], base["end"])
    meeting(282, "5. Sitzung des Finanzausschusses", "2027-03-04T17:00:00+01:00",
            "2027-03-04T19:00:00+01:00", cancelled=True)
    secret = copy.deepcopy(base["agendaItem"][0])
    secret.update(id=f"{EXAMPLE_HOST}/agendaitem/3272", number="11",
                  name="Grundstücksangelegenheiten", public=False)
    public = copy.deepcopy(base["agendaItem"][0])
    public.update(id=f"{EXAMPLE_HOST}/agendaitem/3273", number="12",
                  name="Haushaltssatzung 2027")
    meeting(283, "6. Sitzung des Finanzausschusses", "2027-04-01T17:00:00+02:00",
            "2027-04-01T19:30:00+02:00",
            agendaItem=[*copy.deepcopy(base["agendaItem"]), public, secret],
            location=example("Location-01"))
    meeting(284, "7. Sitzung des Finanzausschusses", "2027-05-06T17:00:00+02:00",
            "2027-05-06T19:00:00+02:00")
    meeting(285, "8. Sitzung", "2027-06-03T17:00:00+02:00",
            "2027-06-03T19:00:00+02:00")
    # An OParl 1.0 meeting as older servers send it: the location linked by URL, not embedded.
    meeting(290, "Sondersitzung des Finanzausschusses", "2027-02-11T18:00:00+01:00",
            "2027-02-11T20:00:00+01:00", type="https://schema.oparl.org/1.0/Meeting",
            location=f"{EXAMPLE_HOST}/location/0")
    del meetings["/meeting/290"]["agendaItem"]
    return meetings


def tombstone(obj: dict[str, Any], when: datetime) -> dict[str, Any]:
    """A deleted object as OParl §2.8 keeps it: id, type, created, and `modified` the deletion."""
    return {"id": obj["id"], "type": obj["type"], "created": obj["created"],
            "modified": when.isoformat(timespec="seconds"), "deleted": True}


class OparlServer:
    """Serve System → Body → paged meetings, organizations and locations over HTTP."""

    def __init__(self) -> None:
        self.meetings = build_meetings(datetime.now(UTC))
        self.objects: dict[str, dict[str, Any]] = {
            "/": example("System-01"),
            "/organization/34": example("Organization-01"),
            "/location/0": example("Location-01"),
        }
        system = self.objects["/"]
        system["body"] = f"{EXAMPLE_HOST}/bodies"
        self.body = example("Body-01")
        self.requests: list[str] = []  # path?query of every request, as received
        self.fail_once = {f"{MEETINGS}?page=2"}
        self.fail_always: set[str] = set()
        # SD.NET RIM's way of saying "nothing modified since": 404 and an error object.
        self.empty_filtered_as_404 = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OparlServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def served_objects(self) -> list[dict[str, Any]]:
        """Every object the server shows (for schema validation)."""
        return [*self.objects.values(), self.body, *self.meetings.values()]

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        since = query.get("modified_since")
        chosen = []
        for obj in sorted(self.meetings.values(), key=lambda m: m["id"]):
            if since is not None:
                if datetime.fromisoformat(obj["modified"]) < datetime.fromisoformat(since):
                    continue
            elif obj.get("deleted"):
                continue  # without modified_since, deleted objects must not be listed
            chosen.append(obj)
        page = int(query.get("page", "1"))
        start = (page - 1) * PAGE_SIZE
        data = chosen[start:start + PAGE_SIZE]
        if page > 1 and start - 1 < len(chosen):
            data = [chosen[start - 1], *data]  # the quirk: the last object of the page before
        links: dict[str, str] = {}
        if start + PAGE_SIZE < len(chosen):
            # The server keeps the filter in its links, percent-encoded as the spec asks.
            following = f"{EXAMPLE_HOST}{MEETINGS}?page={page + 1}"
            if since is not None:
                following += "&modified_since=" + since.replace(":", "%3A").replace("+", "%2B")
            links["next"] = following
        return {"data": data, "pagination": {"elementsPerPage": PAGE_SIZE, "currentPage": page},
                "links": links}

    def _answer(self, target: str) -> tuple[int, Any]:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        if target in self.fail_always:
            return 500, {"error": "broken"}
        if target in self.fail_once:
            self.fail_once.discard(target)
            return 500, {"error": "spurious"}
        if parts.path == "/bodies":
            return 200, {"data": [self.body], "pagination": {}, "links": {}}
        if parts.path == "/body/0":
            return 200, self.body
        if parts.path == MEETINGS:
            page = self._list(query)
            if self.empty_filtered_as_404 and "modified_since" in query and not page["data"]:
                return 404, {"error": "Die angeforderte Ressource wurde nicht gefunden.",
                             "code": 802, "type": "SD.NET RIM Webservice"}
            return 200, page
        obj = self.objects.get(parts.path) or self.meetings.get(parts.path)
        return (200, obj) if obj is not None else (404, {"error": "not found"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, data = server._answer(self.path)
                body = json.dumps(data).replace(EXAMPLE_HOST, server.base).encode()
                send_json(self, status, body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
