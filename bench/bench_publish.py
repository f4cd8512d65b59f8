"""Benchmark publish_all: 10,000 and 100,000 items of 200 sources; time per format, peak memory.

    .venv/bin/python bench/bench_publish.py                    # 10,000 and 100,000 items
    .venv/bin/python bench/bench_publish.py --sizes 10000 --out /tmp/tree
    .venv/bin/python bench/bench_publish.py --sizes 25000 --sources 1000  # the crawl's shape

Each size runs in a fresh process (so peak memory is that size's own): synthetic item objects
(German news and events of 200 sources in 20 municipalities, as the store hands them to
publish_all) are published into an empty directory (cold), then published again unchanged
(warm), then once more with 1 % of the items changed. It prints wall and CPU seconds of each
run, the seconds spent in each format's renderer (the rest is writing and swapping the tree),
the files and bytes written, and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from regiofeed.publish import PublishSettings, dcat, publish_all, registry

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 12, 7)
SOURCES = 200
LICENCES = (
    "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
    "http://dcat-ap.de/def/licenses/cc-by/4.0",
    "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
)
MUNICIPALITIES = (
    ("Bad Belzig", "14806", "12069020"), ("Wiesenburg/Mark", "14827", "12069696"),
    ("Treuenbrietzen", "14929", "12069632"), ("Niemegk", "14823", "12069448"),
    ("Brück", "14822", "12069070"), ("Görzke", "14828", "12069224"),
    ("Planetal", "14806", "12069306"), ("Mühlenfließ", "14823", "12069397"),
    ("Rabenstein/Fläming", "14823", "12069590"), ("Linthe", "14822", "12069368"),
    ("Borkheide", "14822", "12069056"), ("Borkwalde", "14822", "12069060"),
    ("Beelitz", "14547", "12069020"), ("Brandis", "04821", "14729050"),
    ("Borsdorf", "04451", "14729060"), ("Großpösna", "04463", "14729160"),
    ("Naunhof", "04683", "14729300"), ("Belgershain", "04683", "14729020"),
    ("Parthenstein", "04668", "14729320"), ("Wurzen", "04808", "14729430"),
)  # fmt: skip
PUBLISHERS = ("Stadt", "Gemeinde", "Amt", "Heimatverein", "Förderverein", "Kirchengemeinde")
NEWS_TOPICS = (
    "Neue Öffnungszeiten im Bürgerbüro", "Straßensperrung in der Hauptstraße",
    "Stadtverordnetenversammlung beschließt Haushalt", "Glasfaserausbau geht voran",
    "Bauarbeiten am Marktplatz beginnen", "Wahlhelferinnen und Wahlhelfer gesucht",
    "Neuer Spielplatz am Wiesengrund eröffnet", "Förderprogramm für Vereine gestartet",
    "Sprechstunde des Bürgermeisters entfällt", "Ergebnisse der Einwohnerbefragung",
    "Sperrmüllabfuhr im Ortsteil", "Bekanntmachung zur Grundsteuer",
)  # fmt: skip
EVENT_TOPICS = (
    "Burgfest auf der Burg", "Seniorennachmittag mit Kaffee und Kuchen", "Weihnachtsmarkt",
    "Lesung in der Stadtbibliothek", "Online-Sprechstunde Breitbandausbau", "Osterfeuer",
    "Konzert des Posaunenchors", "Wanderung durch den Naturpark", "Repair-Café",
    "Regionalkonferenz Smart Cities", "Kinderflohmarkt auf dem Schulhof", "Dorffest",
)  # fmt: skip
SENTENCES = (
    "Die Verwaltung bittet alle Bürgerinnen und Bürger um Verständnis.",
    "Weitere Informationen erhalten Sie im Rathaus oder telefonisch während der Sprechzeiten.",
    "Der Eintritt ist frei, um eine Spende für die Jugendfeuerwehr wird gebeten.",
    "Für das leibliche Wohl ist mit Bratwurst, Kuchen und Getränken gesorgt.",
    "Die Umleitung erfolgt über die Landstraße und ist ausgeschildert.",
    "Anmeldungen nimmt das Sekretariat bis zum Ende des Monats entgegen.",
    "Die Ergebnisse werden in der nächsten Sitzung des Ausschusses vorgestellt.",
    "Gäste aus den Nachbargemeinden sind herzlich willkommen.",
    "Bitte bringen Sie festes Schuhwerk und wetterfeste Kleidung mit.",
    "Die Arbeiten sollen nach derzeitiger Planung bis Ende Oktober abgeschlossen sein.",
)  # fmt: skip
STREETS = ("Hauptstraße", "Am Markt", "Schloßstraße", "Bahnhofstraße", "Kirchplatz", "Dorfaue")


def make_sources(rng: random.Random, count: int = SOURCES) -> list[dict[str, Any]]:
    """``count`` sources; every tenth has no municipality (regional bodies)."""
    sources = []
    for number in range(count):
        town, _, ags = MUNICIPALITIES[number % len(MUNICIPALITIES)]
        publisher = f"{PUBLISHERS[number % len(PUBLISHERS)]} {town}"
        source: dict[str, Any] = {
            "id": f"quelle-{number:03d}",
            "name": f"{publisher} – {'Aktuelles' if number % 2 else 'Veranstaltungen'}",
            "publisher": publisher,
            "url": f"https://www.quelle-{number:03d}.example/aktuelles/",
            "kind": ("rss", "html", "auto", "ical")[number % 4],
            "licence": rng.choice(LICENCES),
            "schedule": ("hourly", "daily", "6h")[number % 3],
        }
        if number % 10:
            source.update(municipality=town, ags=ags)
        sources.append(source)
    return sources


def make_items(rng: random.Random, count: int, sources: list[dict[str, Any]]) -> list[dict]:
    """``count`` item objects, 60 % news and 40 % events, over two years up to TODAY."""
    items = []
    for number in range(count):
        source = sources[number % len(sources)]
        town = source.get("municipality")
        event = number % 5 in (1, 3)
        topic = rng.choice(EVENT_TOPICS if event else NEWS_TOPICS)
        title = f"{topic} in {town or 'der Region'} ({number})"
        paragraphs = [" ".join(rng.sample(SENTENCES, 3)) for _ in range(rng.randint(1, 3))]
        published = datetime.combine(TODAY, datetime.min.time(), BERLIN) - timedelta(
            minutes=rng.randrange(2 * 365 * 24 * 60)
        )
        url = f"{source['url']}{number}"
        ext: dict[str, Any] = {
            "kind": "event" if event else "news",
            "sources": [source["id"]],
            "publisher": source["publisher"],
            "licence": source["licence"],
        }
        if town:
            ext["municipality"] = town
        if number % 10 == 7:  # a tenth is carried by a second source too
            other = sources[(number * 7 + 3) % len(sources)]
            ext["sources"].append(other["id"])
            ext["also_at"] = [f"{other['url']}{number}"]
        if event:
            start = published + timedelta(days=rng.randint(3, 120), hours=rng.randint(0, 8))
            ext["event"] = {
                "start": start.replace(second=0, microsecond=0).isoformat(),
                "end": (start + timedelta(hours=2)).replace(second=0, microsecond=0).isoformat(),
                "all_day": False,
                "online": number % 17 == 0,
                "location": {
                    "name": f"Gemeindehaus {town or 'Bad Belzig'}",
                    "street": f"{rng.choice(STREETS)} {rng.randint(1, 40)}",
                    "postal_code": MUNICIPALITIES[number % len(MUNICIPALITIES)][1],
                    "locality": town or "Bad Belzig",
                },
            }
        items.append({
            "id": f"rf-{number:07d}",
            "url": url,
            "title": title,
            "content_text": "\n\n".join(paragraphs),
            "content_html": "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs),
            "date_published": published.replace(microsecond=0).isoformat(),
            "date_modified": published.replace(microsecond=0).isoformat(),
            "tags": [topic.split()[0]],
            "_regiofeed": ext,
        })  # fmt: skip
    return items


def timed_formats(seconds: dict[str, list[float]]) -> None:
    """Wrap every renderer of the registry (and the catalogue's extra pages) with a timer."""

    def wrap(name: str, render: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            result = render(*args, **kwargs)
            seconds[name][0] += time.perf_counter() - wall
            seconds[name][1] += time.process_time() - cpu
            if isinstance(result, bytes | dict):
                return result
            return timed_chunks(name, result)  # a streamed file renders while it is written

        return timed

    def timed_chunks(name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        pieces = iter(chunks)
        while True:
            wall, cpu = time.perf_counter(), time.process_time()
            chunk = next(pieces, None)
            seconds[name][0] += time.perf_counter() - wall
            seconds[name][1] += time.process_time() - cpu
            if chunk is None:
                return
            yield chunk

    registry.FORMATS = tuple(replace(f, render=wrap(f.path, f.render)) for f in registry.FORMATS)
    dcat.extra_pages = wrap("catalog/page-*", dcat.extra_pages)  # type: ignore[assignment]


def tree_size(root: Path) -> tuple[int, int]:
    files = [path for path in root.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def run_one(count: int, out: Path, source_count: int = SOURCES) -> dict[str, Any]:
    """Publish ``count`` items cold, warm and with 1 % changed; return the figures."""
    rng = random.Random(count)
    sources = make_sources(rng, source_count)
    items = make_items(rng, count, sources)
    health = {"generated_by": "regiofeed", "sources": {s["id"]: {"status": "ok"} for s in sources}}
    settings = PublishSettings(
        title="Hoher Fläming aktuell",
        base_url="https://daten.example.org/hoher-flaeming/",
        contact_email="daten@example.org",
    )
    seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    timed_formats(seconds)
    runs = {}
    for run in ("cold", "warm", "1% changed"):
        if run == "1% changed":
            for item in items[:: 100]:
                item["title"] += " (aktualisiert)"
                item["date_modified"] = datetime.combine(TODAY, datetime.min.time(), BERLIN
                                                         ).isoformat()
        health["sources"]["quelle-000"]["run"] = run  # health.json changes every run
        seconds.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        report = publish_all(out, items, sources, health, settings, today=TODAY)
        runs[run] = {
            "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "written": len(report.written),
            "unchanged": len(report.unchanged),
            "formats": {name: tuple(value) for name, value in seconds.items()},
        }
    files, size = tree_size(out)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"items": count, "sources": source_count, "files": files, "bytes": size,
            "peak_mb": peak_kb / 1024, "runs": runs}


def report(result: dict[str, Any]) -> None:
    print(f"\n{result['items']:,} items, {result['sources']:,} sources: {result['files']:,} files, "
          f"{result['bytes'] / 1e6:,.0f} MB, peak memory {result['peak_mb']:,.0f} MB")
    for run, figures in result["runs"].items():
        rendered = sum(wall for wall, _ in figures["formats"].values())
        print(f"  {run:<11} wall {figures['wall']:6.2f} s  cpu {figures['cpu']:6.2f} s  "
              f"written {figures['written']:,}, unchanged {figures['unchanged']:,}  "
              f"(rendering {rendered:.2f} s, writing and swapping "
              f"{figures['wall'] - rendered:.2f} s)")
        if run == "cold":
            for name, (wall, cpu) in sorted(figures["formats"].items(), key=lambda kv: -kv[1][0]):
                print(f"      {name:<18} wall {wall:6.2f} s  cpu {cpu:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--sources", type=int, default=SOURCES, help="how many sources")
    parser.add_argument("--out", type=Path, help="publish here (default: a temporary folder)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one:
        out = args.out or Path(tempfile.mkdtemp(prefix="regiofeed-bench-publish-"))
        try:
            print(json.dumps(run_one(args.one, out, args.sources)))
        finally:
            if not args.out:
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(out.parent / f".{out.name}.prev", ignore_errors=True)
        return
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size), "--sources", str(args.sources)]
        if args.out:
            command += ["--out", str(args.out / str(size))]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(done.stderr)
        report(json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
