"""Benchmark the crawl: plain Scrapy against `regiofeed run --all`, cold and warm, one local web.

    .venv/bin/python bench/bench_crawl.py --sources 100
    .venv/bin/python bench/bench_crawl.py --sources 1000

It generates a web of N sources, each on its own origin (127.0.0.1, one port per source): RSS
and Atom feeds, iCalendar files and paginated HTML news lists with a detail page per entry, in
German, one in ten items a reworded copy of another source's item (the same thing, for dedupe
to merge). A server process serves it (ETag, Last-Modified, 304). Then, side by side: a plain
Scrapy crawl of every page (no parsing, 16 concurrent requests, no delay), and `regiofeed run
--all` twice, cold (empty store) and warm (nothing changed), with 16 sources crawled at once,
no delay. Printed: wall and CPU seconds (the process and all its children), pages per second,
the crawl window (first to last request the server saw), peak memory (summed over the process
tree), and the items published against the things expected: each thing once, none lost.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("rss", "atom", "ical", "html", "html")
FEED_ITEMS = 20
LIST_PAGES = 4
PER_LIST = 10
REWORDED = 0.1
START = date(2026, 12, 1)

PLACES = ["Bad Belzig", "Wiesenburg", "Niemegk", "Treuenbrietzen", "Brück", "Borkheide",
          "Planetal", "Rabenstein", "Görzke", "Ziesar", "Beelitz", "Golzow", "Lehnin"]
EVENTS = ["Sommerfest", "Weihnachtsmarkt", "Seniorennachmittag", "Bürgersprechstunde",
          "Lesung in der Bibliothek", "Konzert des Kammerchors", "Flohmarkt", "Laternenumzug",
          "Vortrag zur Ortsgeschichte", "Kinderfest", "Gemeindevertretersitzung", "Wanderung"]
NEWS = ["Gemeindevertretung beschließt", "Bürgerbefragung zu", "Neue Regeln für",
        "Informationsabend zu", "Ortsbeirat berät über", "Förderbescheid für",
        "Bauarbeiten an", "Ergebnisse der Umfrage zu", "Stellungnahme der Verwaltung zu"]
FIRST = ["Anna", "Bernd", "Clara", "Dieter", "Elke", "Frank", "Gisela", "Heiko", "Ines",
         "Jürgen", "Katrin", "Lutz", "Monika", "Norbert", "Petra", "Ralf", "Sabine", "Torsten",
         "Ulrike", "Volker", "Wiebke", "Yvonne"]
LAST = ["Schulze", "Krüger", "Lehmann", "Neumann", "Schmidt", "Wendt", "Zimmermann", "Köhler",
        "Richter", "Hoffmann", "Brandt", "Lorenz", "Voigt", "Engel", "Fuchs", "Seidel"]
CLUBS = ["Heimatverein", "Förderverein der Grundschule", "Sportverein Grün-Weiß",
         "Freiwillige Feuerwehr", "Kulturverein", "Anglerverein", "Chor Harmonie",
         "Seniorenbeirat", "Jugendclub", "Naturschutzbund", "Landfrauenverein"]
STREETS = ["Hauptstraße", "Lindenallee", "Am Markt", "Bahnhofstraße", "Schulweg",
           "Mühlenweg", "Kirchplatz", "Gartenstraße", "Am Anger", "Waldweg", "Brunnenstraße"]
TOPICS = ["Kita-Beiträge", "Straßenbeleuchtung", "Dorfgemeinschaftshaus", "Feuerwehrgerätehaus",
          "Regenwasserableitung", "Breitbandanschluss", "Friedhofssatzung", "Buslinie 580",
          "Radwegenetz", "Jugendbeteiligung", "Denkmalpflege", "Streuobstwiese"]


REWORDINGS = [("Treffpunkt ist", "Man trifft sich an der Adresse"),
              ("berichtet über", "erzählt von"), ("stehen", "sind"),
              ("werden zu", "kommen voraussichtlich zu")]


NOUNS = ["Spielplatz", "Sporthalle", "Feuerwache", "Bibliothek", "Dorfkirche", "Kita",
         "Grundschule", "Jugendclub", "Rathaus", "Marktplatz", "Friedhof", "Badestelle",
         "Sportplatz", "Radweg", "Gehweg", "Bushaltestelle", "Heimatstube", "Museum",
         "Mühle", "Brücke", "Teich", "Streuobstwiese", "Waldbad", "Festwiese", "Scheune",
         "Pfarrhaus", "Bauhof", "Wertstoffhof", "Turnhalle", "Mensa", "Schulhof",
         "Gemeindesaal", "Kegelbahn", "Reithalle", "Aussichtsturm", "Wanderweg",
         "Naturlehrpfad", "Kräutergarten", "Backofen", "Bahnhof", "Parkplatz",
         "Ladestation", "Glasfaserleitung", "Trinkwasserleitung", "Kläranlage",
         "Löschteich", "Dorfplatz", "Seniorentreff", "Familienzentrum", "Tafel",
         "Kleiderkammer", "Heimatfest", "Erntefest", "Osterfeuer", "Maibaum",
         "Adventsmarkt", "Skatturnier", "Fußballturnier", "Tanzabend", "Filmabend"]
ADJECTIVES = ["neue", "alte", "sanierte", "geplante", "beliebte", "gestrichene",
              "barrierefreie", "erweiterte", "umgebaute", "historische", "kleine",
              "große", "gemeinsame", "öffentliche", "ehrenamtliche", "jährliche",
              "traditionelle", "moderne", "digitale", "gesperrte"]
VERBS = ("wird eröffnet", "wird saniert", "bleibt geschlossen", "erhält Fördermittel",
         "wird erweitert", "sucht Helfer", "feiert Jubiläum", "wird eingeweiht",
         "braucht Spenden", "zieht um", "wird gereinigt", "bekommt ein neues Dach",
         "öffnet wieder", "wird vorgestellt", "lädt zum Mitmachen ein", "wird neu gestaltet")
WHEN = ("am Vormittag", "am Wochenende", "ab Montag", "bis Ende des Monats", "im Frühjahr",
        "nach den Ferien", "ab sofort", "in der kommenden Woche", "am Nachmittag")


def _sentence(rng: random.Random, place: str) -> str:
    frame = rng.randrange(6)
    noun, other = rng.sample(NOUNS, 2)
    adjective, verb, when = rng.choice(ADJECTIVES), rng.choice(VERBS), rng.choice(WHEN)
    who = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if frame == 0:
        return f"Die {adjective} {noun} in {place} {verb}, {when}."
    if frame == 1:
        return f"{who} vom {rng.choice(CLUBS)} berichtet über {other} und {noun}."
    if frame == 2:
        return (f"Für {noun} und {other} stehen {rng.randint(2, 90) * 500} Euro bereit, "
                f"sagt {who}.")
    if frame == 3:
        return f"Treffpunkt ist {rng.choice(STREETS)} {rng.randint(1, 80)}, neben {other}."
    if frame == 4:
        return f"Auch {other} {rng.choice(VERBS)}, {rng.choice(WHEN)}, so {who}."
    return f"Rund {rng.randint(20, 400)} Gäste werden zu {noun} erwartet."


def _sentences(rng: random.Random, place: str) -> list[str]:
    return [_sentence(rng, place) for _ in range(rng.randint(4, 6))]


@dataclass
class Thing:
    """One real-world news item or event; `az` is the file number its text carries."""

    az: str
    title: str
    kind: str
    day: date
    place: str
    text: str
    hour: int


def _thing(rng: random.Random, n: int) -> Thing:
    place = rng.choice(PLACES)
    noun = rng.choice(NOUNS)
    if rng.random() < 0.5:
        title = f"{rng.choice(EVENTS)}: {rng.choice(ADJECTIVES)} {noun}"
        kind, day = "event", START + timedelta(days=rng.randint(1, 120))
    else:
        title = f"{rng.choice(NEWS)} {noun}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        kind, day = "news", START - timedelta(days=rng.randint(0, 60))
    az = f"Az. {2026}-{n:06d}"
    text = " ".join(_sentences(rng, place)) + f" ({az})"
    return Thing(az, f"{title} in {place}", kind, day, place, text,
                 rng.choice([10, 14, 16, 18, 19]))


def _reworded(thing: Thing) -> Thing:
    text = thing.text
    for old, new in REWORDINGS:
        text = text.replace(old, new)
    title = thing.title.replace(" in ", " – ", 1)
    return Thing(thing.az, title, thing.kind, thing.day, thing.place, text, thing.hour)


def build_web(n_sources: int, seed: int = 7) -> tuple[list[dict[str, tuple[bytes, str]]],
                                                      list[str], set[str]]:
    """Per source its pages ({path: (body, type)} with `{{base}}` for its origin), its kind,
    and the file numbers of every distinct thing expected."""
    rng = random.Random(seed)
    counter = 0
    sites: list[dict[str, tuple[bytes, str]]] = []
    kinds: list[str] = []
    things_of: list[list[Thing]] = []
    for i in range(n_sources):
        kind = KINDS[i % len(KINDS)]
        count = LIST_PAGES * PER_LIST if kind == "html" else FEED_ITEMS
        items = []
        for _ in range(count):
            # A calendar holds events only, and no copies (a copy would change its kind).
            if kind != "ical" and things_of and rng.random() < REWORDED:
                other = rng.choice(things_of)
                if other:
                    items.append(_reworded(rng.choice(other)))
                    continue
            counter += 1
            thing = _thing(rng, counter)
            if kind == "ical" and thing.kind != "event":
                thing = Thing(thing.az, thing.title, "event",
                              START + timedelta(days=10 + counter % 90), thing.place,
                              thing.text, thing.hour)
            items.append(thing)
        things_of.append(items)
        kinds.append(kind)
        sites.append(_pages(kind, items))
    expected = {t.az for ts in things_of for t in ts}
    return sites, kinds, expected


def _rfc822(day: date) -> str:
    return formatdate(datetime(day.year, day.month, day.day, 9, tzinfo=UTC).timestamp(),
                      usegmt=True)


def _pages(kind: str, items: list[Thing]) -> dict[str, tuple[bytes, str]]:
    pages: dict[str, tuple[bytes, str]] = {"/robots.txt": (b"User-agent: *\nDisallow:\n",
                                                           "text/plain")}
    if kind == "rss":
        entries = "".join(
            f"<item><title>{t.title}</title><link>{{{{base}}}}/meldung/{t.az[-6:]}</link>"
            f"<guid>{t.az}</guid><pubDate>{_rfc822(t.day)}</pubDate>"
            f"<description>{t.text}</description></item>" for t in items)
        pages["/feed.xml"] = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
                              f"<channel><title>Aktuelles</title><link>{{{{base}}}}/</link>"
                              f"{entries}</channel></rss>").encode(), "application/rss+xml"
    elif kind == "atom":
        entries = "".join(
            f"<entry><title>{t.title}</title><link href=\"{{{{base}}}}/beitrag/{t.az[-6:]}\"/>"
            f"<id>urn:az:{t.az[-6:]}</id><updated>{t.day.isoformat()}T09:00:00Z</updated>"
            f"<summary>{t.text}</summary></entry>" for t in items)
        pages["/atom.xml"] = (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns='
                              f'"http://www.w3.org/2005/Atom"><title>Neuigkeiten</title>'
                              f"<id>urn:feed</id><updated>2026-12-01T09:00:00Z</updated>"
                              f"{entries}</feed>").encode(), "application/atom+xml"
    elif kind == "ical":
        events = "".join(
            f"BEGIN:VEVENT\r\nUID:{t.az[-6:]}@bench\r\nDTSTAMP:20261201T090000Z\r\n"
            f"DTSTART;TZID=Europe/Berlin:{t.day:%Y%m%d}T{t.hour:02d}0000\r\n"
            f"SUMMARY:{t.title}\r\nLOCATION:{t.place}\r\nDESCRIPTION:{t.text}\r\nEND:VEVENT\r\n"
            for t in items)
        pages["/termine.ics"] = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//DE\r\n"
                                 f"{events}END:VCALENDAR\r\n").encode(), "text/calendar"
    else:
        for page in range(LIST_PAGES):
            chunk = items[page * PER_LIST:(page + 1) * PER_LIST]
            rows = "".join(
                f'<div class="article"><h3><a href="/aktuelles/{t.az[-6:]}.html">{t.title}</a>'
                f'</h3><time datetime="{t.day.isoformat()}">{t.day:%d.%m.%Y}</time></div>'
                for t in chunk)
            more = (f'<li class="next"><a href="/aktuelles/seite-{page + 2}.html">weiter</a></li>'
                    if page + 1 < LIST_PAGES else "")
            path = "/aktuelles/" if page == 0 else f"/aktuelles/seite-{page + 1}.html"
            pages[path] = (f"<html><body><div class=\"news-list-view\">{rows}</div><ul>{more}"
                           f"</ul></body></html>").encode(), "text/html; charset=utf-8"
            for t in chunk:
                pages[f"/aktuelles/{t.az[-6:]}.html"] = (
                    f"<html><head><title>{t.title}</title></head><body><h1>{t.title}</h1>"
                    f'<div class="news-text-wrap"><p>{t.text}</p></div></body></html>'
                ).encode(), "text/html; charset=utf-8"
    return pages


ENTRY = {"rss": "/feed.xml", "atom": "/atom.xml", "ical": "/termine.ics", "html": "/aktuelles/"}


# -- the server (a process of its own: its CPU is not the crawlers') --------------------------

def serve(n_sources: int, seed: int) -> None:
    """Serve every source on its own port; print the origins as JSON; /__stats on any port."""
    sites, _kinds, _expected = build_web(n_sources, seed)
    stamp = formatdate(time.time() - 3600, usegmt=True)
    stats = {"requests": 0, "first": None, "last": None}

    async def main() -> None:
        origins = []
        for pages in sites:
            state: dict[str, dict[str, tuple[bytes, str, str]]] = {}

            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             pages=pages, state=state) -> None:
                try:
                    while True:
                        head = await reader.readuntil(b"\r\n\r\n")
                        lines = head.decode("latin-1").split("\r\n")
                        path = lines[0].split(" ")[1]
                        headers = {k.lower(): v.strip() for k, _, v in
                                   (line.partition(":") for line in lines[1:] if line)}
                        if path == "/__stats":
                            body, status, ctype, etag = (json.dumps(stats).encode(), 200,
                                                         "application/json", "")
                            stats.update(requests=0, first=None, last=None)
                        else:
                            now = time.time()
                            stats["requests"] += 1
                            stats["first"] = stats["first"] or now
                            stats["last"] = now
                            served = state["p"].get(path)
                            if served is None:
                                body, status, ctype, etag = b"not found", 404, "text/plain", ""
                            else:
                                body, ctype, etag = served
                                status = 304 if headers.get("if-none-match") == etag else 200
                        out = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}",
                               f"Content-Length: {0 if status == 304 else len(body)}"]
                        if etag:
                            out += [f"ETag: {etag}", f"Last-Modified: {stamp}"]
                        writer.write(("\r\n".join(out) + "\r\n\r\n").encode()
                                     + (b"" if status == 304 else body))
                        await writer.drain()
                except (asyncio.IncompleteReadError, ConnectionError, IndexError):
                    pass
                finally:
                    writer.close()

            server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
            origin = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            state["p"] = {}
            for path, (body, ctype) in pages.items():
                real = body.replace(b"{{base}}", origin.encode())
                state["p"][path] = (real, ctype, '"' + hashlib.sha1(real).hexdigest()[:16] + '"')
            origins.append(origin)
        print(json.dumps(origins), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- measuring ---------------------------------------------------------------------------------

def _tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


def measure(command: list[str], env: dict[str, str], stats_url: str) -> dict[str, float]:
    """Run `command`; wall, CPU (with its children), peak tree memory, server's crawl window."""
    import urllib.request

    urllib.request.urlopen(stats_url).read()  # reset the server's counters
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(output.decode("utf-8", "replace")[-4000:])
        raise SystemExit(f"{command[:3]} failed with exit {proc.returncode}")
    stats = json.loads(urllib.request.urlopen(stats_url).read())
    window = (stats["last"] - stats["first"]) if stats["first"] else 0.0
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime)
            + (after.ru_stime - before.ru_stime), "peak": peak / 2**20,
            "requests": stats["requests"], "window": window}


PLAIN = """
import json, sys, scrapy
from scrapy.crawler import CrawlerProcess
urls = json.load(open(sys.argv[1]))
class Plain(scrapy.Spider):
    name = "plain"
    async def start(self):
        for url in urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)
    def parse(self, response):
        pass
process = CrawlerProcess({"CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "ERROR", "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False})
process.crawl(Plain)
process.start()
"""


def sources_toml(origins: list[str], kinds: list[str]) -> str:
    lines = ["[crawl]", "delay = 0", "timeout = 30", "workers = 2", "sources_per_worker = 8",
             "concurrency_per_domain = 1", ""]
    for n, (origin, kind) in enumerate(zip(origins, kinds, strict=True)):
        lines += ["[[source]]", f'id = "quelle-{n:04d}"', f'name = "Gemeinde {n}"',
                  f'publisher = "Gemeinde {n}"', f'url = "{origin}{ENTRY[kind]}"',
                  f'kind = "{"html" if kind == "html" else kind}"', 'licence = "dl-by-de/2.0"']
        if kind == "ical":
            lines.append('item_kind = "event"')
        if kind == "html":
            lines += ["", "[source.selectors]", 'item = "div.news-list-view div.article"',
                      'title = "h3"', 'link = "h3 a::attr(href)"',
                      'date = "time::attr(datetime)"', 'content = "div.news-text-wrap"',
                      'next = "li.next a::attr(href)"']
        lines.append("")
    return "\n".join(lines)


def published(out: Path, expected: set[str]) -> tuple[int, int, int, int]:
    """(items, things found once, things missing, things published more than once)."""
    import re

    items = json.loads((out / "data/items.json").read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    for item in items:
        text = json.dumps(item, ensure_ascii=False)
        for az in set(re.findall(r"Az\. 2026-\d{6}", text)):
            seen[az] = seen.get(az, 0) + 1
    once = sum(1 for az in expected if seen.get(az) == 1)
    missing = sum(1 for az in expected if az not in seen)
    twice = sum(1 for az in expected if seen.get(az, 0) > 1)
    return len(items), once, missing, twice


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds (user + system) the live processes `pids` have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def _peak_rss(pid: int) -> int:
    """The highest resident memory a live process has had, in bytes (VmHWM)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def engine_only(n_sources: int, seed: int) -> None:
    """Crawl the web on `CrawlEngine` directly, cold then warm: the crawler processes' own cost."""
    # The package only here: the benchmark's other modes run it as a separate command.
    from regiofeed.models.sources import load_sources
    from regiofeed.spiders.engine import CrawlEngine

    sites, kinds, _expected = build_web(n_sources, seed)
    pages = sum(len(s) for s in sites)
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--sources",
                               str(n_sources), "--seed", str(seed)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        origins = json.loads(server.stdout.readline())
        with tempfile.TemporaryDirectory(prefix="regiofeed-bench-engine-") as tmp:
            path = Path(tmp) / "sources.toml"
            path.write_text(sources_toml(origins, kinds), encoding="utf-8")
            config = load_sources(path)
        settings, sources = config.crawl, config.sources
        print(f"{n_sources} sources, {pages} pages; engine alone, "
              f"{settings.workers} processes", flush=True)
        validators: dict[str, dict[str, dict[str, str]]] = {}
        with CrawlEngine.from_settings(settings) as engine:
            # Start the processes outside the measurement: a source per process that 404s.
            warmups = [sources[0].model_copy(update={"id": f"warmup-{n}", "url": origins[n]
                                                     + "/warmup.xml"})
                       for n in range(settings.workers)]
            list(engine.crawl_many([(s, settings, None) for s in warmups]))
            for name in ("cold", "warm"):
                jobs = [(s, settings, validators.get(s.id)) for s in sources]
                cpu0, started = _cpu_of(engine.pids()), time.monotonic()
                pids = set(engine.pids())
                results = list(engine.crawl_many(jobs))
                pids |= set(engine.pids())
                wall = time.monotonic() - started
                cpu = _cpu_of(sorted(pids)) - cpu0
                fetched = sum(r.pages for r in results)
                records = sum(len(r.records) for r in results)
                failed = [r.source_id for r in results if not r.ok]
                validators = {r.source_id: r.validators for r in results}
                print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s worker CPU "
                      f"({1000 * cpu / len(sources):.0f} ms a source), {fetched} pages "
                      f"({fetched / wall:.0f}/s), {records} records, {len(failed)} failed",
                      flush=True)
            peaks = [_peak_rss(pid) for pid in engine.pids()]
            print("peak memory of the crawler processes: "
                  + ", ".join(f"{peak / 2**20:.0f} MB" for peak in peaks))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work here and keep store, tree and files")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine-only", action="store_true",
                        help="crawl on the engine alone (no store, Prefect or publishing), "
                        "cold and warm, and print the crawler processes' CPU")
    args = parser.parse_args()
    if args.serve:
        serve(args.sources, args.seed)
        return
    if args.engine_only:
        engine_only(args.sources, args.seed)
        return
    sites, kinds, expected = build_web(args.sources, args.seed)
    pages = sum(len(s) for s in sites)
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--sources",
                               str(args.sources), "--seed", str(args.seed)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        origins = json.loads(server.stdout.readline())
        stats_url = origins[0] + "/__stats"
        with tempfile.TemporaryDirectory(prefix="regiofeed-bench-crawl-") as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            urls = [o + p for o, s in zip(origins, sites, strict=True) for p in s
                    if p != "/robots.txt"]
            (work / "urls.json").write_text(json.dumps(urls))
            (work / "plain.py").write_text(PLAIN)
            (work / "sources.toml").write_text(sources_toml(origins, kinds), encoding="utf-8")
            env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "PREFECT_HOME": str(work / "prefect"),
                   "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
            env.pop("PREFECT_API_URL", None)
            print(f"{args.sources} sources, {pages} pages ({len(urls)} without robots.txt), "
                  f"{len(expected)} distinct things expected", flush=True)
            plain = measure([sys.executable, str(work / "plain.py"), str(work / "urls.json")],
                            env, stats_url)
            run = [str(Path(sys.executable).parent / "regiofeed"), "run", "--all", "--silent",
                   "--sources", str(work / "sources.toml"), "--db",
                   f"sqlite:///{work / 'store.db'}", "--out", str(work / "public")]
            cold = measure(run, env, stats_url)
            counts = published(work / "public", expected)
            warm = measure(run, env, stats_url)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    print(f"{'':<18}{'wall s':>8}{'CPU s':>8}{'requests':>10}{'pages/s':>9}{'window s':>10}"
          f"{'win p/s':>9}{'peak MB':>9}")
    for name, m in (("plain Scrapy", plain), ("regiofeed cold", cold), ("regiofeed warm", warm)):
        print(f"{name:<18}{m['wall']:>8.1f}{m['cpu']:>8.1f}{m['requests']:>10}"
              f"{m['requests'] / m['wall']:>9.1f}{m['window']:>10.1f}"
              f"{m['requests'] / max(m['window'], 1e-9):>9.1f}{m['peak']:>9.0f}")
    plain_rate = plain["requests"] / plain["wall"]
    print(f"cold end to end rate / plain: {cold['requests'] / cold['wall'] / plain_rate:.2f}")
    print(f"cold crawl window rate / plain: "
          f"{cold['requests'] / max(cold['window'], 1e-9) / plain_rate:.2f}")
    print(f"warm CPU / cold CPU: {warm['cpu'] / cold['cpu']:.1%}")
    items, once, missing, twice = counts
    print(f"published {items} items; of {len(expected)} things expected: {once} exactly once, "
          f"{missing} missing, {twice} more than once")


if __name__ == "__main__":
    main()
