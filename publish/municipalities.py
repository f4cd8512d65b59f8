"""Which municipalities an item belongs to: that of its place and that of every source."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from regiofeed.publish.context import Item, Source
from regiofeed.publish.scopes import municipality_slug


def assign(items: list[Item], sources: list[Source]) -> list[Item]:
    """Return the items with ``_regiofeed.municipalities``: every configured municipality the
    item belongs to, and ``_regiofeed.municipality`` the first of them.

    An item belongs to the municipality of each source it came from and to the one its event
    takes place in. The place is matched to a configured municipality (a source's
    ``municipality``) by its locality ("Wiesenburg" matches "Wiesenburg/Mark"), else by its
    postal code, as far as another event of this run showed that code in that municipality.
    The place's municipality comes first: an event held in Bad Belzig is Bad Belzig's, even
    when its main source is a federal programme. Items that need no change are returned as
    they are; the others as copies (the input is not changed).
    """
    configured = {municipality_slug(s["municipality"]): s["municipality"]
                  for s in sources if s.get("municipality")}  # fmt: skip
    of_source = {s["id"]: s["municipality"] for s in sources if s.get("municipality")}
    postal = _postal_codes(items, configured)
    result = []
    for item in items:
        ext = item.get("_regiofeed") or {}
        names = [
            _place(ext, configured, postal),
            ext.get("municipality"),
            *(of_source.get(source_id) for source_id in ext.get("sources") or []),
        ]
        found = _unique(name for name in names if name)
        if not found or (found == [ext.get("municipality")] and "municipalities" not in ext):
            result.append(item)
            continue
        result.append({**item, "_regiofeed": {**ext, "municipality": found[0],
                                              "municipalities": found}})  # fmt: skip
    return result


def of_item(item: Item) -> list[str]:
    """Return every municipality of an item (after ``assign``; before it, the one it names)."""
    ext = item.get("_regiofeed") or {}
    if ext.get("municipalities"):
        return list(ext["municipalities"])
    return [ext["municipality"]] if ext.get("municipality") else []


def _location(ext: dict[str, Any]) -> dict[str, Any]:
    return ((ext.get("event") or {}).get("location")) or {}


def _by_locality(locality: str | None, configured: dict[str, str]) -> str | None:
    """Match a locality to a configured municipality by slug, with or without its suffix.

    >>> _by_locality("Wiesenburg", {"wiesenburg-mark": "Wiesenburg/Mark"})
    'Wiesenburg/Mark'
    """
    if not locality:
        return None
    slug = municipality_slug(locality)
    if slug in configured:
        return configured[slug]
    for name in configured.values():
        if municipality_slug(name.split("/")[0]) == slug:
            return name
    return None


def _postal_codes(items: list[Item], configured: dict[str, str]) -> dict[str, str]:
    """Learn postal code -> municipality from places that name both, unambiguous codes only."""
    seen: dict[str, set[str]] = {}
    for item in items:
        location = _location(item.get("_regiofeed") or {})
        name = _by_locality(location.get("locality"), configured)
        if name and location.get("postal_code"):
            seen.setdefault(str(location["postal_code"]), set()).add(name)
    return {code: names.pop() for code, names in seen.items() if len(names) == 1}


def _place(ext: dict[str, Any], configured: dict[str, str], postal: dict[str, str]) -> str | None:
    location = _location(ext)
    return _by_locality(location.get("locality"), configured) or postal.get(
        str(location.get("postal_code") or "")
    )


def _unique(names: Iterable[str]) -> list[str]:
    """Drop repeats by slug, first spelling kept."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(municipality_slug(name), name)
    return list(seen.values())
