"""Credentials out of anything published: the user:password@ of URLs (RFC 3986 userinfo)."""

from __future__ import annotations

import re
from typing import Any

# scheme://userinfo@ ; userinfo holds no "/", "?", "#", "@" or white space (RFC 3986 3.2.1).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s\"'<>]+@")


def redact(text: str) -> str:
    """Remove the credentials of every URL in `text`.

    >>> redact("GET https://anna:geheim@www.example.de/feed.xml failed")
    'GET https://www.example.de/feed.xml failed'
    >>> redact("mailto:anna@example.de stays")
    'mailto:anna@example.de stays'
    """
    return _USERINFO.sub(r"\g<scheme>", text)


def has_credentials(url: str) -> bool:
    """Whether `url` carries a user name or password.

    >>> has_credentials("https://anna:geheim@example.de/"), has_credentials("https://example.de/")
    (True, False)
    """
    return _USERINFO.match(url.strip()) is not None


def redact_all(value: Any) -> Any:
    """`redact` every string inside nested dicts, lists and tuples (e.g. a health report)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_all(item) for item in value)
    return value
