"""SiteServer over real HTTP, the fixture sites, and the bundled demo sites and their sources."""

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser
import icalendar
import pytest
from parsel import Selector

from regiofeed.flows.demo.server import (
    DEMO_SITES,
    Reply,
    SiteServer,
    demo_site_names,
    error,
    render_demo_sources,
    sequence,
    slow,
)
from regiofeed.models.sources import parse_sources

SITES = Path(__file__).parent / "sites"
ROOT = Path(__file__).parents[1]


def fetch(
    url: str, headers: dict[str, str] | None = None, timeout: float = 5.0
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET `url` with urllib (redirects followed); return status, headers and body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as answer:  # 304, 4xx, 5xx
        with answer:
            return answer.code, answer.headers, answer.read()


def raw_get(base_url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET `path` exactly as given (no client-side normalisation, no redirects)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/aktuelles/seite-2/", "text/html; charset=utf-8"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/feeds/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/feeds/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feeds/feed.json", "application/feed+json; charset=utf-8"),
        ("/feeds/events.ics", "text/calendar; charset=utf-8"),
        ("/feeds/garbage.rss", "application/rss+xml; charset=utf-8"),
    ],
)
def test_files_are_served_with_their_content_type(
    site: SiteServer, path: str, content_type: str
) -> None:
    status, headers, body = fetch(site.url(path))
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert int(headers["Content-Length"]) == len(body) > 0


def test_base_url_placeholder_is_replaced_by_the_origin(site: SiteServer) -> None:
    _, _, body = fetch(site.url("/feeds/rss.xml"))
    assert b"{{base_url}}" not in body
    assert f"<link>{site.base_url}/</link>".encode() in body


def test_if_none_match_with_the_etag_gives_304(site: SiteServer) -> None:
    _, headers, _ = fetch(site.url("/feeds/rss.xml"))
    etag = headers["ETag"]
    status, again, body = fetch(site.url("/feeds/rss.xml"), {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert again["ETag"] == etag
    status, _, _ = fetch(site.url("/feeds/rss.xml"), {"If-None-Match": '"other"'})
    assert status == 200


def test_if_modified_since_gives_304_unless_the_file_is_newer(site: SiteServer) -> None:
    _, headers, _ = fetch(site.url("/aktuelles/"))
    last_modified = headers["Last-Modified"]
    status, _, body = fetch(site.url("/aktuelles/"), {"If-Modified-Since": last_modified})
    assert (status, body) == (304, b"")
    earlier = formatdate(parsedate_to_datetime(last_modified).timestamp() - 60, usegmt=True)
    status, _, _ = fetch(site.url("/aktuelles/"), {"If-Modified-Since": earlier})
    assert status == 200


def test_missing_file_is_404(site: SiteServer) -> None:
    assert fetch(site.url("/gibt-es-nicht.html"))[0] == 404


def test_directory_without_slash_redirects_to_it(site: SiteServer) -> None:
    status, headers, _ = raw_get(site.base_url, "/aktuelles?seite=1")
    assert (status, headers["Location"]) == (301, "/aktuelles/?seite=1")


@pytest.mark.parametrize(
    "path",
    ["/../conftest.py", "/%2e%2e/conftest.py", "/aktuelles/../../conftest.py", "/..%2fconftest.py",
     "/feeds/..%5c..%5cconftest.py"],
)
def test_paths_out_of_the_tree_are_refused(site: SiteServer, path: str) -> None:
    status, _, body = raw_get(site.base_url, path)
    assert status in (403, 404)
    assert b"SiteServer" not in body


def test_error_route_answers_500(site: SiteServer) -> None:
    status, headers, body = fetch(site.url("/errors/500/"))
    assert (status, body) == (500, b"500 Internal Server Error\n")
    assert "ETag" not in headers


def test_slow_route_outlasts_a_client_timeout(site: SiteServer) -> None:
    started = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        fetch(site.url("/errors/slow.xml"), timeout=0.3)
    assert time.monotonic() - started < 2


def test_slow_route_answers_with_the_file_after_the_delay(fresh_site: SiteServer) -> None:
    fresh_site.route("/langsam.xml", slow(0.3, file="/feeds/rss.xml"))
    started = time.monotonic()
    status, headers, _ = fetch(fresh_site.url("/langsam.xml"))
    assert status == 200 and time.monotonic() - started >= 0.3
    assert headers["Content-Type"].startswith("application/rss+xml")


def test_redirect_route_leads_to_the_target(site: SiteServer) -> None:
    status, headers, _ = raw_get(site.base_url, "/moved/rss.xml")
    assert (status, headers["Location"]) == (301, "/feeds/rss.xml")
    status, _, body = fetch(site.url("/moved/rss.xml"))
    assert status == 200 and body.startswith(b"<?xml")


@pytest.mark.parametrize("path", ["/errors/garbage.xml", "/feeds/garbage.rss"])
def test_garbage_is_served_as_a_feed_but_does_not_parse(site: SiteServer, path: str) -> None:
    status, headers, body = fetch(site.url(path))
    assert status == 200
    assert headers["Content-Type"].startswith("application/rss+xml")
    parsed = feedparser.parse(body, response_headers={"content-type": headers["Content-Type"]})
    assert parsed.bozo


def test_sequence_route_changes_its_answer_between_requests(fresh_site: SiteServer) -> None:
    fresh_site.route("/wechsel.txt", sequence(error(503), Reply(body=b"eins"), Reply(body=b"zwei")))
    answers = [fetch(fresh_site.url("/wechsel.txt"))[::2] for _ in range(4)]
    assert answers == [(503, b"503 Service Unavailable\n"), (200, b"eins"), (200, b"zwei"),
                       (200, b"zwei")]


def test_changed_file_gets_a_new_etag_and_a_later_last_modified(fresh_site: SiteServer) -> None:
    url = fresh_site.url("/aktuelles/")
    _, before, _ = fetch(url)
    fresh_site.set_file("/aktuelles/index.html", "<!DOCTYPE html><p>Neu</p>")
    status, after, body = fetch(url, {"If-None-Match": before["ETag"]})
    assert (status, body) == (200, b"<!DOCTYPE html><p>Neu</p>")
    assert after["ETag"] != before["ETag"]
    assert parsedate_to_datetime(after["Last-Modified"]) > parsedate_to_datetime(
        before["Last-Modified"]
    )
    # A client that only sends If-Modified-Since sees the change too.
    assert fetch(url, {"If-Modified-Since": before["Last-Modified"]})[0] == 200
    assert fetch(url, {"If-None-Match": after["ETag"]})[0] == 304


def test_changed_files_do_not_touch_the_tree_or_other_servers(
    fresh_site: SiteServer, site: SiteServer
) -> None:
    fresh_site.set_file("/feeds/rss.xml", b"<rss/>")
    assert fetch(site.url("/feeds/rss.xml"))[2] != b"<rss/>"
    assert (SITES / "feeds/rss.xml").read_bytes() != b"<rss/>"


def test_deleted_file_is_404_and_new_file_is_served(fresh_site: SiteServer) -> None:
    fresh_site.delete_file("/feeds/atom.xml")
    fresh_site.set_file("/neu/index.html", "<!DOCTYPE html><p>Hallo</p>")
    assert fetch(fresh_site.url("/feeds/atom.xml"))[0] == 404
    status, headers, _ = fetch(fresh_site.url("/neu/"))
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")


def test_requests_are_recorded_with_their_headers(fresh_site: SiteServer) -> None:
    fetch(fresh_site.url("/robots.txt"))
    fetch(fresh_site.url("/aktuelles/?seite=2"), {"If-None-Match": '"x"'})
    assert fresh_site.hits("/robots.txt") == 1
    last = fresh_site.requests[-1]
    assert (last.method, last.path, last.query) == ("GET", "/aktuelles/", "seite=2")
    assert last.headers["if-none-match"] == '"x"'


def test_head_sends_headers_only(site: SiteServer) -> None:
    request = urllib.request.Request(site.url("/feeds/atom.xml"), method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["ETag"] and response.read() == b""


def test_close_releases_the_port() -> None:
    with SiteServer(SITES) as server:
        port = server.port
        assert server.base_url == f"http://127.0.0.1:{port}"
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_close_does_not_wait_for_slow_answers(serve_site: Callable[..., SiteServer]) -> None:
    server = serve_site(SITES, {"/slow": slow(30)})
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        fetch(server.url("/slow"), timeout=0.2)
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 2


def test_unreachable_url_refuses_connections(unreachable_url: str) -> None:
    with pytest.raises(urllib.error.URLError):
        fetch(unreachable_url, timeout=2)


@pytest.mark.parametrize("path", ["/feeds/rss.xml", "/feeds/atom.xml"])
def test_fixture_feeds_parse_without_bozo(site: SiteServer, path: str) -> None:
    _, headers, body = fetch(site.url(path))
    parsed = feedparser.parse(body, response_headers={"content-type": headers["Content-Type"]})
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == 2


def test_fixture_json_feed_is_json_feed_1_1(site: SiteServer) -> None:
    feed = json.loads(fetch(site.url("/feeds/feed.json"))[2])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert all(item["url"].startswith(site.base_url) for item in feed["items"])


DEMO_FEEDS = [
    ("zukunftsschusterei", "/feed/", "application/rss+xml"),
    ("zukunftsschusterei", "/feed/index.xml", "application/rss+xml"),
    ("partheland", "/feed/", "application/rss+xml"),
    ("smart-city-dialog", "/aktuelles/atom.xml", "application/atom+xml"),
]


@pytest.mark.parametrize(("name", "path", "content_type"), DEMO_FEEDS)
def test_demo_feeds_parse_without_bozo_and_link_to_pages(
    demo_sites: dict[str, str], name: str, path: str, content_type: str
) -> None:
    status, headers, body = fetch(demo_sites[name] + path)
    assert status == 200 and headers["Content-Type"].startswith(content_type)
    parsed = feedparser.parse(body, response_headers={"content-type": headers["Content-Type"]})
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.link.startswith(demo_sites[name] + "/")
        assert fetch(entry.link)[0] == 200


def test_demo_feeds_are_advertised_in_the_html_head(demo_sites: dict[str, str]) -> None:
    for name, path, content_type in DEMO_FEEDS:
        page = Selector(text=fetch(demo_sites[name] + "/")[2].decode())
        hrefs = page.css(f'link[rel=alternate][type="{content_type}"]::attr(href)').getall()
        assert demo_sites[name] + path in hrefs or path.endswith("index.xml")


def test_demo_sources_render_and_parse(demo_sites: dict[str, str]) -> None:
    config = parse_sources(render_demo_sources(demo_sites), "flows/demo/sources.toml")
    assert [source.id for source in config.sources] == [
        "bad-belzig-aktuelles", "zukunftsschusterei", "bad-belzig-veranstaltungen",
        "mitarbeit-seminare", "smart-city-dialog", "partheland",
    ]
    assert (config.crawl.delay, config.crawl.timeout) == (0, 10)
    expected = {"html": "text/html", "rss": "application/rss+xml", "atom": "application/atom+xml",
                "ical": "text/calendar"}  # fmt: skip
    for source in config.sources:
        status, headers, _ = fetch(source.url)
        assert status == 200, source.id
        assert headers["Content-Type"].startswith(expected[source.kind]), source.id


def test_render_demo_sources_names_a_missing_site() -> None:
    with pytest.raises(KeyError, match="zukunftsschusterei"):
        render_demo_sources({name: "http://x" for name in demo_site_names()[:-1]})


def test_demo_html_selectors_find_items_details_and_next_pages(
    demo_sites: dict[str, str],
) -> None:
    config = parse_sources(render_demo_sources(demo_sites))
    for source in (s for s in config.sources if s.kind == "html"):
        selectors = source.selectors
        assert selectors is not None
        url: str | None = source.url
        found = 0
        while url:
            page = Selector(text=fetch(url)[2].decode())
            for item in page.css(selectors.item):
                found += 1
                assert " ".join(item.css(selectors.title + " ::text").getall()).strip()
                assert selectors.link is not None
                detail = urljoin(url, item.css(selectors.link).get())
                status, _, body = fetch(detail)
                assert status == 200, detail
                if selectors.content:
                    assert Selector(text=body.decode()).css(selectors.content), detail
                for key in ("date", "summary", "when", "location"):
                    if getattr(selectors, key):
                        assert item.css(getattr(selectors, key)).get(), (source.id, key)
            next_href = page.css(selectors.next).get() if selectors.next else None
            url = urljoin(url, next_href) if next_href else None
        assert found == {"bad-belzig-aktuelles": 2, "mitarbeit-seminare": 1}[source.id]


def test_demo_sites_each_have_a_robots_txt(demo_sites: dict[str, str]) -> None:
    assert sorted(demo_sites) == demo_site_names() == [
        "bad-belzig", "mitarbeit", "partheland", "smart-city-dialog", "zukunftsschusterei",
    ]
    for base in demo_sites.values():
        status, headers, body = fetch(base + "/robots.txt")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert b"Disallow: /intern/" in body


def _internal_links(base: str) -> tuple[set[str], list[tuple[str, int]]]:
    """Follow every same-origin link from `base`/; return the URLs seen and the broken ones."""
    seen: set[str] = set()
    broken: list[tuple[str, int]] = []
    todo = [base + "/"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        status, headers, body = fetch(url)
        if status != 200:
            broken.append((url, status))
            continue
        if headers["Content-Type"].startswith("text/html"):
            page = Selector(text=body.decode())
            for href in page.css("a::attr(href), link::attr(href), img::attr(src)").getall():
                target = urljoin(url, href).split("#")[0]
                if urlsplit(target).netloc == urlsplit(base).netloc:
                    todo.append(target)
    return seen, broken


def test_sites_have_no_broken_links(demo_sites: dict[str, str], site: SiteServer) -> None:
    for base in [*demo_sites.values(), site.base_url]:
        seen, broken = _internal_links(base)
        assert len(seen) >= 3 and broken == [], base


class _TagChecker(HTMLParser):
    """Collect unbalanced tags; HTML's void elements need no end tag."""

    VOID: ClassVar[set[str]] = {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> at line {self.getpos()[0]}, open: {self.stack[-3:]}")
        else:
            self.stack.pop()


# The fixtures under these folders imitate the real web on purpose (other encodings, CMS
# markup as it comes, fragments): they are not held to this standard.
MESSY = ("auto", "kinds", "presets", "dedupe")


@pytest.mark.parametrize(
    "page",
    sorted([*DEMO_SITES.rglob("*.html"),
            *(p for p in SITES.rglob("*.html") if p.relative_to(SITES).parts[0] not in MESSY)]),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_pages_are_well_formed_utf8_html(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in text
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    assert checker.problems == [] and checker.stack == []


def test_bad_belzig_detail_carries_every_paragraph_twice() -> None:
    detail = DEMO_SITES / "bad-belzig/aktuelles/detail/bad-belzig-2030-meine-stadt-der-zukunft"
    page = Selector(text=(detail / "index.html").read_text(encoding="utf-8"))
    desktop, mobile = (block.css("p::text").getall() for block in page.css("div.ce-text"))
    assert desktop == mobile and len(desktop) == 5
    assert desktop[-1] == "Wir freuen uns, wenn Sie sich beteiligen!"


def test_demo_event_facts_are_labelled_as_in_the_seeds() -> None:
    conference = (DEMO_SITES / "bad-belzig/aktuelles/detail"
                  / "16-regionalkonferenz-smart-cities-in-bad-belzig/index.html").read_text()
    for line in ("<strong>Datum:</strong> 5. September 2024",
                 "<strong>Uhrzeit:</strong> 10:00 bis 17:00 Uhr",
                 "<strong>Ort:</strong> Kulturzentrum Bad Belzig, Weitzgrunder Str. 4, 14806 Bad "
                 "Belzig"):
        assert line in conference
    workshop = (DEMO_SITES / "partheland/feed/index.xml").read_text()
    assert "<p><strong>Wann?</strong> 15. März 2021, 17:00 bis 19:00 Uhr</p>" in workshop
    assert "<p><strong>Wo?</strong> digital (Link wird Ihnen separat per E-Mail zugeschickt)</p>" \
        in workshop
    seminar = next((DEMO_SITES / "mitarbeit/veranstaltungen/seminare").glob("*/index.html"))
    assert ("<strong>Termin:</strong></p>\n<p class=\"wert\">Freitag, 25. und Samstag, "
            "26. August 2023</p>") in seminar.read_text()


def test_demo_calendar_lies_ahead_of_the_day_it_is_served(demo_sites: dict[str, str]) -> None:
    status, headers, body = fetch(demo_sites["bad-belzig"] + "/veranstaltungen/kalender.ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    starts = [event["DTSTART"].dt for event in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    days = sorted(start if isinstance(start, date) and not isinstance(start, datetime)
                  else start.date() for start in starts)  # fmt: skip
    assert days[0] == today + timedelta(days=2) and days[-1] == today + timedelta(days=20)
