"""Never off the host: a source fetches only from its own host, and never a private address.

A source may fetch from the host of its URL, that host's `www.` variant (either way round)
and the hosts it names in `hosts = [...]`, over http or https. Every request is checked,
redirects included (Scrapy sends a redirect's target through the downloader middlewares again),
and so is every link a spider follows. A private, loopback or link-local address is refused
unless the source's own URL is on one (a test site or an intranet source), also after DNS: the
address a response came from is checked too.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from regiofeed.spiders.dispatch import SourceMiddleware

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, int] | None:
    """(host without `www.`, port) of an http(s) URL; None for mailto:, javascript: and such."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    return host.removeprefix("www."), port or DEFAULT_PORTS[parts.scheme]


def is_private(host: str) -> bool:
    """True for loopback, private, link-local, reserved and unspecified addresses and localhost."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_reserved or address.is_unspecified or address.is_multicast)


class HostRule:
    """Which URLs one source may fetch."""

    def __init__(self, url: str, hosts: list[str] | tuple[str, ...] = ()) -> None:
        own = _origin(url)
        self.allowed: set[tuple[str, int]] = set()
        self.any_port: set[str] = set()
        if own is not None:
            self.allowed.add(own)
            # http -> https on the same host is the usual upgrade, and the reverse is harmless.
            if own[1] in DEFAULT_PORTS.values():
                self.any_port.add(own[0])
        for host in hosts:
            extra = _origin(host if "://" in host else f"https://{host}")
            if extra is None:
                continue
            if urlsplit(host if "://" in host else f"//{host}").port is None:
                self.any_port.add(extra[0])
            else:
                self.allowed.add(extra)
        self.private_ok = own is not None and is_private(own[0])

    def refuses(self, url: str) -> str | None:
        """Why `url` may not be fetched by this source, or None if it may."""
        origin = _origin(url)
        if origin is None:
            return "not an http(s) URL"
        host, port = origin
        if (host, port) not in self.allowed and not (
                host in self.any_port and port in DEFAULT_PORTS.values()):
            return f"off the source's host ({host})"
        if is_private(host) and not self.private_ok:
            return f"private address ({host})"
        return None

    def may_fetch(self, url: str) -> bool:
        return self.refuses(url) is None


def rule_for(spider: Spider | None) -> HostRule | None:
    """The spider's host rule, made once from its source."""
    rule = getattr(spider, "_host_rule", None)
    source = getattr(spider, "source", None)
    if rule is None and source is not None:
        rule = HostRule(source.url, getattr(source, "hosts", []) or [])
        spider._host_rule = rule  # type: ignore[attr-defined]
    return rule


class OffHostMiddleware(SourceMiddleware):
    """Downloader middleware: refuse (and so record, through the errback) off-host requests."""

    def process_request(self, request: Request) -> None:
        rule = rule_for(self.owner(request))
        if rule is None:
            return
        why = rule.refuses(request.url)
        if why is not None:
            redirected = request.meta.get("redirect_urls")
            via = f" (redirected from {redirected[0]})" if redirected else ""
            raise IgnoreRequest(f"refused: {why}{via}")

    def process_response(self, request: Request, response: Response) -> Any:
        rule = rule_for(self.owner(request))
        address = getattr(response, "ip_address", None)
        if rule is not None and address is not None and not rule.private_ok and is_private(
                str(address)):
            raise IgnoreRequest(f"refused: {urlsplit(request.url).hostname} resolved to a "
                                "private address")
        return response
