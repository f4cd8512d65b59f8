"""Feeds that are not what they claim: byte escapes as literal text (``\\xC3\\xA4``), quotes
escaped into the markup (``<?xml version=\\"1.0\\"``), XML that is not well-formed. Read as far
as they go; the reasons are reported so that health.json says "degraded", never "ok"."""

from __future__ import annotations

import re
from typing import Any
from xml.sax import SAXParseException

import feedparser

# Two or more literal \xNN escapes forming one UTF-8 character: "\xC3\xA4" for "ä".
_UTF8_ESCAPES_RE = re.compile(rb"(?:\\x[C-Fc-f][0-9A-Fa-f])(?:\\x[89ABab][0-9A-Fa-f])+")
_ANY_ESCAPE_RE = re.compile(rb"\\x([0-9A-Fa-f]{2})")
# A string dump of a document: its markup's quotes and line breaks escaped.
_ESCAPED_MARKUP_RE = re.compile(rb"<\?xml\s+version=\\\"|<[a-zA-Z][\w:]*\s[^>]*=\\\"")
_ESCAPED_BREAK_RE = re.compile(rb"\\[nrt]")
PREFIX = "degraded input"


def repair(body: bytes) -> tuple[bytes, list[str]]:
    """Undo literal escapes in a feed's bytes; return the bytes and what was wrong.

    >>> body, reasons = repair(b'<title>anl\\\\xC3\\\\xA4sslich</title>')
    >>> body.decode(), len(reasons)
    ('<title>anlässlich</title>', 1)
    """
    reasons: list[str] = []
    if _UTF8_ESCAPES_RE.search(body):
        body = _ANY_ESCAPE_RE.sub(lambda m: bytes([int(m.group(1), 16)]), body)
        reasons.append("literal byte escapes (\\xC3\\xA4) in the text, read as UTF-8")
    if _ESCAPED_MARKUP_RE.search(body):
        body = body.replace(b'\\"', b'"')
        body = _ESCAPED_BREAK_RE.sub(lambda m: {b"\\n": b"\n", b"\\r": b"\r",
                                                b"\\t": b"\t"}[m.group()], body)
        reasons.append('escaped quotes (\\") and line breaks (\\n) in the markup: '
                       "a string dump, not a feed as published")
    return body, reasons


def read_feed(body: bytes, headers: dict[str, str], url: str) -> tuple[Any, list[str]]:
    """Parse an RSS or Atom body (as spiders.feed.feed_input gives it) with feedparser after
    `repair`; return the parsed feed and the reasons it is degraded (each starting with
    PREFIX), [] for a sound feed."""
    body, reasons = repair(body)
    parsed = feedparser.parse(body, response_headers=headers)
    if parsed.entries and isinstance(parsed.get("bozo_exception"), SAXParseException):
        # Read as far as it goes: feedparser's lenient parser got entries out of it. (Other
        # bozo reasons, a charset override or a text/xml type, are no damage to the feed.)
        reasons.append(f"not well-formed XML ({_bozo(parsed)}), read leniently")
    return parsed, [f"{PREFIX} at {url}: {reason}" for reason in reasons]


def _bozo(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    text = str(getattr(exc, "getMessage", lambda: exc)()) if exc is not None else "unreadable"
    return " ".join(text.split())[:160]
