"""Ask the CMS first: the feeds and calendars a page's content system offers at known addresses,
whether or not the page links them (WordPress /feed/, The Events Calendar ?ical=1, TYPO3
tx_news type=9818, Joomla format=feed, Drupal /rss.xml).

Each probe is one GET, tried before the feeds a page advertises; a 404 is a normal answer and
only means the site does not use that part of its CMS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from regiofeed.spiders.discover import KIND_NAMES, FeedLink

_GENERATOR_RE = re.compile(
    r"<meta[^>]+name=[\"']generator[\"'][^>]+content=[\"']([^\"']+)|"
    r"<meta[^>]+content=[\"']([^\"']+)[\"'][^>]+name=[\"']generator[\"']", re.IGNORECASE)
_WORDPRESS_RE = re.compile(r"rel=[\"']https://api\.w\.org/[\"']|/wp-content/|/wp-includes/",
                           re.IGNORECASE)
_EVENTS_CALENDAR_RE = re.compile(r"tribe-events|/wp-json/tribe/events/", re.IGNORECASE)
# The type number tx_news gives its RSS view by default (EXT:news, "RSS feed" setup).
TX_NEWS_RSS_TYPE = "9818"


@dataclass(frozen=True)
class ProbeLink(FeedLink):
    """A feed or calendar at the address the page's CMS serves it, found by asking."""

    cms: str = ""
    why: str = ""

    def describe(self) -> str:
        return f"{KIND_NAMES.get(self.kind, 'feed')} {self.url} (CMS probe: {self.cms}, {self.why})"


def detect_cms(html: str) -> str | None:
    """Name the content system that built the page, from its generator tag and markup.

    >>> detect_cms('<link rel="https://api.w.org/" href="https://s.example/wp-json/">')
    'WordPress'
    >>> detect_cms('<meta name="generator" content="TYPO3 CMS">')
    'TYPO3'
    """
    head = html[:200_000]
    generators = " ".join(a or b for a, b in _GENERATOR_RE.findall(head)).lower()
    if "wordpress" in generators or _WORDPRESS_RE.search(head):
        return "WordPress"
    for name in ("TYPO3", "Joomla", "Drupal", "Contao"):
        if name.lower() in generators:
            return name
    return None


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in params]
    query += list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def cms_probes(html: str, url: str, topic: str | None) -> list[ProbeLink]:
    """The addresses to ask for the page's CMS, for a page about `topic` (news, events, None).

    >>> [p.url for p in cms_probes('<meta name="generator" content="TYPO3 CMS">',
    ...                             "https://s.example/aktuelles/", "news")]
    ['https://s.example/aktuelles/?type=9818']
    >>> [p.url for p in cms_probes('<div class="tribe-events"><link rel="https://api.w.org/">',
    ...                             "https://s.example/veranstaltungen/", "events")]
    ['https://s.example/veranstaltungen/?ical=1', 'https://s.example/feed/']
    """
    cms = detect_cms(html)
    probes: list[ProbeLink] = []

    def add(target: str, kind: str, why: str) -> None:
        probes.append(ProbeLink(url=target, kind=kind, title="", advertised=False, score=1.0,
                                cms=cms or "", why=why))

    if cms == "WordPress":
        if _EVENTS_CALENDAR_RE.search(html) or topic == "events":
            page = url if topic == "events" else urljoin(url, "/events/")
            add(_with_query(page, ical="1"), "ical", "The Events Calendar's iCalendar export")
        add(urljoin(url, "/feed/"), "rss", "the site's posts feed")
    elif cms == "TYPO3" and topic != "events":
        add(_with_query(url, type=TX_NEWS_RSS_TYPE), "rss",
            f"tx_news RSS view, type={TX_NEWS_RSS_TYPE}")
    elif cms == "Joomla":
        add(_with_query(url, format="feed", type="rss"), "rss", "the page's format=feed view")
    elif cms == "Drupal":
        add(urljoin(url, "/rss.xml"), "rss", "the front page feed /rss.xml")
    return probes


def with_probes(plan: list[list[FeedLink]], probes: list[ProbeLink]) -> list[list[FeedLink]]:
    """Put the probes first in their family of the plan (spiders.discover.choose_feeds); a feed
    the page advertises at the same address stays as it was found, moved to the front."""
    families = [list(family) for family in plan]
    for probe in reversed(probes):
        family = next((f for f in families if f and f[0].family == probe.family), None)
        if family is None:
            families.insert(0 if probe.family == "feed" else len(families), [probe])
            continue
        same = next((feed for feed in family if feed.url == probe.url), None)
        if same is not None:
            family.remove(same)
        family.insert(0, same or probe)
    return families
