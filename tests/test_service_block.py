"""The README's "Running it as a service" block, pasted as is into a fresh bash, reaches a
published tree: Prefect server up, deployments made, a worker running, one run done."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- service-block:"
TIMEOUT = 900  # seconds: make demo, a Prefect server's first start and one flow run


def service_block() -> str:
    """The console block right after the marker in README.md, as the reader sees it."""
    text = (ROOT / "README.md").read_text("utf-8")
    after = text[text.index(MARKER):]
    match = re.search(r"```console\n(.*?)```", after, re.S)
    assert match, "no console block after the service-block marker"
    return match.group(1)


def stop_group(pgid: int) -> None:
    """Stop every process the block started: TERM, up to 30 s to finish, then KILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
        for _ in range(30):
            time.sleep(1)
            os.killpg(pgid, 0)  # raises once the group is empty
        os.killpg(pgid, signal.SIGKILL)


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(os.environ.get("REGIOFEED_TEST_SERVICE") != "1",
                    reason="takes minutes (make demo, a Prefect server, a worker, a flow run): "
                    "set REGIOFEED_TEST_SERVICE=1 to run it")  # fmt: skip
def test_readme_service_block_pasted_into_bash_publishes_the_tree(tmp_path: Path) -> None:
    if port_in_use(4200):
        pytest.skip("port 4200 is taken: the README's block starts its Prefect server there")
    block = service_block()
    assert "--watch" in block and "&" in block  # the run is waited for, server/worker in bg
    (ROOT / "public" / "index.html").unlink(missing_ok=True)
    # A fresh shell: no venv active, a new home (so a new PREFECT_HOME), the system PATH.
    env = {"HOME": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    process = subprocess.Popen(["bash", "-e", "-c", block], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # fmt: skip
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    finally:
        stop_group(process.pid)  # the block leaves server and worker running, as it says
    assert process.returncode == 0, output[-4000:]
    assert "Completed" in output, output[-4000:]
    assert (ROOT / "public" / "index.html").is_file()
    assert (ROOT / "public" / "events.ics").is_file()
