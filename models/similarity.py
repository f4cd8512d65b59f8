"""Pure text and event similarity for dedupe: German normalisation, one-permutation MinHash, tests.

Choices, and how they were measured (tests/test_dedupe_similarity.py prints the scores of every
fixture pair with `-s`; tests/sites/dedupe/ holds the pairs):

- Text is lower-cased, umlauts folded (ä→ae, ß→ss), punctuation dropped, German stop words
  removed and words cut to a crude stem (suffixes -ungen/-en/-er/-es/-e/-n/-s),
  so "Konzerte" and "Konzert", "Stadtbibliothek" and "Stadtbibliotheken" meet.
- News: one-permutation MinHash (Li, Owen & Zhang 2012; densified by rotation, Shrivastava &
  Li 2014) over the word stems of title, summary and the first 400 words: 32 bins, 16 bands of
  2 rows. P(candidate) = 1-(1-J²)^16: 0.48 at J=0.2, 0.78 at 0.3, 0.99 at 0.5. Bins are
  computed with one hash per word, so a signature costs O(words), not O(words × permutations)
  as with datasketch (STACK.md: 27.6 s for 100k texts). The packed signature is stored too:
  a candidate is read in full only when its estimated Jaccard is ≥ PREFILTER_JACCARD (3 of 32
  bins), which drops the chance collisions a store of a million items brings (bench/).
- Same story, other words: on the fixture pairs (tests/sites/dedupe/) rewordings scored
  Jaccard 0.49–0.76 and containment (overlap / smaller set) 0.66–0.87; unrelated news of the
  same town and week at most 0.16 / 0.30 (shared place names, opening hours); the follow-up a
  week later 0.33 / 0.53 — as high as a loose rewording. So time separates them: within
  NEWS_CLOSE_DAYS a story matches at Jaccard ≥ 0.25 or containment ≥ 0.45 (above the
  unrelated maximum with a margin, well below the rewordings, which on real sites drift
  further than ours); later, up to NEWS_MAX_DAYS, only a near copy (Jaccard ≥ 0.7) does.
- What tells notices apart whatever their words (issue 10): file numbers ("Az.",
  "Drucksache", "Bebauungsplan Nr.") when both name some and share none, and places named in
  both titles ("… in Lehnin" / "… in Borkheide") that share no word. And news whose titles say
  other things (below NEWS_TITLE_SAME) are one story only as a close rewording
  (NEWS_OTHER_TITLE_JACCARD): council phrases and boilerplate reach 0.35 between unrelated
  notices in the crawl benchmark, the fixtures' rewordings under other titles 0.49–0.76.
- Across kinds (compare_across): a news page is an event it republishes when published up to
  NEWS_MAX_DAYS before it or on its days, with a title that says the same and the same story,
  or a near copy of its text.
- Events: the same occurrence starts on the same day (a date-only event: overlapping days),
  at most EVENT_TIME_TOLERANCE apart when both have times, at a place that is not different
  (postal code, locality, or online vs on site), with a similar title: rapidfuzz
  token_set_ratio on stems, or 100 when one title without spaces contains the other
  ("Senioren-Nachmittag" / "Seniorennachmittag"). The same event in other words scored 40–100
  on the fixtures ("Tanz in den Herbst" / "Tanzabend mit DJ Olli": 40), unrelated titles 23–54
  ("Seniorennachmittag" / "Seniorenfrühstück": 54). Title alone therefore decides only at ≥ 75;
  below, the place must be the same and either the title ≥ 55 or the start the same to the
  quarter hour with the title ≥ 45 or the descriptions overlapping (containment ≥ 0.4); and a
  title below 75 counts only when the two share a word or one's word is part of the other's
  compound ("Basar" / "Herbstbasar"), since letters alone give unrelated titles up to 50.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import eq
from typing import Any

from rapidfuzz import fuzz

from regiofeed.models.berlin import BERLIN, parse_iso
from regiofeed.models.normalise.urls import canonical_url

# News: stories within this many days may be the same story in other words; beyond it and up
# to NEWS_MAX_DAYS only a near copy (a late republication) is the same story.
NEWS_CLOSE_DAYS = 3
NEWS_MAX_DAYS = 14
NEWS_JACCARD = 0.25
NEWS_CONTAINMENT = 0.45
NEWS_MIN_TOKENS = 8
NEWS_NEAR_COPY = 0.70
# Titles below this say other things (the fixtures' rewordings: 37–79, their texts at
# Jaccard 0.49–0.76); then the texts must be a close rewording.
NEWS_TITLE_SAME = 75.0
NEWS_OTHER_TITLE_JACCARD = 0.40
PREFILTER_JACCARD = 3 / 32
# Events: start times further apart than this are different occurrences.
EVENT_TIME_TOLERANCE = timedelta(minutes=60)
EVENT_TITLE_SURE = 75.0
EVENT_TITLE_PLACE = 55.0
EVENT_TITLE_EXACT = 45.0

BINS = 32
ROWS = 2
BANDS = BINS // ROWS
# An event is indexed under its first CROSS_BANDS bands too, so that a news page republishing
# it (and it, such a page) finds the other across kinds: P(candidate) = 1-(1-J²)^8, 0.90 at
# J=0.5, where a republished text sits far above.
CROSS_BANDS = 8
_MAX = (1 << 59) - 1
TEXT_WORDS = 400

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ungen", "ung", "en", "er", "es", "e", "n", "s")
_STOPWORD_TEXT = """
aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei beim
bereits bin bis bisher bist da dabei dadurch dafuer dagegen daher damit dann darf darum das
dass dem den denen denn der deren des deshalb dessen die dies diese diesem diesen dieser dieses
doch dort du durch ein eine einem einen einer eines einige einmal er es etwa euch euer fuer gab
gegen gibt hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem
ihren ihrer im in indem ins ist ja jede jedem jeden jeder jedes jetzt kann kein keine koennen
man mehr mit muss nach nicht noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
seit sich sie sind so soll sollen sowie statt ueber um und uns unser unsere unter viel vom von
vor wann war waren was weil welche wenn wer werden wie wieder will wir wird wo wurde wurden zu
zum zur zwischen uhr heute morgen sowie bitte beim einem alle neue neuen neues ab mal sei
sollte
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_ONLINE_WORDS = ("online", "digital", "zoom", "webex", "livestream", "videokonferenz")


def fold(text: str) -> str:
    """Lower-case, fold umlauts and accents, keep letters and digits separated by one space.

    >>> fold("Straßenfest am Mühlenteich – Café!")
    'strassenfest am muehlenteich cafe'
    """
    return " ".join(words(text))


def words(text: str) -> list[str]:
    """The folded words of a text (see fold), as a list."""
    text = (text or "").lower().translate(_FOLD)
    if not text.isascii():
        # Rare beyond umlauts: accents (é → e), ligatures and odd spaces.
        text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _WORD.findall(text)


def stem(word: str) -> str:
    """Cut a folded German word to a crude stem.

    >>> stem("konzerte"), stem("bibliotheken"), stem("sperrungen")
    ('konzert', 'bibliothek', 'sperr')
    """
    if len(word) > 5 and not word.isdigit():
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                return word[: -len(suffix)]
    return word


class _StemTable(dict[str, str]):
    """Folded word → stem, or "" for a stop word or a word of one or two letters; learnt lazily.

    A dict lookup per word keeps the hot loop in C (texts of hundreds of words, thousands
    of records a crawl); the table is bounded by the language's vocabulary.
    """

    def __missing__(self, word: str) -> str:
        value = "" if word in STOPWORDS or (len(word) <= 2 and not word.isdigit()) else stem(word)
        if len(self) < 500_000:
            self[word] = value
        return value


_STEMS = _StemTable()


def stems(text: str, limit: int | None = None) -> list[str]:
    """Return the stems of the content words of `text`, in order (stop words and 1–2 letters out).

    >>> stems("Die Sperrung der Hauptstraße endet am 12. Mai")
    ['sperr', 'hauptstrass', 'endet', '12', 'mai']
    """
    if limit is not None and len(text or "") > limit * 30:
        # Long pages: fold only the start (no 400 words are longer than 12,000 characters).
        text = text[:limit * 30].rsplit(None, 1)[0]
    found = words(text)
    if limit is not None:
        del found[limit:]
    return list(filter(None, map(_STEMS.__getitem__, found)))


def _hash64(value: str) -> int:
    # Not cached here: token hashes are kept in _BINS, and band keys are new for every record.
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little")


class _BinTable(dict[str, tuple[int, int]]):
    """Token → (bin, value) of its 64-bit hash: the low bits choose the bin; learnt lazily."""

    def __missing__(self, token: str) -> tuple[int, int]:
        h = _hash64(token)
        value = (h % BINS, (h // BINS) & _MAX)
        if len(self) < 500_000:
            self[token] = value
        return value


_BINS = _BinTable()


def signed63(value: int) -> int:
    """Fold a 64-bit hash into a signed BIGINT range, the same on SQLite and PostgreSQL."""
    return (value & ((1 << 63) - 1)) - (1 << 62)


def minhash(tokens: Iterable[str]) -> list[int]:
    """Return the one-permutation MinHash signature (BINS values) of a set of tokens.

    Each token is hashed once; its low bits choose a bin, the rest compete for the bin's
    minimum. Empty bins borrow from the next non-empty bin (rotation), so that two short texts
    still compare bin by bin. An empty set gives an all-empty signature.
    """
    # (bin, value) pairs sorted from the largest down: in a dict the last value of a bin,
    # its minimum, stays. Sorting and dict run in C; a loop per token would not.
    lowest = dict(sorted(map(_BINS.__getitem__, set(tokens)), reverse=True))
    bins = [lowest.get(i, _MAX + 1) for i in range(BINS)]
    empty = bins.count(_MAX + 1)
    if empty == BINS:
        return [0] * BINS
    if not empty:
        return bins
    filled = list(bins)
    for i in range(BINS):
        if bins[i] > _MAX:
            step = 1
            while bins[(i + step) % BINS] > _MAX:
                step += 1
            filled[i] = bins[(i + step) % BINS] + step * 0x9E3779B1
    return filled


def band_keys(signature: list[int]) -> list[int]:
    """Return one LSH key per band (ROWS bins each), as signed 63-bit ints for the index."""
    if not any(signature):
        return []
    return [
        signed63(_hash64(f"b{band}:" + ",".join(map(str, signature[b * ROWS:(b + 1) * ROWS]))))
        for b, band in enumerate(range(BANDS))
    ]


_PACKED = struct.Struct(f"<{BINS}I")


def unpack_signature(packed: bytes) -> tuple[int, ...]:
    """The bins of a packed signature (see Features.packed_signature), to compare in C."""
    return _PACKED.unpack(packed)


def equal_bins(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """How many bins of two unpacked signatures are equal."""
    return sum(map(eq, a, b))


def estimate_packed(a: bytes, b: bytes) -> float:
    """Share of equal bins of two packed signatures (see Features.packed_signature)."""
    return equal_bins(unpack_signature(a), unpack_signature(b)) / BINS


def estimate_jaccard(a: list[int], b: list[int]) -> float:
    """Share of equal bins: an estimate of the Jaccard similarity of the token sets."""
    if not any(a) or not any(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / BINS


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def containment(a: set[str], b: set[str]) -> float:
    """Overlap relative to the smaller set: a teaser inside a full article scores high."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def title_similarity(a: str, b: str) -> float:
    """Score two titles 0–100: token_set_ratio on stems, or the ratio without spaces.

    >>> title_similarity("Senioren-Nachmittag im Gemeindehaus", "Seniorennachmittag") >= 75
    True
    """
    (sa, ja), (sb, jb) = _title_forms(a), _title_forms(b)
    if not sa or not sb:
        return 0.0
    # A compound in one title, separate words in the other: compare without spaces; a short
    # title inside a long one only counts when it is a real word (8+ letters).
    short, long = sorted((ja, jb), key=len)
    joined = 100.0 if len(short) >= 8 and short in long else fuzz.ratio(ja, jb)
    return max(fuzz.token_set_ratio(sa, sb), joined)


@lru_cache(maxsize=100_000)
def _title_forms(title: str) -> tuple[str, str]:
    """A title as joined stems, and as its content words without spaces (cached)."""
    return " ".join(stems(title)), "".join(w for w in fold(title).split() if w not in STOPWORDS)


def share_a_word(a: str, b: str) -> bool:
    """Whether two titles share a content word, or one's word (4+ letters) is part of the other's.

    >>> share_a_word("Basar im Herbst", "Herbstbasar im Dorfgemeinschaftshaus")
    True
    >>> share_a_word("Seniorennachmittag", "Seniorenfrühstück")
    False
    >>> share_a_word("Stadtfest 2024", "Volkslauf 2024")
    False
    """
    words_a, words_b = _title_words(a), _title_words(b)
    if words_a & words_b:
        return True
    return any((len(x) >= 4 and x in y) or (len(y) >= 4 and y in x)
               for x in words_a for y in words_b)


@lru_cache(maxsize=100_000)
def _title_words(title: str) -> frozenset[str]:
    """The stems of a title's content words, numbers left out (a year is no shared word)."""
    return frozenset(w for w in stems(title) if not w.isdigit())


def day_number(value: date | datetime) -> int:
    """Days since 0001-01-01 of the local (Europe/Berlin) calendar day."""
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).date()
    return value.toordinal()


def parse_when(value: Any) -> date | datetime | None:
    """Read a stored ISO date or datetime (date-only text stays a date)."""
    if value is None or isinstance(value, date):
        return value
    return parse_iso(str(value))


@dataclass
class Features:
    """What dedupe compares of one record; built from its stored data."""

    kind: str
    day: int
    tokens: set[str]
    title: str
    title_stems: list[str]
    url: str | None = None
    links: list[tuple[str, bool]] = field(default_factory=list)
    # Events only.
    start_min: int | None = None
    end_day: int | None = None
    postal_code: str | None = None
    locality: str | None = None
    place: str | None = None
    street: str | None = None
    online: bool = False
    # File numbers the text names ("Az. 2026-000123", "Drucksache 12/2024") and places the
    # title names ("… in Lehnin"): two notices with other ones are about other things.
    file_numbers: frozenset[str] = frozenset()
    title_places: frozenset[str] = frozenset()

    _keys: list[int] | None = field(default=None, repr=False, compare=False)
    _signature: list[int] | None = field(default=None, repr=False, compare=False)

    @property
    def signature(self) -> list[int]:
        if self._signature is None:
            self._signature = minhash(self.tokens)
        return self._signature

    def packed_signature(self) -> bytes | None:
        """The signature in 4 bytes a bin (low bits), stored to pre-judge candidates cheaply."""
        if not self.tokens or not any(self.signature):
            return None
        return b"".join((v & 0xFFFFFFFF).to_bytes(4, "little") for v in self.signature)

    def index_keys(self) -> list[int]:
        """Keys of this record in the shared candidate index: its MinHash bands (news all of
        them; events the first CROSS_BANDS, to meet news pages that republish them)."""
        if not self.tokens:
            return []
        if self._keys is None:
            self._keys = band_keys(self.signature)
        return self._keys if self.kind == "news" else self._keys[:CROSS_BANDS]


_HREF = re.compile(r"<a\s[^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_SOURCE_LABEL = re.compile(
    r"(quelle|original|zuerst erschienen|erschienen (auf|bei|im)|weiterlesen|weiter lesen"
    r"|mehr lesen|ganzen artikel|vollstaendige|mehr dazu|mehr erfahren|mehr informationen"
    r"|rel canonical)", re.I)
_PLAIN_SOURCE = re.compile(r"(?:Quelle|Original|Zuerst erschienen[^:]*)\s*:\s*(https?://\S+)",
                           re.I)


def source_links(data: dict[str, Any]) -> list[tuple[str, bool]]:
    """Return (url, labelled) for every link of a record that may point at its original.

    Labelled: `original_url`, a link named or introduced as the source ("Quelle: …",
    "Weiterlesen", "zuerst erschienen bei …"), a plain "Quelle: URL", or any link of a short
    teaser (under 600 characters of text). Unlabelled: every other link in the content.
    """
    found: dict[str, bool] = {}
    if data.get("original_url"):
        found[data["original_url"]] = True
    html = data.get("content_html") or ""
    short = len(data.get("content_text") or "") < 600
    for match in _HREF.finditer(html):
        url = match.group(1).replace("&amp;", "&")
        if not url.startswith(("http://", "https://")):
            continue
        before = fold(_TAG.sub(" ", html[max(0, match.start() - 80):match.start()]))
        label = fold(_TAG.sub(" ", match.group(2)))
        labelled = bool(_SOURCE_LABEL.search(label) or _SOURCE_LABEL.search(before[-40:])
                        or short)
        found[url] = found.get(url, False) or labelled
    for text in (data.get("content_text") or "", data.get("summary") or ""):
        if ":" not in text:
            continue  # no "Quelle: URL" possible; spares the regex on most texts
        for match in _PLAIN_SOURCE.finditer(text):
            found[match.group(1).rstrip(".,;)")] = True
    return [(_canonical(u), labelled) for u, labelled in found.items() if _canonical(u)]


@lru_cache(maxsize=100_000)
def _canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return ""


# A file number after its label: "Az. 2026-000123", "Aktenzeichen: 61-12/24", "Drucksache
# 0815/2024", "Vorlage Nr. BV/12/2024", "Bebauungsplan Nr. 7". Only with a digit in it.
_FILE_NUMBER = re.compile(
    r"\b(?:az|aktenzeichen|gesch(?:aefts|\.)?-?zeichen|gz|drucks(?:ache|\.)(?:-?nr\.?)?"
    r"|vorlage(?:n)?-?nr\.?|vorlage nr\.?|beschluss(?:-?nr\.?|nummer)|bebauungsplan(?:e?s)? nr\.?"
    r"|b-plan(?:e?s)? nr\.?)\s*[.:]*\s*(?:nr\.?\s*)?([a-z]{0,5}[-/ ]?\d[\w./-]*)", re.I)


# Parts of every label of _FILE_NUMBER as pages write them (capitalised), for a quick test.
_FILE_LABELS = ("Az", "AZ", "az.", "ktenzeichen", "eschäftsz", "Gz", "GZ", "rucks", "RUCKS",
                "orlage", "eschluss", "ebauungsplan", "-Plan", "-plan")


def file_numbers(text: str) -> frozenset[str]:
    """The file numbers a text names, folded ("Az. 2026-000123" → "2026-000123").

    >>> sorted(file_numbers("Bebauungsplan Nr. 7 (Drucksache 0815/2024) und Az.: BV-12"))
    ['0815/2024', '7', 'bv-12']
    """
    # Most texts name no file number: plain substring tests spare them the regex.
    if not text or not any(label in text for label in _FILE_LABELS) or not \
            _FILE_NUMBER.search(text):
        return frozenset()
    return frozenset(m.group(1).lower().rstrip("./-").replace(" ", "")
                     for m in _FILE_NUMBER.finditer(text))


# A place a title names: "in", "aus" or "bei" and one to three capitalised words, no article
# between ("Sommerfest in Bad Belzig", "Neues aus Wiesenburg/Mark"). German nouns take an
# article after "in" ("in der Hauptstraße"); the few that do not are idioms, listed here.
_TITLE_PLACE = re.compile(
    r"\b(?:in|aus|bei)\s+((?:[A-ZÄÖÜ][\w.'’/-]*)(?:\s+[A-ZÄÖÜ][\w.'’/-]*){0,2})")
_NOT_PLACES = frozenset((
    "kraft", "betrieb", "planung", "gefahr", "sicht", "zukunft", "vorbereitung", "arbeit",
    "ordnung", "sachen", "kuerze", "eigenregie", "richtung", "hoehe", "folge", "frage", "form",
    "zusammenarbeit", "kooperation", "gedenken", "erinnerung", "absprache", "abstimmung",
    "bau", "sanierung", "aktion", "bewegung", "ruhe", "not", "sorge", "gang",
    "deutschland", "brandenburg", "europa"))


def title_places(title: str) -> frozenset[str]:
    """The folded places a title names after "in", "aus" or "bei" (idioms and the country and
    Land, which every title of a region shares, left out).

    >>> sorted(title_places("Laternenumzug in Bad Belzig")), title_places("Satzung in Kraft")
    (['bad belzig'], frozenset())
    """
    found = set()
    for match in _TITLE_PLACE.finditer(title or ""):
        place = fold(match.group(1))
        if place and place.split()[0] not in _NOT_PLACES:
            found.add(place)
    return frozenset(found)


def other_file_numbers(a: Features, b: Features) -> bool:
    """Both name file numbers and share none: two cases, two notices."""
    return bool(a.file_numbers and b.file_numbers and not a.file_numbers & b.file_numbers)


def other_title_places(a: Features, b: Features) -> bool:
    """Both titles name a place and share no word of it: the same words elsewhere."""
    if not a.title_places or not b.title_places:
        return False
    words_a = {w for p in a.title_places for w in p.split()}
    words_b = {w for p in b.title_places for w in p.split()}
    return not words_a & words_b


def features(data: dict[str, Any], first_seen: datetime, *, links: bool = True) -> Features:
    """Build the comparable features of a record from its stored data (Record JSON).

    A stored candidate needs no `links` (its links are in the index already): reading them
    from its HTML is skipped.
    """
    kind = data.get("kind", "news")
    title = data.get("title") or ""
    title_stems = stems(title)
    body = " ".join(x for x in (data.get("summary"), data.get("content_text")) if x)
    tokens = set(title_stems) | set(stems(body, TEXT_WORDS))
    # The spiders store canonical URLs already (spiders.urls); links in HTML are not.
    url = data.get("url") or None
    result = Features(kind=kind, day=0, tokens=tokens, title=title, title_stems=title_stems,
                      url=url, links=[(u, lab) for u, lab in source_links(data)
                                              if u != url] if links else [],
                      file_numbers=file_numbers(f"{title} {body}"),
                      title_places=title_places(title))
    event = data.get("event") if kind == "event" else None
    if event:
        start = parse_when(event["start"])
        end = parse_when(event.get("end")) or start
        assert start is not None and end is not None
        result.day = day_number(start)
        result.end_day = max(day_number(end), result.day)
        if isinstance(start, datetime) and not event.get("all_day"):
            result.start_min = int(start.timestamp() // 60)
        place = event.get("location") or {}
        result.postal_code = place.get("postal_code")
        result.locality = fold(place.get("locality") or "") or None
        result.place = place.get("name")
        result.street = fold(place.get("street") or "") or None
        result.online = bool(event.get("online"))
    else:
        published = parse_when(data.get("date_published")) or first_seen
        result.day = day_number(published)
    return result


def place_relation(a: Features, b: Features) -> str:
    """Say whether two events' places are 'same', 'different' or 'unknown'.

    Different: other postal codes, localities that share no word, one online only and the
    other on site only, or the same street or name with other numbers ("Hauptstraße 4" and
    "Hauptstraße 14", "Saal 1" and "Saal 2": a village's courtyard sale, a conference's
    rooms). Same: the same street, or names that match (token_set_ratio ≥ 70).
    """
    a_site = bool(a.place or a.street or a.locality or a.postal_code)
    b_site = bool(b.place or b.street or b.locality or b.postal_code)
    if a.online != b.online and ((a.online and not a_site and b_site)
                                 or (b.online and not b_site and a_site)):
        return "different"
    if a.postal_code and b.postal_code and a.postal_code != b.postal_code:
        return "different"
    if a.locality and b.locality and not set(a.locality.split()) & set(b.locality.split()):
        return "different"
    if a.street and b.street and fuzz.ratio(a.street, b.street) >= 85:
        return "different" if _other_numbers(a.street, b.street) else "same"
    if a.place and b.place and title_similarity(a.place, b.place) >= 70:
        return "different" if _other_numbers(fold(a.place), fold(b.place)) else "same"
    if a.online and b.online and not a_site and not b_site:
        return "same"
    return "unknown"


def _other_numbers(a: str, b: str) -> bool:
    """Both folded texts carry numbers and share none: other rooms, other house numbers.

    >>> _other_numbers("saal 1", "saal 2"), _other_numbers("hauptstr 4 6", "hauptstr 4")
    (True, False)
    """
    numbers_a = {w for w in a.split() if w.isdigit()}
    numbers_b = {w for w in b.split() if w.isdigit()}
    return bool(numbers_a and numbers_b and not numbers_a & numbers_b)


@dataclass(frozen=True)
class Verdict:
    """Whether two records show the same thing, the rule that said so and its score."""

    same: bool
    rule: str
    score: float


def compare_news(a: Features, b: Features) -> Verdict:
    """Decide whether two news records tell the same story (see the module docstring)."""
    days = abs(a.day - b.day)
    if days > NEWS_MAX_DAYS:
        return Verdict(False, "too far apart", 0.0)
    apart = _told_apart(a, b)
    if apart:
        return apart
    jac, cont = jaccard(a.tokens, b.tokens), containment(a.tokens, b.tokens)
    small = min(len(a.tokens), len(b.tokens))
    if days > NEWS_CLOSE_DAYS:
        return Verdict(jac >= NEWS_NEAR_COPY, f"near copy {days} days apart", jac)
    if small < NEWS_MIN_TOKENS:
        # Too little text to judge by words: the titles must say it.
        score = title_similarity(a.title, b.title) / 100
        return Verdict(score >= 0.9, "short text, same title", score)
    if title_similarity(a.title, b.title) < NEWS_TITLE_SAME:
        # Titles that say other things: only a close rewording of the text is the same story
        # (shared council phrases and boilerplate reach Jaccard 0.35 between unrelated ones).
        return Verdict(jac >= NEWS_OTHER_TITLE_JACCARD, "same story, other title", jac)
    same = jac >= NEWS_JACCARD or cont >= NEWS_CONTAINMENT
    return Verdict(same, "same story", max(jac, cont))


def _told_apart(a: Features, b: Features) -> Verdict | None:
    """What tells two notices apart whatever their words: other file numbers, other places
    named in their titles."""
    if other_file_numbers(a, b):
        return Verdict(False, "other file number", 0.0)
    if other_title_places(a, b):
        return Verdict(False, "other place in the title", 0.0)
    return None


def compare_across(news: Features, event: Features) -> Verdict:
    """Decide whether a news page republishes an event (a portal's, a paper's copy).

    It is published before the event or on its days, says the same in its title
    (≥ EVENT_TITLE_SURE) and tells the same story in its text, or copies the text nearly.
    """
    if not event.day - NEWS_MAX_DAYS <= news.day <= (event.end_day or event.day):
        return Verdict(False, "too far apart", 0.0)
    apart = _told_apart(news, event)
    if apart:
        return apart
    jac, cont = jaccard(news.tokens, event.tokens), containment(news.tokens, event.tokens)
    if jac >= NEWS_NEAR_COPY:
        return Verdict(True, "republished event, near copy", jac)
    title = title_similarity(news.title, event.title)
    if title < EVENT_TITLE_SURE:
        return Verdict(False, "other event", title / 100)
    if min(len(news.tokens), len(event.tokens)) < NEWS_MIN_TOKENS:
        return Verdict(title >= 90, "republished event, same title", title / 100)
    same = jac >= NEWS_JACCARD or cont >= NEWS_CONTAINMENT
    return Verdict(same, "republished event", max(jac, cont))


def compare_events(a: Features, b: Features) -> Verdict:
    """Decide whether two events are the same occurrence (see the module docstring)."""
    if a.start_min is not None and b.start_min is not None:
        delta = abs(a.start_min - b.start_min)
        if delta > EVENT_TIME_TOLERANCE.total_seconds() / 60:
            return Verdict(False, "other time", 0.0)
        exact_time = delta <= 15
    else:
        # A date-only event runs its whole days: the ranges must overlap.
        if a.day > (b.end_day or b.day) or b.day > (a.end_day or a.day):
            return Verdict(False, "other day", 0.0)
        exact_time = False
    place = place_relation(a, b)
    if place == "different":
        return Verdict(False, "other place", 0.0)
    if other_file_numbers(a, b):
        return Verdict(False, "other file number", 0.0)
    title = title_similarity(a.title, b.title)
    text = containment(a.tokens - set(a.title_stems), b.tokens - set(b.title_stems))
    if title >= EVENT_TITLE_SURE:
        return Verdict(True, f"same event ({place} place)", title)
    # Below EVENT_TITLE_SURE a title counts only with a word in common: unrelated titles
    # reach 50 on shared letters alone ("Neue Öffnungszeiten der Stadtbibliothek" and
    # "Vollsperrung in der Belziger Innenstadt").
    worded = share_a_word(a.title, b.title)
    if place == "same" and ((title >= EVENT_TITLE_PLACE and worded) or (exact_time and (
            (title >= EVENT_TITLE_EXACT and worded) or text >= 0.4))):
        return Verdict(True, "same event at the same place", title)
    if exact_time and title >= EVENT_TITLE_PLACE and worded and text >= 0.3:
        return Verdict(True, "same event, same time", title)
    if exact_time and (place == "same" or title >= EVENT_TITLE_PLACE) and not (
            a.tokens and b.tokens):
        # Judged without one of the descriptions: reading it may still join them.
        return Verdict(False, "other event (by title)", title)
    return Verdict(False, "other event", title)


def compare(a: Features, b: Features) -> Verdict:
    """Compare two records: news with news, events with events, and a news page with an event
    it may republish (compare_across)."""
    if a.kind != b.kind:
        return compare_across(a, b) if a.kind == "news" else compare_across(b, a)
    return compare_events(a, b) if a.kind == "event" else compare_news(a, b)


def completeness(data: dict[str, Any]) -> int:
    """Count what a record says: longer text, a summary, image, tags, dates, place details."""
    score = min(len(data.get("content_text") or "") // 200, 10)
    score += sum(bool(data.get(k)) for k in ("summary", "image", "tags", "author",
                                             "date_published", "content_html", "url"))
    event = data.get("event") or {}
    score += sum(bool(event.get(k)) for k in ("end", "organizer", "offers", "online_url"))
    score += sum(bool(v) for v in (event.get("location") or {}).values())
    return score
