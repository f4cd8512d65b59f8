"""Feed XML written as text: lxml's escaping, its refusals and its empty elements, without lxml."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime

# XML 1.0 forbids these characters even escaped; lxml refuses text holding one (ValueError).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value: str) -> str:
    """Drop the characters XML 1.0 forbids even escaped (a scraped title may hold one)."""
    return NOT_XML.sub("", value)


def _refuse(value: str) -> None:
    # The same refusal lxml makes when a value reaches it uncleaned: nothing half-written.
    if NOT_XML.search(value):
        raise ValueError(f"All strings must be XML compatible, not {value!r}")


def text(value: str) -> str:
    """Escape ``value`` as element text exactly as lxml serialises it.

    >>> text("A & B <c> ]]> \\r")
    'A &amp; B &lt;c&gt; ]]&gt; &#13;'
    """
    _refuse(value)
    return _escape(value, _TEXT)


def attr(value: str) -> str:
    """Escape ``value`` as a double-quoted attribute exactly as lxml serialises it.

    >>> attr('a "b"\\t\\n')
    'a &quot;b&quot;&#9;&#10;'
    """
    _refuse(value)
    return _escape(value, _ATTRIBUTE)


# What lxml writes as an entity or a character reference, "&" first.
_TEXT = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
_ATTRIBUTE = (*_TEXT, ('"', "&quot;"), ("\t", "&#9;"), ("\n", "&#10;"))


def _escape(value: str, table: tuple[tuple[str, str], ...]) -> str:
    for raw, written in table:
        if raw in value:  # most values need none: a test is cheaper than a copy
            value = value.replace(raw, written)
    return value


def element(indent: str, name: str, value: str, *, short_empty: bool) -> str:
    """One line ``<name>value</name>``; empty, ``<name/>`` when ``short_empty`` (XML parsed
    back and written again, as atom.xml is), else ``<name></name>`` (lxml's text = "")."""
    if not value and short_empty:
        return f"{indent}<{name}/>\n"
    return f"{indent}<{name}>{text(value)}</{name}>\n"


def rfc2822(moment: datetime) -> str:
    """Format an aware datetime as RSS wants it, in English whatever the locale (as feedgen).

    >>> from datetime import timezone, timedelta
    >>> rfc2822(datetime(2024, 8, 7, 9, 5, tzinfo=timezone(timedelta(hours=2))))
    'Wed, 07 Aug 2024 09:05:00 +0200'
    """
    return format_datetime(moment)
