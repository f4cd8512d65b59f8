"""Tell operators when a source breaks and when it recovers: by webhook, by e-mail, or both."""

from __future__ import annotations

import json
import logging
import os
import smtplib
import urllib.request
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Any

from regiofeed.models.health import BROKEN
from regiofeed.models.sources import NotifyConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """A source that went from working to broken, or back."""

    event: str  # "broken" or "recovered"
    source: str
    name: str
    status: str
    previous: str
    reason: str | None = None
    error: str | None = None
    last_success: str | None = None

    def line(self) -> str:
        if self.event == "recovered":
            return f"{self.name} ({self.source}) works again."
        why = self.error or self.reason or self.status
        return f"{self.name} ({self.source}) is {self.status}: {why}"


def changes(before: dict[str, Any], after: dict[str, Any], names: dict[str, str]) -> list[Change]:
    """Compare two health reports (per source) and list who broke and who recovered.

    >>> changes({"a": {"status": "ok"}}, {"a": {"status": "failed", "error": "HTTP 500"}},
    ...         {"a": "Stadt"})[0].line()
    'Stadt (a) is failed: HTTP 500'
    """
    found = []
    for source_id, now in after.items():
        was = before.get(source_id, {}).get("status", "never")
        status = now.get("status", "never")
        event = None
        if status in BROKEN and was not in BROKEN:
            event = "broken"
        elif status == "ok" and was in BROKEN:
            event = "recovered"
        if event:
            found.append(Change(event, source_id, names.get(source_id, source_id), status, was,
                                now.get("reason"), now.get("error"), now.get("last_success")))
    return found


def send_webhook(url: str, found: list[Change], timeout: float = 10) -> None:
    """POST the changes as JSON; raise OSError when the hook cannot be reached."""
    body = json.dumps({"text": "\n".join(c.line() for c in found),
                       "changes": [asdict(c) for c in found]}, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        answer.read()


def send_mail(config: NotifyConfig, found: list[Change], timeout: float = 20) -> None:
    """Send one e-mail listing the changes; raise smtplib/OSError errors on failure."""
    assert config.smtp_host and config.mail_from and config.mail_to
    broken = sum(1 for c in found if c.event == "broken")
    message = EmailMessage()
    message["Subject"] = (f"regiofeed: {broken} Quelle(n) gestört" if broken
                          else "regiofeed: Quellen wieder in Ordnung")
    message["From"] = config.mail_from
    message["To"] = ", ".join(config.mail_to)
    message.set_content("\n".join(c.line() for c in found) + "\n")
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout) as smtp:
        if config.smtp_starttls:
            smtp.starttls()
        if config.smtp_user:
            smtp.login(config.smtp_user, os.environ.get(config.smtp_password_env or "", ""))
        smtp.send_message(message)


def notify(config: NotifyConfig, found: list[Change]) -> list[str]:
    """Send every configured notification; return the problems (a failure never stops a run)."""
    problems = []
    if not found:
        return problems
    if config.webhook:
        try:
            send_webhook(config.webhook, found)
        except OSError as exc:
            problems.append(f"webhook {config.webhook}: {exc}")
    if config.smtp_host:
        try:
            send_mail(config, found)
        except (OSError, smtplib.SMTPException) as exc:
            problems.append(f"mail via {config.smtp_host}: {exc}")
    for problem in problems:
        logger.warning("notification failed: %s", problem)
    return problems
