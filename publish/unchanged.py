"""Whether a publication's input is the one the tree was last rendered from: warm runs skip it.

Every file of the tree but `health.json` is a function of the published items, the sources,
the publish settings, the day (what is "upcoming"), what the pages show of each source's
health, and the code that renders them. A fingerprint of those, kept beside the tree
(`.<tree>.input`, next to the tree's lock), tells a run over unchanged sites that rendering
would find every file as it is: it writes `health.json` alone and reads no item.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from regiofeed.publish import health as health_json
from regiofeed.publish.atomic import write_if_changed
from regiofeed.publish.context import PublishSettings
from regiofeed.publish.html import PAGE_HEALTH_KEYS

PUBLISH_CODE = Path(__file__).resolve().parent
HEALTH = health_json.PATH


@cache
def _code_version() -> str:
    """The renderers' code and templates as they are in this process (an upgrade re-renders)."""
    digest = hashlib.sha256()
    for path in sorted(PUBLISH_CODE.rglob("*")):
        if path.suffix in (".py", ".j2", ".css", ".js", ".html") and path.is_file():
            info = path.stat()
            digest.update(f"{path.relative_to(PUBLISH_CODE)}:{info.st_size}:"
                          f"{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def input_fingerprint(marker: list[Any], sources: list[dict[str, Any]], health: dict[str, Any],
                      settings: PublishSettings, today: date) -> str:
    """One hash of everything the tree but health.json is rendered from.

    `marker` stands for the published items (models.store_reading.publication_marker).
    """
    shown = {source_id: {key: entry.get(key) for key in PAGE_HEALTH_KEYS}
             for source_id, entry in sorted(health.get("sources", {}).items())}
    state = {"items": marker, "sources": sources, "health": shown,
             "settings": settings.model_dump(mode="json"), "today": today.isoformat(),
             "code": _code_version()}
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def _sidecar(out_dir: Path) -> Path:
    out = Path(out_dir).absolute()
    return out.parent / f".{out.name}.input"


def rendered_from(out_dir: Path) -> dict[str, Any] | None:
    """What the tree was last rendered from ({"fingerprint", "files"}), None if unknown."""
    if not (Path(out_dir) / HEALTH).is_file():
        return None  # no tree (or not ours): render it
    try:
        found = json.loads(_sidecar(out_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def remember(out_dir: Path, fingerprint: str, files: list[Path]) -> None:
    """Note the input the tree now stands for, and its files (after a publication succeeded)."""
    relative = sorted(str(Path(path).relative_to(out_dir)) for path in files)
    write_if_changed(_sidecar(out_dir), json.dumps(
        {"fingerprint": fingerprint, "files": relative}).encode())


def forget(out_dir: Path) -> None:
    """Before a publication: until it succeeds, the tree stands for no known input."""
    _sidecar(out_dir).unlink(missing_ok=True)


def write_health(out_dir: Path, health: dict[str, Any]) -> bool:
    """Write health.json alone, atomically; True if its bytes changed."""
    return write_if_changed(Path(out_dir) / health_json.PATH, health_json.encode(health))
