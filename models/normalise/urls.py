"""Canonical http(s) URLs: absolute, normalised, without fragments and tracking parameters."""

from __future__ import annotations

from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Campaign and click identifiers added by newsletters, ads and analytics: they say how a
# reader arrived, not what the page is, so two URLs differing only in them are one page.
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "piwik_", "hsa_", "__hs")
_TRACKING_NAMES = {
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
    "_hsenc", "_hsmi", "hsctatracking", "igshid", "yclid", "ysclid", "wt_mc", "wt.mc_id",
    "wt_mc_id", "_ga", "_gl", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "rb_clickid",
    "s_cid", "twclid", "ttclid", "li_fat_id", "epik", "srsltid",
}  # fmt: skip


def canonical_url(url: str, base: str | None = None) -> str:
    """Return the canonical form of an http(s) URL, resolved against `base` if relative.

    Lower-cases scheme and host, drops default ports, the fragment and tracking parameters,
    and sorts the remaining query parameters (w3lib's canonicalize_url). Raises ValueError
    for anything that does not end up an absolute http(s) URL (``mailto:``, ``javascript:``,
    a relative URL without `base`).

    >>> canonical_url("../b?utm_source=x&z=1&a=2#top", "HTTPS://Example.org:443/a/c")
    'https://example.org/b?a=2&z=1'
    """
    raw = (url or "").strip()
    if not raw:
        raise ValueError("empty URL")
    parts = urlsplit(urljoin(base, raw) if base else raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {raw!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = parts.port  # raises ValueError for a port that is not a number
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not _is_tracking(pair.split("=")[0])
    )
    return canonicalize_url(urlunsplit((scheme, netloc, parts.path or "/", query, "")))


def _is_tracking(name: str) -> bool:
    """Tell whether a query parameter name is a tracking parameter.

    >>> _is_tracking("utm_campaign"), _is_tracking("id")
    (True, False)
    """
    key = unquote_plus(name).strip().lower()
    return key in _TRACKING_NAMES or key.startswith(_TRACKING_PREFIXES)
