"""A hostile website on 127.0.0.1: it stalls, trickles, or never ends its body (for the tests)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

RSS_HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'


class HostileServer:
    """Raw HTTP over sockets, so a reply can be as slow or as long as a bad server makes it.

    Paths: /stall (reads the request, never answers), /trickle (one byte a second of a
    promised megabyte), /endless (a body without end, as fast as the client reads).
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closing = threading.Event()
        self.hits: dict[str, int] = {}
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = conn.recv(65536).decode("latin-1")
                path = request.split(" ", 2)[1] if " " in request else "/"
                self.hits[path] = self.hits.get(path, 0) + 1
                if path == "/robots.txt":
                    conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                elif path == "/stall":
                    self.closing.wait(120)
                elif path == "/trickle":
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n"
                                 b"Content-Length: 1000000\r\n\r\n")
                    for byte in RSS_HEAD * 1000:
                        if self.closing.wait(1.0):
                            return
                        conn.sendall(bytes([byte]))
                elif path == "/endless":
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n"
                                 + RSS_HEAD)
                    chunk = b"<item><title>" + b"x" * 8000 + b"</title></item>"
                    while not self.closing.is_set():
                        conn.sendall(chunk)
                else:
                    conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                return

    def close(self) -> None:
        self.closing.set()
        self.sock.close()
        time.sleep(0.05)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
