"""Push the store's items to a Smart Village App mainserver: new and changed ones, removals.

OAuth2 client credentials (RFC 6749 §4.4) from the environment, then one GraphQL mutation per
item (publish.sva). What was sent is kept per item (models.pushed): an item whose mutation is
unchanged is never sent again, since the server deletes and recreates a record on every
create, which churns the app's bookmarks and notifications.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from regiofeed.models.push_config import SVA_CLIENT_ID_ENV, SVA_CLIENT_SECRET_ENV, SvaPushConfig
from regiofeed.models.pushed import (
    Pushed,
    forget_pushed,
    mark_pushed,
    push_health,
    pushed_items,
    record_push,
)
from regiofeed.models.store import Store
from regiofeed.models.tables import utcnow
from regiofeed.publish.atomic import write_if_changed
from regiofeed.publish.sva import Mutation, destroy_mutation, item_mutation

TARGET = "sva"


class PushError(RuntimeError):
    """The target refused or could not be reached; what was sent before stays recorded."""


@dataclass
class PushReport:
    """What one push did."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    error: str | None = None
    sent: list[str] = field(default_factory=list)  # item ids, in order

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "removed": self.removed,
                "unchanged": self.unchanged}


class SvaClient:
    """A GraphQL client for one mainserver, with a client-credentials access token."""

    def __init__(self, config: SvaPushConfig, client_id: str, client_secret: str) -> None:
        self.config = config
        self._credentials = {"grant_type": "client_credentials", "client_id": client_id,
                             "client_secret": client_secret}
        self._http = httpx.Client(timeout=config.timeout)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def _fetch_token(self) -> str:
        try:
            response = self._http.post(self.config.token_url, data=self._credentials)
        except httpx.HTTPError as exc:
            raise PushError(f"token endpoint {self.config.token_url}: {exc}") from None
        if response.status_code != 200:
            raise PushError(f"token endpoint {self.config.token_url}: HTTP "
                            f"{response.status_code}")
        token = response.json().get("access_token")
        if not token:
            raise PushError(f"token endpoint {self.config.token_url}: no access_token")
        return str(token)

    def send(self, mutation: Mutation) -> dict[str, Any]:
        """Send one mutation; return its field's result. Raises PushError on any error."""
        for attempt in (1, 2):
            if self._token is None:
                self._token = self._fetch_token()
            try:
                response = self._http.post(
                    self.config.endpoint, json=mutation.body(),
                    headers={"Authorization": f"Bearer {self._token}"})
            except httpx.HTTPError as exc:
                raise PushError(f"{self.config.endpoint}: {exc}") from None
            if response.status_code == 401 and attempt == 1:
                self._token = None  # expired: one new token, one more try
                continue
            break
        if response.status_code != 200:
            raise PushError(f"{self.config.endpoint}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except json.JSONDecodeError:
            raise PushError(f"{self.config.endpoint}: not JSON") from None
        if answer.get("errors"):
            messages = "; ".join(str(e.get("message")) for e in answer["errors"])
            raise PushError(f"{mutation.field}: {messages}")
        result = (answer.get("data") or {}).get(mutation.field)
        if not isinstance(result, dict):
            raise PushError(f"{mutation.field}: no result")
        return result


def wanted(items: list[dict[str, Any]], config: SvaPushConfig) -> dict[str, Mutation]:
    """The mutation of every item the app should have, by item id."""
    chosen = {}
    for item in items:
        ext = item.get("_regiofeed", {})
        if ext.get("kind", "news") not in config.kinds:
            continue
        if config.sources and not set(ext.get("sources", [])) & set(config.sources):
            continue
        chosen[item["id"]] = item_mutation(item)
    return chosen


def push_sva(config: SvaPushConfig, db_url: str, env: Mapping[str, str] | None = None,
             out_dir: str | Path | None = None) -> PushReport:
    """Bring the app up to date with the store: remove gone items, send new and changed ones.

    Credentials come from REGIOFEED_SVA_CLIENT_ID and REGIOFEED_SVA_CLIENT_SECRET in `env`
    (default: os.environ). Nothing is sent, not even for a token, when nothing changed. A
    failure stops the push and is in the report's `error` (and health.json); items sent
    before it stay recorded, so the next push goes on from there. With `out_dir`, the
    published health.json gets the push's outcome.
    """
    env = os.environ if env is None else env
    report = PushReport()
    started = utcnow()
    with Store(db_url) as store, store.lock("push-sva"):
        engine = store.engine
        desired = wanted(store.items(), config)
        have = pushed_items(engine, TARGET)
        removals = [p for item_id, p in sorted(have.items()) if item_id not in desired]
        sends = []
        for item_id, mutation in desired.items():
            known = have.get(item_id)
            if known is not None and known.content_hash == mutation.content_hash():
                report.unchanged += 1
            else:
                sends.append((item_id, mutation, known))
        client = None
        try:
            if removals or sends:
                client_id, secret = env.get(SVA_CLIENT_ID_ENV), env.get(SVA_CLIENT_SECRET_ENV)
                if not client_id or not secret:
                    raise PushError(f"set {SVA_CLIENT_ID_ENV} and {SVA_CLIENT_SECRET_ENV}")
                client = SvaClient(config, client_id, secret)
            for gone in removals:
                if gone.remote_id is not None:
                    result = client.send(destroy_mutation(gone.record_type, gone.remote_id))
                    # 404: already removed at the app; anything else is a refusal.
                    if result.get("statusCode") not in (200, 404, None):
                        raise PushError(f"destroyRecord {gone.remote_id}: "
                                        f"{result.get('status')}")
                forget_pushed(engine, TARGET, gone.item_id)
                report.removed += 1
            for item_id, mutation, known in sends:
                result = client.send(mutation)  # type: ignore[union-attr]
                remote_id = result.get("id")
                mark_pushed(engine, TARGET, Pushed(item_id, mutation.record_type,
                                                   str(remote_id) if remote_id else None,
                                                   mutation.content_hash()))
                if known is None:
                    report.created += 1
                else:
                    report.updated += 1
                report.sent.append(item_id)
        except PushError as exc:
            report.error = str(exc)
        finally:
            if client is not None:
                client.close()
        record_push(engine, TARGET, started, report.error, report.counts())
        if out_dir is not None:
            _update_health(Path(out_dir), push_health(engine))
    return report


def _update_health(out_dir: Path, push: dict[str, Any]) -> None:
    """Put the pushes' outcome into the published health.json (written atomically)."""
    path = out_dir / "health.json"
    try:
        health = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # nothing published yet: the next publication carries it
    health["push"] = push
    text = json.dumps(health, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    write_if_changed(path, text.encode("utf-8"))
