"""Decode fetched HTML and XML right (WHATWG Encoding): BOM, header, declaration, then evidence.

Scrapy already decodes as the WHATWG Encoding Standard says (w3lib: BOM, then the HTTP
charset, then `<meta charset>` or the XML declaration). Small sites often declare the wrong
charset, though: a windows-1252 page behind a server that says UTF-8 (replacement characters),
or a UTF-8 page whose template still says ISO-8859-1 ("FÃ¼r"). The bytes tell which is true,
so a declaration the body contradicts is overruled here, and mojibake already in the text is
undone by ftfy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ftfy
from ftfy.badness import BADNESS_RE
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.responsetypes import responsetypes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# Single-byte encodings that decode any byte sequence: declaring one of them for a UTF-8 page
# never fails loudly, it only garbles.
_SINGLE_BYTE = {"cp1252", "latin_1", "iso8859_15", "iso8859_2", "ascii", "cp1250"}
_FALLBACK = "cp1252"
# Every sequence ftfy's mojibake heuristic flags holds a non-ASCII character and is at most
# seven characters long: searching within this many characters of the non-ASCII runs finds
# what a search of the whole text finds, at a fraction of the cost on a long page.
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")
_MOJIBAKE_REACH = 8


@dataclass(frozen=True)
class Decoding:
    """How a body was decoded: the encoding used, what was declared, and the text."""

    encoding: str
    declared: str | None
    text: str

    @property
    def overruled(self) -> bool:
        """Whether the body contradicted its declaration (or mojibake was repaired)."""
        return self.declared is not None and self.declared != self.encoding


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_body(body: bytes, content_type: str | None = None) -> Decoding:
    """Decode an HTML or XML body; the evidence of the bytes wins over a wrong declaration.

    Order: a byte order mark; else the declared charset (HTTP header, then the document's own
    `<meta charset>` or XML declaration), unless the bytes contradict it: a body that is not
    valid UTF-8 cannot be UTF-8 (read as windows-1252, the WHATWG stand-in for Latin-1), and
    a body declared single-byte that is valid UTF-8 with non-ASCII characters is UTF-8. Without
    a declaration, valid UTF-8 is UTF-8 and anything else windows-1252.

    >>> decode_body("Für".encode("cp1252"), "text/html; charset=utf-8").text
    'Für'
    >>> decode_body("Für".encode("utf-8"), "text/html; charset=iso-8859-1").text
    'Für'
    """
    bom, _ = read_bom(body)
    if bom:
        encoding = resolve_encoding(bom) or bom
        return Decoding(encoding, encoding, body.decode(encoding, "replace").lstrip("\ufeff"))
    declared = http_content_type_encoding(content_type or "") or html_body_declared_encoding(body)
    declared = resolve_encoding(declared) if declared else None
    encoding = declared or ("utf-8" if _is_utf8(body) else _FALLBACK)
    if encoding == "utf-8" and not _is_utf8(body):
        encoding = _FALLBACK
    elif encoding in _SINGLE_BYTE and not body.isascii() and _is_utf8(body):
        # Valid UTF-8 with multi-byte sequences is, in practice, never windows-1252 text.
        encoding = "utf-8"
    try:
        text = body.decode(encoding, "replace")
    except LookupError:
        encoding = "utf-8" if _is_utf8(body) else _FALLBACK
        text = body.decode(encoding, "replace")
    if looks_garbled(text):
        # "FÃ¼r": the page was garbled before we fetched it (a CMS that stored UTF-8 as
        # Latin-1). ftfy only touches sequences that are provably mojibake.
        text = ftfy.fix_encoding(text)
        encoding = f"{encoding}+ftfy"
    return Decoding(encoding, declared, text)


def looks_garbled(text: str) -> bool:
    """ftfy's `is_bad(text)` (mojibake in the text), searched only near non-ASCII characters.

    >>> looks_garbled("Für alle"), looks_garbled("FÃ¼r alle"), looks_garbled("plain")
    (False, True, False)
    """
    if text.isascii():
        return False
    start = end = -1
    for run in _NON_ASCII_RE.finditer(text):
        low, high = run.start() - _MOJIBAKE_REACH, run.end() + _MOJIBAKE_REACH
        if low <= end:  # overlaps the window before: one search for both
            end = high
            continue
        if end >= 0 and BADNESS_RE.search(text, max(start, 0), end):
            return True
        start, end = low, high
    # Without MULTILINE, `^` in the pattern still means the start of the text, whatever pos.
    return bool(BADNESS_RE.search(text, max(start, 0), end))


def repaired(response: Response) -> Response:
    """Return a TextResponse whose `.text` is right, whatever the page declared.

    The body is re-encoded as UTF-8 and the response says so, so later readers of `.body`
    and `.text` agree. Binary responses that are not text (images, PDFs) come back
    unchanged; a body Scrapy did not recognise as text is decoded all the same.
    """
    if not response.body:
        return response
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    cls: type[Response] = type(response)
    if not issubclass(cls, TextResponse):
        guessed = responsetypes.from_args(headers=response.headers, url=response.url,
                                          body=response.body[:4096])
        if not issubclass(guessed, TextResponse) and not _looks_like_markup(response.body):
            return response
        cls = guessed if issubclass(guessed, TextResponse) else HtmlResponse
    decoding = decode_body(response.body, content_type)
    if cls is TextResponse and decoding.text.lstrip()[:5].lower() in ("<?xml", "<rss ", "<feed"):
        cls = XmlResponse
    return response.replace(cls=cls, body=decoding.text.encode("utf-8"), encoding="utf-8")


def _looks_like_markup(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    return head.startswith((b"<", b"\x00<"))
