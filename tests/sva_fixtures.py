"""A local Smart Village App mainserver on 127.0.0.1:0: the published GraphQL schema
(tests/sva/schema.graphql, see PROVENANCE.md) executed by graphql-core, and an OAuth2
client-credentials token endpoint.

Like the real server, a create with an `externalId` it already holds deletes that record and
makes a new one (with a new id); `destroyRecord` removes by id.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from graphql import GraphQLSchema, build_schema, graphql_sync
from json_reply import send_json

SCHEMA_FILE = Path(__file__).parent / "sva" / "schema.graphql"
CLIENT_ID = "regiofeed-test"
CLIENT_SECRET = "s3cret-for-tests"


def sva_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


class _Mutations:
    """Root resolvers for the mutations regiofeed uses, keeping records in memory."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}  # by server id
        self.next_id = 1

    def _create(self, record_type: str, args: dict[str, Any]) -> dict[str, Any]:
        external = args.get("externalId")
        for record_id, record in list(self.records.items()):
            if external and record["externalId"] == external and record["type"] == record_type:
                del self.records[record_id]  # the real server recreates on every change
        record_id = str(self.next_id)
        self.next_id += 1
        self.records[record_id] = {**args, "type": record_type, "id": record_id}
        return {"id": record_id, "externalId": external, "title": args.get("title")}

    def createNewsItem(self, info: Any, **args: Any) -> dict[str, Any]:
        return self._create("NewsItem", args)

    def createEventRecord(self, info: Any, **args: Any) -> dict[str, Any]:
        return self._create("EventRecord", args)

    def destroyRecord(self, info: Any, recordType: str, id: str | None = None,
                      externalId: int | None = None) -> dict[str, Any]:
        record = self.records.get(id or "")
        if record is None or record["type"] != recordType:
            return {"id": None, "status": "Record not found", "statusCode": 404}
        del self.records[id]  # type: ignore[arg-type]
        return {"id": int(id), "status": "Record destroyed", "statusCode": 200}  # type: ignore[arg-type]


class SvaServer:
    """Serve POST /oauth/token and POST /graphql; every GraphQL request is logged."""

    def __init__(self) -> None:
        self.schema = sva_schema()
        self.root = _Mutations()
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.requests: list[dict[str, Any]] = []  # the GraphQL bodies received
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> SvaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def records(self) -> dict[str, dict[str, Any]]:
        return self.root.records

    def by_external_id(self) -> dict[str, dict[str, Any]]:
        return {r["externalId"]: r for r in self.root.records.values()}

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests += 1
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                "client_credentials", CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 7200}

    def _graphql(self, auth: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if auth.removeprefix("Bearer ") not in self.tokens:
            return 401, {"errors": [{"message": "unauthorized"}]}
        with self._lock:
            self.requests.append(body)
            result = graphql_sync(self.schema, body["query"], root_value=self.root,
                                  variable_values=body.get("variables"))
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [{"message": e.message} for e in result.errors]
        return 200, answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/oauth/token":
                    status, data = server._token(dict(parse_qsl(raw.decode())))
                elif self.path == "/graphql":
                    status, data = server._graphql(self.headers.get("Authorization", ""),
                                                   json.loads(raw))
                else:
                    status, data = 404, {}
                body = json.dumps(data).encode()
                send_json(self, status, body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
