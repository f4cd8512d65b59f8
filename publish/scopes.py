"""The scopes of the published tree (all, per source, per municipality) and their file paths."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

# File names inside every scope folder. The DCAT catalogue builds its distribution URLs from
# these, so they are part of the published contract (DESIGN.md, "The published tree").
FEED_RSS = "feed.xml"
FEED_ATOM = "atom.xml"
FEED_JSON = "feed.json"
CALENDAR = "events.ics"
ITEMS_JSON = "data/items.json"
ITEMS_CSV = "data/items.csv"
EVENTS_CSV = "data/events.csv"
INDEX_HTML = "index.html"
FEEDS = (FEED_RSS, FEED_ATOM, FEED_JSON)
# Written in every scope too (publish.tables, publish.geojson): the CSVs for German Excel, the map.
SCOPE_EXTRAS = ("data/items-excel.csv", "data/events-excel.csv", "events.geojson")
STREAMS = ("news", "events")
"""Sub-folders with the feeds of one kind only: ``<scope>/news/feed.xml``, ``<scope>/events/…``."""

STREAM_KIND = {"news": "news", "events": "event"}
"""The item ``_regiofeed.kind`` each stream carries."""

SOURCES_DIR = "sources/"
MUNICIPALITIES_DIR = "municipalities/"

ScopeKind = Literal["all", "source", "municipality"]

_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})


# Asked of every item's places in every run: a few dozen names, each slugged once.
@lru_cache(maxsize=4096)
def municipality_slug(name: str) -> str:
    """Return the URL slug of a municipality: lower-case ASCII, German transliteration, "-".

    Other accents are dropped (é → e); runs of anything else become one "-".

    >>> municipality_slug("Bad Belzig"), municipality_slug("Wiesenburg/Mark")
    ('bad-belzig', 'wiesenburg-mark')
    >>> municipality_slug("Görzke"), municipality_slug("Großbreitenbach")
    ('goerzke', 'grossbreitenbach')
    """
    text = unicodedata.normalize("NFC", name).lower().translate(_TRANSLITERATION)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


@dataclass(frozen=True)
class Scope:
    """One folder of the tree that carries the full set of feeds, calendar and data files.

    ``path`` is "" for the root, ``"sources/<id>/"`` or ``"municipalities/<slug>/"``; it always
    ends in "/" unless empty, so ``scope.path + FEED_RSS`` is the file's path in the tree.
    ``key`` is the source id or the municipality name (None for the root).
    """

    path: str
    title: str
    kind: ScopeKind
    key: str | None = None

    def file(self, name: str, stream: str | None = None) -> str:
        """Return the tree path of ``name`` in this scope, optionally in a stream sub-folder.

        >>> Scope("sources/a/", "A", "source", "a").file(FEED_ATOM, "news")
        'sources/a/news/atom.xml'
        """
        return f"{self.path}{stream}/{name}" if stream else f"{self.path}{name}"

    def matches(self, item: dict[str, Any]) -> bool:
        """Tell whether ``item`` belongs to this scope."""
        ext = item.get("_regiofeed") or {}
        if self.kind == "source":
            return self.key in (ext.get("sources") or [])
        if self.kind == "municipality":
            # By slug, as items_by_scope does: spelling variants of one name share a folder.
            key = municipality_slug(self.key or "")
            return any(municipality_slug(name) == key for name in _item_municipalities(ext))
        return True


ROOT = Scope("", "", "all", None)


def scope_files(scope: Scope) -> list[str]:
    """Return every file path the feeds, calendar and data of ``scope`` are written to.

    >>> scope_files(Scope("sources/a/", "A", "source", "a"))[:3]
    ['sources/a/feed.xml', 'sources/a/atom.xml', 'sources/a/feed.json']
    """
    files = [scope.file(name) for name in (*FEEDS, CALENDAR, ITEMS_JSON, ITEMS_CSV, EVENTS_CSV)]
    files += [scope.file(name, stream) for stream in STREAMS for name in FEEDS]
    files += [scope.file(name) for name in SCOPE_EXTRAS]
    return files


def _municipality_names(
    sources: Iterable[dict[str, Any]], items: Iterable[dict[str, Any]]
) -> set[str]:
    """Return every municipality name a source is configured for or an item names."""
    names = {source["municipality"] for source in sources if source.get("municipality")}
    names |= {
        name for item in items for name in _item_municipalities(item.get("_regiofeed") or {})
    }
    return names


def _item_municipalities(ext: dict[str, Any]) -> list[str]:
    """Every municipality an item belongs to (``municipalities``, see publish.municipalities)."""
    if ext.get("municipalities"):
        return list(ext["municipalities"])
    return [ext["municipality"]] if ext.get("municipality") else []


def scopes(sources: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[Scope]:
    """List every scope of the tree: the root, one per configured source, one per municipality.

    A municipality has a scope when a source is configured for it or an item names it. Two
    names with the same slug share one folder (the first name in sort order titles it). Order:
    root, sources by id, municipalities by slug, so the list is the same for the same input.
    ``title`` of the root is "" (the caller knows the instance's title).
    """
    result = [ROOT]
    for source in sorted(sources, key=lambda source: source["id"]):
        title = source.get("name") or source["id"]
        result.append(Scope(f"{SOURCES_DIR}{source['id']}/", title, "source", source["id"]))
    by_slug: dict[str, str] = {}
    for name in sorted(_municipality_names(sources, items)):
        slug = municipality_slug(name)
        if slug:
            by_slug.setdefault(slug, name)
    for slug in sorted(by_slug):
        name = by_slug[slug]
        result.append(Scope(f"{MUNICIPALITIES_DIR}{slug}/", name, "municipality", name))
    return result


def items_by_scope(
    scope_list: list[Scope], items: list[dict[str, Any]]
) -> dict[Scope, list[dict[str, Any]]]:
    """Assign items to scopes in one pass over the items (not one per scope).

    The order of ``items`` is kept within every scope, so a list sorted once stays sorted.
    Municipality scopes match by slug, so spelling variants of one name land together.
    """
    return deal(scope_list, items, items)[0]


def deal(
    scope_list: list[Scope], items: list[dict[str, Any]], *orders: list[dict[str, Any]]
) -> list[dict[Scope, list[dict[str, Any]]]]:
    """Deal each of ``orders`` (orderings of some of ``items``) to the scopes, order kept.

    Which scopes an item belongs to is worked out once per item (one pass over ``items``),
    then each ordering is dealt by looking that up: the writers get their scope's items
    sorted as they need them without sorting every scope again.
    """
    by_source = {
        scope.key: number for number, scope in enumerate(scope_list) if scope.kind == "source"
    }
    by_slug = {
        scope.path[len(MUNICIPALITIES_DIR) : -1]: number
        for number, scope in enumerate(scope_list)
        if scope.kind == "municipality"
    }
    # The root holds every item: it gets a copy of each order, not an append per item.
    root = [number for number, scope in enumerate(scope_list) if scope.kind == "all"]
    # 100,000 items name a few dozen places: each name is slugged once.
    slugs: dict[str, str] = {}
    homes: dict[int, list[int]] = {}  # item (by identity) -> the numbers of its other scopes
    for item in items:
        ext = item.get("_regiofeed") or {}
        home = []
        # dict.fromkeys: an item listing one source twice is still in its scope once.
        for source_id in dict.fromkeys(ext.get("sources") or []):
            if source_id in by_source:
                home.append(by_source[source_id])
        for name in dict.fromkeys(_item_municipalities(ext)):
            slug = slugs.get(name)
            if slug is None:
                slug = slugs[name] = municipality_slug(name)
            if slug in by_slug and by_slug[slug] not in home:
                home.append(by_slug[slug])
        homes[id(item)] = home
    dealt = []
    for order in orders:
        lists: list[list[dict[str, Any]]] = [[] for _ in scope_list]
        append = [target.append for target in lists]
        for item in order:
            for number in homes[id(item)]:
                append[number](item)
        for number in root:
            lists[number] = list(order)
        dealt.append(dict(zip(scope_list, lists, strict=True)))
    return dealt
