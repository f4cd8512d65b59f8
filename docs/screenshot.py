"""Make docs/screenshot-phone.png and docs/screenshot-desktop.png: the demo's index.html as
headless Chromium shows it at a phone's and a desktop's width.

Usage: .venv/bin/python docs/screenshot.py [OUT_DIR]

Runs the real pipeline against the bundled demo sites (as `regiofeed demo` does) and publishes
the result as of today: the demo's event calendar always lies in the coming weeks, so the
page shows upcoming events. Serves the tree with `regiofeed serve`'s app on 127.0.0.1 and
photographs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from regiofeed.flows.demo.server import render_demo_sources, serve_demo_sites
from regiofeed.flows.serve import create_app
from regiofeed.models.sources import load_sources
from regiofeed.models.store import Store
from regiofeed.publish import PublishSettings, publish_all

# width,height: a phone's width, tall enough for the events; a desktop's first screen and more.
WINDOWS = {"phone": "390,1700", "desktop": "1280,1200"}
HERE = Path(__file__).resolve().parent


def build_tree(work: Path) -> Path:
    """Crawl the demo sites into a store, then publish it as of today; return the tree."""
    out, db_url = work / "public", f"sqlite:///{work / 'demo.db'}"
    with serve_demo_sites(first_port=0) as bases:
        sources_file = work / "sources.toml"
        sources_file.write_text(render_demo_sources(bases), encoding="utf-8")
        regiofeed = Path(sys.executable).with_name("regiofeed")
        subprocess.run(
            [str(regiofeed), "run", "--all", "--silent", "--sources", str(sources_file),
             "--db", db_url, "--out", str(out)],
            check=True, cwd=work,
        )  # fmt: skip
    config = load_sources(sources_file)
    with Store(db_url) as store:
        items = store.items()
        health = {"sources": store.health([source.id for source in config.sources])}
    # The same source dicts as flows/aggregate.py's publish_store hands to publish_all.
    sources = [
        {**s.model_dump(mode="json", exclude_none=True, exclude={"selectors", "max_pages"}),
         "licence": s.licence_uri}
        for s in config.sources
    ]  # fmt: skip
    settings = PublishSettings(**config.publish.model_dump())
    publish_all(out, items, sources, health, settings)
    return out


def photograph(tree: Path, targets: dict[str, Path], work: Path) -> None:
    """Serve ``tree`` on 127.0.0.1 and let Chromium photograph its first page at each width."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(tree), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        for name, target in targets.items():
            subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={work / 'chromium'}",
                 f"--window-size={WINDOWS[name]}", f"--screenshot={target}",
                 f"http://127.0.0.1:{port}/"],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def main() -> None:
    folder = (Path(sys.argv[1]) if len(sys.argv) > 1 else HERE).resolve()
    targets = {name: folder / f"screenshot-{name}.png" for name in WINDOWS}
    with tempfile.TemporaryDirectory(prefix="regiofeed-screenshot-") as tmp:
        work = Path(tmp)
        photograph(build_tree(work), targets, work)
    for target in targets.values():
        print(target)


if __name__ == "__main__":
    main()
