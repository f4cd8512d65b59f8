"""Find what a page points to: its feeds and calendars, its news and events sections, sitemaps.

Feeds come from `<link rel="alternate">` (RSS, Atom, JSON Feed, iCalendar types, RFC 4287
autodiscovery) and from links in the page (`/feed/`, `.rss`, `*.xml` named rss/feed/atom,
`webcal:`, `.ics`, `?ical=1`, Joomla's `format=feed`, link texts "RSS", "iCal", "Kalender
abonnieren"). Comment feeds and social networks are left out. Each feed gets a score: advertised
beats linked, a feed about the page's topic (news or events, from path and title) and under the
page's path beats a site-wide one, and a feed about the other topic loses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from regiofeed.spiders.blocks import page_topic, parse_html

# MIME types of <link rel="alternate"> and what they are.
_ALTERNATE_TYPES = {
    "application/rss+xml": "rss",
    "application/rdf+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "jsonfeed",
    "application/json": "jsonfeed",  # JSON Feed before its own type; checked by fetching
    "text/calendar": "ical",
    "application/calendar+xml": "ical",
    "text/xml": "feed",
    "application/xml": "feed",
}
_FEED_PATH_RE = re.compile(
    r"(?:/feed/?$|/feed/(?:rss2?|atom|rdf)/?$|/rss/?$|/atom/?$|\.rss$|\.atom$|/feed\.json$|"
    r"(?:rss|feed|atom)[^/]*\.xml$|/(?:rss|feeds?|atom)/[^/]*\.xml$)",
    re.IGNORECASE,
)
_CALENDAR_PATH_RE = re.compile(r"\.(?:ics|ical|ifb|vcs)$", re.IGNORECASE)
# Query strings that ask a CMS for a feed: Joomla format=feed, tx_news type=9818 (its RSS
# typeNum) and type=100, The Events Calendar ?ical=1, Drupal/others ?format=rss.
_FEED_QUERY = {("format", "feed"), ("format", "rss"), ("format", "atom"), ("type", "9818"),
               ("type", "100"), ("feed", "rss2"), ("feed", "atom"), ("feed", "rss")}
_CALENDAR_QUERY = {("ical", "1"), ("format", "ical"), ("format", "ics"), ("type", "150"),
                   ("outlook-ical", "1"), ("export", "ical")}
_FEED_TEXT_RE = re.compile(r"\b(?:rss|atom|feed|news-?feed|rss-feed)\b", re.IGNORECASE)
_CALENDAR_TEXT_RE = re.compile(
    r"\b(?:ical|ics|icalendar|webcal|kalender abonnieren|termine abonnieren|"
    r"kalender exportieren|termine exportieren|export events|veranstaltungen exportieren|"
    r"kalenderdatei|outlook)\b", re.IGNORECASE)
_COMMENTS_RE = re.compile(r"comment|kommentar", re.IGNORECASE)
_SOCIAL_HOSTS = ("facebook.", "twitter.", "x.com", "instagram.", "youtube.", "linkedin.",
                 "mastodon.", "whatsapp.", "t.me", "xing.", "pinterest.", "tiktok.")
# Calendar links on more than this many items are per-event exports, not the calendar.
_MAX_CALENDAR_LINKS = 3

# Link texts of a home page's news and events sections.
_SECTION_TEXTS = {
    "news": ("aktuelles", "aktuelle meldungen", "aktuelle nachrichten", "nachrichten", "news",
             "neuigkeiten", "meldungen", "pressemitteilungen", "presse", "presseinformationen",
             "mitteilungen", "bekanntmachungen", "amtliche bekanntmachungen", "blog",
             "alle meldungen", "alle nachrichten", "alle news", "alle beiträge", "mehr nachrichten",
             "mehr meldungen", "zu allen meldungen", "zu allen nachrichten", "zum newsarchiv",
             "newsarchiv", "archiv", "beiträge"),
    "events": ("veranstaltungen", "termine", "veranstaltungskalender", "terminkalender",
               "kalender", "events", "alle veranstaltungen", "alle termine",
               "mehr veranstaltungen", "zu allen veranstaltungen", "zu allen terminen",
               "aktuelle termine", "aktuelle veranstaltungen", "was ist los", "event-kalender"),
}


KIND_NAMES = {"rss": "RSS feed", "atom": "Atom feed", "jsonfeed": "JSON Feed",
              "ical": "iCalendar"}


@dataclass(frozen=True)
class FeedLink:
    """A feed or calendar a page points to; `kind` is 'feed' while its format is unknown."""

    url: str
    kind: str
    title: str
    advertised: bool
    score: float

    @property
    def family(self) -> str:
        return "calendar" if self.kind == "ical" else "feed"

    def describe(self) -> str:
        how = "advertised in <link rel=alternate>" if self.advertised else "linked in the page"
        return f"{KIND_NAMES.get(self.kind, 'feed')} {self.url} ({how})"


def sniff(body: bytes, content_type: str | None = None) -> str | None:
    """Say what a response is: 'rss', 'atom', 'jsonfeed', 'ical', 'sitemap', 'html' or None.

    The body decides where it is clear (servers send feeds as text/html or text/xml, and
    WordPress /feed/ as application/rss+xml), the Content-Type otherwise.

    >>> sniff(b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "text/html")
    'rss'
    >>> sniff(b"BEGIN:VCALENDAR\\r\\nVERSION:2.0", None)
    'ical'
    """
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    declared = (content_type or "").split(";")[0].strip().lower()
    if head.startswith(b"begin:vcalendar"):
        return "ical"
    if head.startswith(b"{"):
        if b"jsonfeed.org/version" in head:
            return "jsonfeed"
        return None
    element = re.search(rb"<(?![?!])([a-z_][\w:.-]*)", head)
    root = element.group(1) if element else b""
    if root in (b"rss", b"rdf:rdf"):
        return "rss"
    if root == b"feed":
        return "atom"
    if root in (b"urlset", b"sitemapindex"):
        return "sitemap"
    if root == b"html" or b"<html" in head or b"<body" in head or declared in (
            "text/html", "application/xhtml+xml"):
        return "html"
    return {"text/calendar": "ical", "application/rss+xml": "rss",
            "application/atom+xml": "atom", "application/feed+json": "jsonfeed"}.get(declared)


def looks_like_feed_url(url: str) -> bool:
    """Whether a URL names a feed or calendar (so that a 304 for it means 'no new items')."""
    parts = urlsplit(url)
    query = {(k.lower(), v.lower()) for k, v in parse_qsl(parts.query)}
    return bool(_FEED_PATH_RE.search(parts.path) or _CALENDAR_PATH_RE.search(parts.path)
                or query & (_FEED_QUERY | _CALENDAR_QUERY))


def is_site_root(url: str) -> bool:
    """Whether a URL is a site's home page: '/', '/index.php', '/de/', '/startseite/'.

    >>> is_site_root("https://www.wiesenburgmark.de/"), is_site_root("https://x.de/aktuelles/")
    (True, False)
    """
    path = urlsplit(url).path.lower().strip("/")
    path = re.sub(r"(?:^|/)(?:index|home|default|start)\.(?:html?|php|aspx?)$", "", path)
    return path in ("", "de", "de-de", "startseite", "home", "start", "index")


def _absolute(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    if href.lower().startswith("webcal://"):
        # webcal: is http(s) with a hint for calendar apps; keep the page's scheme.
        scheme = urlsplit(base).scheme or "https"
        href = f"{scheme}://{href[len('webcal://'):]}"
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _topic_of(url: str, title: str) -> str | None:
    return page_topic(url, title)


def find_feeds(html: str, url: str) -> list[FeedLink]:
    """Return the feeds and calendars a page advertises or links, best first.

    >>> page = '<link rel="alternate" type="application/rss+xml" href="/feed/">'
    >>> [f.url for f in find_feeds(page, "https://x.de/")]
    ['https://x.de/feed/']
    """
    root = parse_html(html)
    if root is None:
        return []
    base_element = root.find(".//base[@href]")
    base = urljoin(url, base_element.get("href")) if base_element is not None else url
    page_title = " ".join((root.findtext(".//title") or "").split())
    topic = page_topic(url, page_title)
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    page_path = urlsplit(url).path
    found: dict[str, FeedLink] = {}
    calendar_anchors: set[str] = set()

    def add(link: str, kind: str, title: str, advertised: bool) -> None:
        if _COMMENTS_RE.search(urlsplit(link).path) or _COMMENTS_RE.search(title):
            return
        link_host = (urlsplit(link).hostname or "").lower().removeprefix("www.")
        if any(social in link_host for social in _SOCIAL_HOSTS):
            return
        score = 3.0 if advertised else 1.0
        feed_topic = _topic_of(link, title)
        if topic and feed_topic == topic:
            score += 2
        elif topic and feed_topic and feed_topic != topic:
            score -= 2
        if kind == "ical" and topic == "events":
            score += 1
        link_path = urlsplit(link).path
        if page_path.strip("/") and link_path.startswith(page_path.rstrip("/") + "/"):
            score += 1
        if link_host != host and not link_host.endswith("." + host):
            score -= 1
        previous = found.get(link)
        if previous is None or previous.score < score:
            found[link] = FeedLink(link, kind, title, advertised or bool(
                previous and previous.advertised), score)

    for element in root.iter("link"):
        rel = (element.get("rel") or "").lower().split()
        kind = _ALTERNATE_TYPES.get((element.get("type") or "").split(";")[0].strip().lower())
        if "alternate" not in rel or kind is None or element.get("hreflang"):
            continue
        link = _absolute(element.get("href"), base)
        if link is None:
            continue
        if kind == "feed" and not looks_like_feed_url(link):
            continue
        add(link, kind, " ".join((element.get("title") or "").split()), True)

    for anchor in root.iter("a"):
        href = anchor.get("href") or ""
        link = _absolute(href, base)
        if link is None:
            continue
        text = " ".join(" ".join(anchor.itertext()).split())
        label = " ".join(f"{text} {anchor.get('title') or ''} {anchor.get('aria-label') or ''}"
                         .split())
        parts = urlsplit(link)
        query = {(k.lower(), v.lower()) for k, v in parse_qsl(parts.query)}
        if href.lower().startswith("webcal:") or _CALENDAR_PATH_RE.search(parts.path) or (
                query & _CALENDAR_QUERY):
            calendar_anchors.add(link)
            add(link, "ical", label, False)
        elif _FEED_PATH_RE.search(parts.path) or query & _FEED_QUERY or (
                _FEED_TEXT_RE.search(label) and len(label) < 60
                and re.search(r"rss|feed|atom|xml", link, re.IGNORECASE)):
            add(link, "feed", label, False)
        elif _CALENDAR_TEXT_RE.search(label) and re.search(r"ical|ics|calendar|kalender", link,
                                                           re.IGNORECASE):
            calendar_anchors.add(link)
            add(link, "ical", label, False)
    if len(calendar_anchors) > _MAX_CALENDAR_LINKS:
        for link in calendar_anchors:
            if link in found and not found[link].advertised:
                del found[link]
    return sorted(found.values(), key=lambda feed: -feed.score)


def choose_feeds(feeds: list[FeedLink], url: str, title: str = "") -> list[list[FeedLink]]:
    """Order the feeds to try, as lists per family (feed, calendar); the first that reads wins.

    A news page reads its feeds (a calendar only if there is none); an events page its
    calendars, then feeds about events; any other page one feed and one calendar.
    """
    topic = page_topic(url, title)
    feeds = [feed for feed in feeds if feed.score > 0]
    syndication = [feed for feed in feeds if feed.family == "feed"]
    calendars = [feed for feed in feeds if feed.family == "calendar"]
    if topic == "news":
        return [syndication or calendars]
    if topic == "events":
        about_events = [feed for feed in syndication if _topic_of(feed.url, feed.title) == "events"]
        return [calendars + about_events] if calendars or about_events else []
    return [family for family in (syndication, calendars) if family]


def section_links(html: str, url: str) -> list[tuple[str, str]]:
    """Return a home page's links to its news and events sections: [(url, topic)], one each.

    "Alle Meldungen" under a teaser box wins over the menu's "Aktuelles"; both lead there.
    """
    root = parse_html(html)
    if root is None:
        return []
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    best: dict[str, tuple[int, str]] = {}
    for anchor in root.iter("a"):
        link = _absolute(anchor.get("href"), url)
        if link is None:
            continue
        link_host = (urlsplit(link).hostname or "").lower().removeprefix("www.")
        if link_host != host or is_site_root(link) or looks_like_feed_url(link):
            continue
        text = " ".join(" ".join(anchor.itertext()).split()).lower().strip(" »›>:")
        for topic, texts in _SECTION_TEXTS.items():
            if text not in texts:
                continue
            rank = 2 if text.startswith(("alle", "mehr", "zu allen", "zum")) else 1
            if topic not in best or best[topic][0] < rank:
                best[topic] = (rank, link)
    links = [(link, topic) for topic, (_, link) in best.items()]
    # One section for a site whose news and events are one page.
    unique: dict[str, str] = {}
    for link, topic in links:
        unique.setdefault(link.rstrip("/"), topic)
    return [(next(lk for lk, _ in links if lk.rstrip("/") == key), topic)
            for key, topic in unique.items()]


def robots_sitemaps(text: str) -> list[str]:
    """Return the `Sitemap:` URLs of a robots.txt.

    >>> robots_sitemaps("User-agent: *\\nSitemap: https://x.de/sitemap.xml")
    ['https://x.de/sitemap.xml']
    """
    return [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.lower().startswith("sitemap:") and line.split(":", 1)[1].strip()]


_SKIP_SITEMAPS_RE = re.compile(r"page|categor|tag|author|attachment|product|media|image|video|"
                               r"user|taxonomy|term|archive", re.IGNORECASE)
_DATED_PATH_RE = re.compile(r"/20\d\d/(?:[01]\d/)?")


def useful_child_sitemap(url: str) -> bool:
    """Whether a child of a sitemap index may list news or events (not pages, tags, authors)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    if page_topic(url) is not None or re.search(r"post|news|event|tribe", name, re.IGNORECASE):
        return True
    return not _SKIP_SITEMAPS_RE.search(name)


def sitemap_item_urls(entries: list[tuple[str, object]], site: str, limit: int) -> list[str]:
    """Pick the news and events pages of a sitemap: under a news/events path or a dated path
    (/2024/05/…), not the section pages themselves, newest first, at most `limit`."""
    host = (urlsplit(site).hostname or "").lower().removeprefix("www.")
    picked = []
    for position, (link, lastmod) in enumerate(entries):
        parts = urlsplit(link)
        if (parts.hostname or "").lower().removeprefix("www.") != host:
            continue
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 2 and not parts.query:
            continue  # "/aktuelles/" is the section, not an item
        if page_topic(link) is None and not _DATED_PATH_RE.search(parts.path):
            continue
        picked.append((str(lastmod or ""), -position, link))
    picked.sort(reverse=True)
    return [link for _, _, link in picked[:limit]]
