"""Error messages fit to publish: no markup, no URL payloads, no credentials, one short line."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from regiofeed.models.redact import redact

# Longest message health.json carries; the crawl log keeps the whole story.
MAX_MESSAGE = 300
# Longest path of a URL quoted in a message.
MAX_PATH = 80

_TAG = re.compile(r"<[!/?]?[A-Za-z][^<>]{0,2000}>|<!--.*?-->", re.DOTALL)
_URL = re.compile(r"\b(?:[A-Za-z][A-Za-z0-9+.\-]*:)//[^\s\"'<>]+|\bdata:[^\s\"'<>]+")
# user:password@host outside a URL too, as in "invalid hostname: anna:geheim@example.de".
_USERINFO_ANYWHERE = re.compile(r"(?<![\w.+\-])[^\s/@:<>\"']+:[^\s/@<>\"']*@(?=[\w\[])")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9=&_.,+\-]{0,60}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _short_url(match: re.Match[str]) -> str:
    url = match.group(0)
    if url.lower().startswith("data:"):
        return "data:…"
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[:MAX_PATH] + "…"
    path = parts.path if len(parts.path) <= MAX_PATH else parts.path[:MAX_PATH] + "…"
    # A short plain query names a page (index.php?id=12); anything else is payload (tokens,
    # encoded data, search terms): only its presence shows.
    query = parts.query if _PLAIN_QUERY.fullmatch(parts.query) else "…"
    return urlunsplit((parts.scheme, parts.netloc, path, query, "")) + (
        "#…" if parts.fragment else "")


def clean_message(text: str | None) -> str | None:
    """Return `text` fit for health.json: one line, markup out, URLs without credentials,
    query strings or long paths, at most MAX_MESSAGE characters.

    >>> clean_message("HTTP 500 at https://anna:pw@x.example/s?q=%3Cb%3E#top")
    'HTTP 500 at https://x.example/s?…#…'
    >>> clean_message("HTTP 404 at https://x.example/index.php?id=12")
    'HTTP 404 at https://x.example/index.php?id=12'
    >>> clean_message("parse error: <html><body><h1>Fehler</h1>\\n</body></html> at x")
    'parse error: [markup] at x'
    >>> clean_message("ValueError: invalid hostname: anna:geheim@127.0.0.1")
    'ValueError: invalid hostname: 127.0.0.1'
    """
    if text is None:
        return None
    text = _USERINFO_ANYWHERE.sub("", redact(str(text)))
    tags = list(_TAG.finditer(text))
    if tags:  # from the first tag to the last: the page itself, text and all
        text = f"{text[: tags[0].start()]} [markup] {text[tags[-1].end():]}"
    text = _URL.sub(_short_url, text)
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1].rstrip() + "…"
    return text
