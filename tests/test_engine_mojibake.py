"""The crawler's quick mojibake check answers as ftfy's `is_bad` does, on real and garbled text.

spiders.encoding.looks_garbled searches ftfy's BADNESS_RE only near non-ASCII characters; that
holds while every sequence the pattern flags is short and holds a non-ASCII character. An
ftfy release that changes the pattern fails here, not silently in the crawl.
"""

from __future__ import annotations

import random
from pathlib import Path

from ftfy.badness import BADNESS_RE, is_bad

from regiofeed.spiders.encoding import looks_garbled

TESTS = Path(__file__).parent


def test_real_pages_get_the_same_answer() -> None:
    pages = [path.read_text(encoding="utf-8", errors="replace")
             for pattern in ("*.html", "*.htm", "*.xml")
             for path in sorted(TESTS.rglob(pattern)) if "node_modules" not in path.parts]
    assert len(pages) > 100
    answers = [(looks_garbled(page), is_bad(page)) for page in pages]
    assert all(quick == full for quick, full in answers)
    assert any(full for _, full in answers)  # the corpus has mojibake pages too


def test_garbled_and_clean_text_get_the_same_answer() -> None:
    """Random text from the characters ftfy's pattern names, German letters and ASCII."""
    named = sorted({c for c in BADNESS_RE.pattern if ord(c) > 127})
    alphabet = [*"abcAZ .,!?\n\t1", *named, *"äöüßÄÖÜ€–„“"]
    rng = random.Random(15)
    flagged = 0
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) if rng.random() < 0.3 else rng.choice("abc ")
                       for _ in range(rng.randint(1, 60)))
        assert looks_garbled(text) == is_bad(text), repr(text)
        flagged += is_bad(text)
    assert 0 < flagged < 50_000
    assert looks_garbled("Stra\u00c3\u0178e in M\u00c3\u00bcnchen")  # "Straße in München" garbled
    assert not looks_garbled("Straße in München")
