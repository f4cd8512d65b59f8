"""Namespaces and controlled vocabularies of the DCAT-AP.de catalogue (https://www.dcat-ap.de/def/).

Declared once here and imported by publish/dcat.py (mapping) and publish/dcat_serialize.py.
Codes come from the vocabularies DCAT-AP.de 3.0 prescribes: the EU authority tables (file
type, data theme, frequency, language), the IANA media-type register and dcat-ap.de's own
lists (licences, contributors, political geocoding).
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from regiofeed.models.licences import LICENCE_BASE

DCT = DCTERMS
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")  # paging, as ckanext-dcat does it

EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = Namespace(EU + "file-type/")
DATA_THEME = Namespace(EU + "data-theme/")
FREQUENCY = Namespace(EU + "frequency/")
LANGUAGE = Namespace(EU + "language/")
IANA = Namespace("http://www.iana.org/assignments/media-types/")
LICENSES = LICENCE_BASE
CONTRIBUTORS = "http://dcat-ap.de/def/contributors/"
MUNICIPALITY_KEY = Namespace("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/")
GEOCODING_LEVEL_MUNICIPALITY = "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"

# Prefixes written into every serialisation (and the fixed JSON-LD @context), in this order.
PREFIXES: dict[str, Namespace] = {
    "dcat": Namespace(str(DCAT)),
    "dcatde": DCATDE,
    "dct": Namespace(str(DCTERMS)),
    "foaf": Namespace(str(FOAF)),
    "hydra": HYDRA,
    "rdf": Namespace(str(RDF)),
    "vcard": VCARD,
    "xsd": Namespace(str(XSD)),
}


class FileFormat(NamedTuple):
    """How the catalogue describes one kind of published file."""

    title: str  # dct:title of the distribution
    file_type: str  # dct:format — code of the EU "file type" authority table
    media_type: str  # dcat:mediaType — a type of the IANA register
    standard: str  # dct:conformsTo — the specification the file follows


# dcat:mediaType must be in the IANA register; application/rss+xml and application/feed+json
# never were registered, so those files are described by the registered parent type and
# dct:format (RSS) / dct:conformsTo (JSON Feed 1.1) say precisely what they are. The files
# themselves are served with their customary types.
FILE_FORMATS: dict[str, FileFormat] = {
    "rss": FileFormat("RSS-Feed", "RSS", "application/xml",
                      "https://www.rssboard.org/rss-specification"),
    "atom": FileFormat("Atom-Feed", "ATOM", "application/atom+xml",
                       "https://www.rfc-editor.org/rfc/rfc4287"),
    "jsonfeed": FileFormat("JSON Feed", "JSON", "application/json",
                           "https://www.jsonfeed.org/version/1.1/"),
    "ical": FileFormat("iCalendar", "ICS", "text/calendar",
                       "https://www.rfc-editor.org/rfc/rfc5545"),
    "csv": FileFormat("CSV-Tabelle", "CSV", "text/csv", "https://www.rfc-editor.org/rfc/rfc4180"),
    "csv-excel": FileFormat("CSV-Tabelle für Excel (Semikolon, UTF-8 mit BOM)", "CSV", "text/csv",
                            "https://www.rfc-editor.org/rfc/rfc4180"),
    "json": FileFormat("JSON-Datei", "JSON", "application/json",
                       "https://www.rfc-editor.org/rfc/rfc8259"),
}  # fmt: skip

# dcat:theme defaults per stream (EU data themes); a source's `themes` replace them.
DEFAULT_THEMES: dict[str, tuple[str, ...]] = {
    "news": ("GOVE", "SOCI"),  # Regierung und öffentlicher Sektor; Bevölkerung und Gesellschaft
    "events": ("EDUC", "SOCI"),  # Bildung, Kultur und Sport; Bevölkerung und Gesellschaft
    "all": ("EDUC", "GOVE", "SOCI"),
}

# dcat:keyword defaults per stream; a source's `keywords` and municipality are added.
DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "news": ("Aktuelles", "Nachrichten"),
    "events": ("Termine", "Veranstaltungen", "Veranstaltungskalender"),
    "all": ("Aktuelles", "Nachrichten", "Termine", "Veranstaltungen"),
}

# dct:accrualPeriodicity: the codes of the EU "frequency" table with a fixed period. A schedule
# maps to the code whose period is nearest (on a log scale; ties go to the less frequent code,
# which promises no more than the crawl delivers).
FREQUENCIES: tuple[tuple[str, timedelta], ...] = (
    ("1MIN", timedelta(minutes=1)),
    ("5MIN", timedelta(minutes=5)),
    ("10MIN", timedelta(minutes=10)),
    ("15MIN", timedelta(minutes=15)),
    ("30MIN", timedelta(minutes=30)),
    ("HOURLY", timedelta(hours=1)),
    ("BIHOURLY", timedelta(hours=2)),
    ("TRIHOURLY", timedelta(hours=3)),
    ("12HRS", timedelta(hours=12)),
    ("DAILY", timedelta(days=1)),
    ("WEEKLY_3", timedelta(days=7) / 3),
    ("WEEKLY_2", timedelta(days=7) / 2),
    ("WEEKLY", timedelta(weeks=1)),
    ("BIWEEKLY", timedelta(weeks=2)),
    ("MONTHLY", timedelta(days=30)),
    ("QUARTERLY", timedelta(days=91)),
    ("ANNUAL", timedelta(days=365)),
)

# dct:language: ISO 639-1 code of PublishSettings.language -> EU "language" table code.
LANGUAGES: dict[str, str] = {"de": "DEU", "en": "ENG", "fr": "FRA", "pl": "POL", "da": "DAN",
                             "nl": "NLD", "cs": "CES", "hsb": "HSB", "dsb": "DSB"}  # fmt: skip
