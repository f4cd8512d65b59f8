"""index.html as a person sees it: headless Chromium, driven over the DevTools protocol, against
`regiofeed serve` on 127.0.0.1, at phone width."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import os
import queue
import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import realistic_tree as region
from test_publish import HEALTH, ITEMS, SETTINGS, SOURCES, TODAY
from test_serve import LiveServer

from regiofeed.publish import publish_all

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, as BITV 2.0 asks, plus axe's best practices (unique landmarks, headings).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 1200, "deviceScaleFactor": 1, "mobile": True}
TIMEOUT = 60  # seconds; generous, the machine is shared


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


class Tab:
    """One page of the browser, spoken to over its DevTools WebSocket (CDP)."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect  # websockets comes with Prefect

        self.ws = connect(ws_url, max_size=None, open_timeout=TIMEOUT)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a CDP method and return its result; events that arrive meanwhile are kept."""
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=TIMEOUT))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        while not any(message.get("method") == event for message in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=TIMEOUT)))
        self.events.clear()

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def js_async(self, expression: str) -> Any:
        """Evaluate an expression that yields a promise; return what it resolves to."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)  # fmt: skip
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """Click the element like a person: at its centre, with the mouse, then wait for load."""
        box = self.js(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        self.events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1],
                      button="left", clickCount=1)  # fmt: skip
        self.wait_for("Page.loadEventFired")

    def press_tab(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab",
                      windowsVirtualKeyCode=9)  # fmt: skip

    def screenshot(self) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Headless Chromium with DevTools on a port of its choosing; yields the HTTP endpoint."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium found (Debian: apt-get install chromium; `make browser`)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr
    threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=TIMEOUT)
            found = re.search(r"DevTools listening on ws://(127\.0\.0\.1:\d+)/", line)
            if found:
                break
        yield f"http://{found.group(1)}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("browser") / "public"
    publish_all(root, copy.deepcopy(ITEMS), SOURCES, HEALTH, SETTINGS, today=TODAY)
    with LiveServer(root) as server:
        yield server


@pytest.fixture
def tab(chromium: str) -> Iterator[Tab]:
    targets = httpx.get(f"{chromium}/json/list", timeout=TIMEOUT).json()
    page = next(target for target in targets if target["type"] == "page")
    tab = Tab(page["webSocketDebuggerUrl"])
    tab.send("Page.enable")
    tab.send("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        yield tab
    finally:
        tab.close()


def text_of(tab: Tab, selector: str) -> list[str]:
    """The rendered text (innerText: what is laid out, as shown) of every match."""
    return tab.js(
        f"[...document.querySelectorAll({json.dumps(selector)})].map(e => e.innerText.trim())"
    )


def test_a_person_on_a_phone_sees_events_dates_filter_and_sources(
    tab: Tab, site: LiveServer, tmp_path: Path
) -> None:
    tab.open(site.base + "/")

    assert tab.js("document.documentElement.lang") == "de"
    assert tab.js("document.title") == "Hoher Fläming aktuell"
    # Upcoming events, grouped by day, with German dates, places and municipalities.
    events = tab.js("document.querySelector('section[aria-labelledby=veranstaltungen]').innerText")
    assert text_of(tab, "#veranstaltungen ~ .group h3") == [
        "Do., 5. September 2024", "Di., 10. September 2024"]  # fmt: skip
    assert "Bad Belzig · Quelle" in events and "Wiesenburg/Mark · Quelle" in events
    assert "Do., 5. September 2024, 10:00–17:00 Uhr" in events
    assert "Di., 10. September 2024, 18:00–19:30 Uhr" in events
    assert "Kulturzentrum Bad Belzig, Weitzgrunder Str. 4, 14806 Bad Belzig" in events
    assert "Burgfest" not in events
    # The municipality filter.
    assert text_of(tab, "nav.filter a") == ["Alle Gemeinden", "Bad Belzig", "Wiesenburg/Mark"]
    # The sources with their health, one block each on a phone.
    sources = text_of(tab, "section[aria-labelledby=quellen] tbody tr")
    assert len(sources) == 3
    assert "Stadt Bad Belzig – Aktuelles" in sources[0] and "in Ordnung" in sources[0]
    assert "fehlgeschlagen" in sources[1]
    assert "So., 1. September 2024, 06:00 Uhr" in sources[0]
    # Nothing sticks out sideways at 390 px.
    assert tab.js("document.documentElement.scrollWidth") <= PHONE["width"]
    png = tab.screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (PHONE["width"], PHONE["height"])
    (tmp_path / "phone.png").write_bytes(png)


def test_the_filter_leads_to_one_municipality(tab: Tab, site: LiveServer) -> None:
    tab.open(site.base + "/")
    tab.click("nav.filter a[href='municipalities/wiesenburg-mark/index.html']")

    assert tab.js("location.pathname") == "/municipalities/wiesenburg-mark/index.html"
    assert text_of(tab, "h1") == ["Wiesenburg/Mark"]
    assert text_of(tab, "nav.filter a[aria-current=page]") == ["Wiesenburg/Mark"]
    main = tab.js("document.querySelector('main').innerText")
    assert "Online-Sprechstunde Breitbandausbau" in main
    assert "Straßensperrung „Am Schloß“ & Umleitung" in main
    assert "Regionalkonferenz" not in main
    # The page's own feeds answer.
    hrefs = tab.js("[...document.querySelectorAll('#abonnieren ~ div a')].map(a => a.href)")
    assert hrefs and all(httpx.get(href).status_code == 200 for href in hrefs)

    tab.click("nav.filter a[aria-current=page] ~ a, nav.filter li:first-child a")
    assert tab.js("location.pathname") == "/index.html"


def test_the_skip_link_is_the_first_stop_and_shows_when_focused(
    tab: Tab, site: LiveServer
) -> None:
    tab.open(site.base + "/")
    tab.press_tab()
    assert tab.js("document.activeElement.innerText") == "Zum Inhalt springen"
    assert tab.js("document.activeElement.getBoundingClientRect().left") >= 0
    assert tab.js("document.activeElement.getAttribute('href')") == "#inhalt"


@pytest.fixture(scope="module")
def region_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The realistic region: nine sources, five municipalities, sixty events, many news."""
    root = tmp_path_factory.mktemp("region") / "public"
    publish_all(root, region.items(), region.SOURCES, region.health(), SETTINGS,
                today=region.TODAY)  # fmt: skip
    with LiveServer(root) as server:
        yield server


def axe_violations(tab: Tab) -> list[str]:
    """Run axe-core on the open page; return one line per violation and element."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} missing: run `make js` (npm ci in tests/js)")
    tab.js(AXE.read_text("utf-8"))
    options = json.dumps({"runOnly": {"type": "tag", "values": AXE_TAGS}})
    found = tab.js_async(
        f"axe.run(document, {options}).then(r => r.violations.map(v => v.nodes.map("
        "n => `${v.id} (${v.impact}): ${v.help} at ${n.target.join(' ')}`)).flat())"
    )
    return list(found)


@pytest.mark.parametrize("path", ["/", "/municipalities/bad-belzig/index.html",
                                  "/sources/naturpark/index.html"])
@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_axe_core_finds_no_wcag_2_1_aa_problem_on_a_full_page(
    tab: Tab, region_site: LiveServer, path: str, screen: dict[str, Any]
) -> None:
    tab.send("Emulation.setDeviceMetricsOverride", **screen)
    tab.open(region_site.base + path)
    assert len(tab.js("[...document.querySelectorAll('main li')]")) >= 5
    assert axe_violations(tab) == []


def test_the_search_box_finds_items_as_one_types(tab: Tab, region_site: LiveServer) -> None:
    tab.open(region_site.base + "/municipalities/borsdorf/index.html")
    assert tab.js("document.getElementById('suche').hidden") is False  # shown once scripts run
    tab.js("document.getElementById('suchfeld').focus()")
    tab.send("Input.insertText", text="topfermarkt gorzke")  # without umlauts, still found
    tab.js_async("new Promise(r => setTimeout(r, 500))")
    hits = text_of(tab, "#treffer li")
    assert len(hits) == 3  # a "Töpfermarkt in Görzke", the Görzker Töpfermarkt and its news
    assert any(hit.startswith("Görzker Töpfermarkt am Wochenende") for hit in hits)
    assert text_of(tab, "#suchstatus") == ["3 Treffer:"]
    links = tab.js("[...document.querySelectorAll('#treffer a')].map(a => a.href)")
    assert "https://www.goerzke.de/aktuelles/toepfermarkt-2024" in links


def test_on_a_phone_every_calendar_link_of_the_feed_table_is_on_screen(
    tab: Tab, region_site: LiveServer
) -> None:
    tab.open(region_site.base + "/")
    rights = tab.js(
        "[...document.querySelectorAll('table.links td a[type=\"text/calendar\"]')]"
        ".map(a => a.getBoundingClientRect().right)"
    )
    assert len(rights) == 5 + 9  # every municipality and every source
    assert max(rights) <= PHONE["width"]
    assert tab.js("document.documentElement.scrollWidth") <= PHONE["width"]
