"""A realistic region for publishing tests: nine sources, five municipalities, ~100 items.

Shapes as the store makes them (models/items.py): events past and coming, all-day and
multi-day, online, cancelled, with and without place or coordinates, merged from two sources,
announced by a news item of the same address, titles with quotes, ampersands and umlauts.
Deterministic: the same TODAY gives the same items.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2024, 9, 1)
DL_BY = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
CC_BY = "http://dcat-ap.de/def/licenses/cc-by/4.0"


def _source(id: str, name: str, publisher: str, url: str, kind: str,
            municipality: str | None = None, licence: str = DL_BY) -> dict[str, Any]:
    source = {"id": id, "name": name, "publisher": publisher, "url": url, "kind": kind,
              "licence": licence, "schedule": "hourly"}
    if municipality:
        source["municipality"] = municipality
    return source


SOURCES = [
    _source("bad-belzig-aktuelles", "Stadt Bad Belzig – Aktuelles", "Stadt Bad Belzig",
            "https://www.bad-belzig.de/aktuelles/", "html", "Bad Belzig"),
    _source("bad-belzig-kalender", "Stadt Bad Belzig – Veranstaltungskalender",
            "Stadt Bad Belzig", "https://www.bad-belzig.de/kalender.ics", "ical", "Bad Belzig"),
    _source("wiesenburg-aktuelles", "Gemeinde Wiesenburg/Mark – Aktuelles",
            "Gemeinde Wiesenburg/Mark", "https://www.wiesenburgmark.de/feed/", "rss",
            "Wiesenburg/Mark"),
    _source("wiesenburg-veranstaltungen", "Gemeinde Wiesenburg/Mark – Veranstaltungen",
            "Gemeinde Wiesenburg/Mark", "https://www.wiesenburgmark.de/veranstaltungen/",
            "html", "Wiesenburg/Mark"),
    _source("planebruch", "Gemeinde Planebruch", "Gemeinde Planebruch",
            "https://www.planebruch.de/atom.xml", "atom", "Planebruch"),
    _source("borsdorf", "Partheland – Borsdorf", "Gemeinde Borsdorf",
            "https://www.partheland.de/feed/", "rss", "Borsdorf"),
    _source("goerzke", "Görzke – Dorfleben", "Gemeinde Görzke",
            "https://www.goerzke.de/", "auto", "Görzke", CC_BY),
    _source("kts-smart-cities", "KTS Smart Cities",
            "Koordinierungs- und Transferstelle Modellprojekte Smart Cities",
            "https://www.smart-city-dialog.de/aktuelles/atom.xml", "atom", None, CC_BY),
    _source("naturpark", "Naturpark Hoher Fläming – Termine", "Naturpark Hoher Fläming",
            "https://www.naturpark-hoher-flaeming.de/termine/", "jsonld"),
]

# (municipality, postal code, venues with street and coordinates where known)
PLACES = [
    ("Bad Belzig", "14806", [("Kulturzentrum Bad Belzig", "Weitzgrunder Str. 4", 52.1419, 12.5953),
                             ("Burg Eisenhardt", "Wittenberger Str. 14", 52.1397, 12.5872),
                             ("Rathaus Bad Belzig", "Wiesenburger Str. 6", None, None)]),
    ("Wiesenburg/Mark", "14827", [("Schloss Wiesenburg", "Schlossstr. 1", 52.1151, 12.4525),
                                  ("Gemeindehaus Reetz", "Dorfstr. 21", None, None)]),
    ("Planebruch", "14822", [("Dorfgemeinschaftshaus Borkheide", "Friedrich-Engels-Str. 3",
                              None, None)]),
    ("Borsdorf", "04451", [("Bürgerhaus Borsdorf", "Leipziger Str. 43", 51.3489, 12.5362)]),
    ("Görzke", "14828", [("Töpfereimuseum Görzke", "Hauptstr. 27", 52.1667, 12.3761)]),
]
SOURCE_OF = {
    "Bad Belzig": ("bad-belzig-kalender", "Stadt Bad Belzig"),
    "Wiesenburg/Mark": ("wiesenburg-veranstaltungen", "Gemeinde Wiesenburg/Mark"),
    "Planebruch": ("planebruch", "Gemeinde Planebruch"),
    "Borsdorf": ("borsdorf", "Gemeinde Borsdorf"),
    "Görzke": ("goerzke", "Gemeinde Görzke"),
}
SLUGS = {"Bad Belzig": "bad-belzig", "Wiesenburg/Mark": "wiesenburgmark",
         "Planebruch": "planebruch",
         "Borsdorf": "borsdorf", "Görzke": "goerzke"}
EVENT_TITLES = [
    "Seniorennachmittag mit Kaffee & Kuchen", "Lesung „Fläming-Geschichten“", "Orgelkonzert",
    "Sitzung des Bauausschusses", "Repair-Café", "Töpfermarkt", "Kinderflohmarkt",
    "Führung durch den Schlosspark", "Bürgersprechstunde des Bürgermeisters",
    "Vortrag: Streuobstwiesen pflegen", "Lauftreff am Wochenende", "Skatturnier <Offen>",
]
NEWS_TITLES = [
    "Neue Öffnungszeiten im Bürgerbüro", "Straßensperrung „Am Schloß“ & Umleitung",
    "Ergebnisse der Gemeinderatssitzung", "Glasfaserausbau geht weiter",
    "Hinweise zur Laubentsorgung", "Stellenausschreibung: Erzieher/in (m/w/d)",
    "Wahlhelferinnen und Wahlhelfer gesucht", "Förderprogramm für Vereine",
]


def _iso(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), BERLIN).isoformat()


def _ext(kind: str, source_id: str, publisher: str, municipality: str | None,
         licence: str = DL_BY, **more: Any) -> dict[str, Any]:
    ext: dict[str, Any] = {"kind": kind, "sources": [source_id], "publisher": publisher}
    if municipality:
        ext["municipality"] = municipality
    ext["licence"] = licence
    ext.update(more)
    return ext


def events(today: date = TODAY) -> list[dict[str, Any]]:
    """Sixty events from 25 days before ``today`` to 34 days after it, across the region."""
    result = []
    for n in range(60):
        municipality, postal_code, venues = PLACES[n % len(PLACES)]
        venue, street, lat, lon = venues[n % len(venues)]
        source_id, publisher = SOURCE_OF[municipality]
        day = today + timedelta(days=n - 25)
        title = EVENT_TITLES[n % len(EVENT_TITLES)]
        location: dict[str, Any] = {"name": venue, "street": street, "postal_code": postal_code,
                                    "locality": municipality.split("/")[0]}
        if lat is not None:
            location["geo"] = {"lat": lat, "lon": lon}
        if n % 7 == 3:  # an all-day event over two days
            event: dict[str, Any] = {"start": day.isoformat(),
                                     "end": (day + timedelta(days=1)).isoformat(),
                                     "all_day": True, "online": False, "location": location}
        elif n % 11 == 5:  # online only
            event = {"start": _iso(day, 19), "end": _iso(day, 20, 30), "all_day": False,
                     "online": True, "online_url": "https://meet.example.org/sprechstunde"}
        else:
            event = {"start": _iso(day, 10 + n % 9), "end": _iso(day, 12 + n % 9),
                     "all_day": False, "online": False, "location": location}
        if n % 13 == 4:
            event["status"] = "cancelled"
        published = today + timedelta(days=n - 40)
        result.append({
            "id": f"rf-event-{n:03d}",
            "url": f"https://www.{SLUGS[municipality]}.example/termine/{n}",
            "title": f"{title} in {municipality}",
            "content_text": f"{title}. Alle Interessierten sind herzlich eingeladen.",
            "content_html": f"<p>{title}. Alle Interessierten sind herzlich eingeladen.</p>",
            "date_published": _iso(published, 8),
            "date_modified": _iso(published, 9, 30),
            "tags": ["Veranstaltung"],
            "_regiofeed": _ext("event", source_id, publisher, municipality, event=event),
        })
    return result


def news(today: date = TODAY) -> list[dict[str, Any]]:
    """Thirty-two news items of the last weeks, one with a bare date as some sources give."""
    result = []
    sources = [("bad-belzig-aktuelles", "Stadt Bad Belzig", "Bad Belzig"),
               ("wiesenburg-aktuelles", "Gemeinde Wiesenburg/Mark", "Wiesenburg/Mark"),
               ("planebruch", "Gemeinde Planebruch", "Planebruch"),
               ("borsdorf", "Gemeinde Borsdorf", "Borsdorf")]
    for n in range(32):
        source_id, publisher, municipality = sources[n % len(sources)]
        day = today - timedelta(days=n // 2)
        title = NEWS_TITLES[n % len(NEWS_TITLES)]
        item: dict[str, Any] = {
            "id": f"rf-news-{n:03d}",
            "url": f"https://www.{SLUGS[municipality]}.example/aktuelles/{n}",
            "title": title,
            "summary": f"{title}: was Bürgerinnen und Bürger in {municipality} wissen sollten.",
            "content_text": f"{title}. Weitere Informationen erhalten Sie im Rathaus.",
            "content_html": f"<p>{title}. Weitere Informationen im <b>Rathaus</b>.</p>",
            "date_published": day.isoformat() if n == 3 else _iso(day, 7 + n % 10),
            "tags": ["Verwaltung"] if n % 2 else [],
            "_regiofeed": _ext("news", source_id, publisher, municipality),
        }
        if n % 5 == 0:
            item["authors"] = [{"name": f"Pressestelle {publisher}"}]
        result.append(item)
    return result


def special(today: date = TODAY) -> list[dict[str, Any]]:
    """Items the page must treat with care: a merged event filed by its place, an event and
    the news that announced it, a seminar series without municipality."""
    day = today + timedelta(days=4)
    konferenz_event = {
        "start": _iso(day, 10), "end": _iso(day, 17), "all_day": False, "online": False,
        "location": {"name": "Kulturzentrum Bad Belzig", "street": "Weitzgrunder Str. 4",
                     "postal_code": "14806", "locality": "Bad Belzig",
                     "geo": {"lat": 52.1419, "lon": 12.5953}},
    }
    konferenz = {
        "id": "rf-event-smart-cities",
        "url": "https://www.smart-city-dialog.de/regionalkonferenz-bad-belzig",
        "title": "Regionalkonferenz Smart Cities in Bad Belzig",
        "content_text": "Die Modellprojekte stellen sich vor.",
        "date_published": _iso(today - timedelta(days=25), 0),
        "date_modified": _iso(today - timedelta(days=23), 12),
        "tags": ["Smart City"],
        "_regiofeed": {
            "kind": "event", "sources": ["kts-smart-cities", "bad-belzig-aktuelles"],
            "publisher": "Koordinierungs- und Transferstelle Modellprojekte Smart Cities",
            "also_at": ["https://www.bad-belzig.de/aktuelles/regionalkonferenz"],
            "licence": CC_BY, "event": konferenz_event,
        },
    }
    markt_url = "https://www.goerzke.de/aktuelles/toepfermarkt-2024"
    markt_day = today + timedelta(days=6)
    markt_news = {
        "id": "rf-news-toepfermarkt", "url": markt_url,
        "title": "Görzker Töpfermarkt am Wochenende",
        "content_text": "Über 40 Töpfereien stellen aus.",
        "date_published": _iso(today - timedelta(days=2), 9),
        "_regiofeed": _ext("news", "goerzke", "Gemeinde Görzke", "Görzke", CC_BY),
    }
    markt_event = {
        **markt_news, "id": "rf-event-toepfermarkt",
        "_regiofeed": _ext("event", "goerzke", "Gemeinde Görzke", "Görzke", CC_BY, event={
            "start": markt_day.isoformat(), "end": (markt_day + timedelta(days=1)).isoformat(),
            "all_day": True, "online": False,
            "location": {"name": "Töpfereimuseum Görzke", "street": "Hauptstr. 27",
                         "postal_code": "14828", "locality": "Görzke",
                         "geo": {"lat": 52.1667, "lon": 12.3761}}}),
    }
    wanderung = {
        "id": "rf-event-wanderung", "url": "https://www.naturpark-hoher-flaeming.de/termine/rummeln",
        "title": "Geführte Wanderung durch die Rummeln",
        "content_text": "Treffpunkt am Naturparkzentrum.",
        "date_published": _iso(today - timedelta(days=10), 10),
        "_regiofeed": _ext("event", "naturpark", "Naturpark Hoher Fläming", None, event={
            "start": _iso(today + timedelta(days=2), 14), "all_day": False, "online": False,
            "location": {"name": "Naturparkzentrum", "street": "Brennereiweg 45",
                         "postal_code": "14823", "locality": "Rabenstein/Fläming",
                         "geo": {"lat": 52.0986, "lon": 12.5706}}}),
    }
    return [konferenz, markt_news, markt_event, wanderung]


def items(today: date = TODAY) -> list[dict[str, Any]]:
    """Every item of the region as of ``today``."""
    return [*events(today), *news(today), *special(today)]


def health(sources: list[dict[str, Any]] = SOURCES, today: date = TODAY) -> dict[str, Any]:
    """A health report: every source fetched this morning, one failing, one never fetched."""
    moment = datetime.combine(today, time(6, 0, 0, 123456), BERLIN).isoformat()
    report: dict[str, Any] = {"generated_by": "regiofeed", "sources": {}}
    for n, source in enumerate(sources):
        if source["id"] == "goerzke":
            continue  # never fetched yet
        state = {"last_attempt": moment, "last_success": moment, "last_change": moment,
                 "status": "ok", "items": 10 + n}
        if source["id"] == "planebruch":
            state.update(status="failed", error="HTTP 503 Service Unavailable")
        report["sources"][source["id"]] = state
    return report
