"""Prefect flows and tasks that drive a regiofeed run, and the `regiofeed` command line."""

import os

# Prefect reads its settings when first imported, so the defaults that keep it offline and
# patient on a small machine are set before any module here imports it (STACK.md).
for _name, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_CLIENT_ENABLE_METRICS": "false",
}.items():
    os.environ.setdefault(_name, _value)
