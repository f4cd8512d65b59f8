"""Answer a request of a test's local JSON server (OParl, GraphQL) with a status and a body."""

from http.server import BaseHTTPRequestHandler


def send_json(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    """Write `body` (JSON bytes) with `status`, its type and its length."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
