"""Tests for spiders.urls.canonical_url."""

from __future__ import annotations

import pytest

from regiofeed.models.normalise.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("HTTPS://WWW.Bad-Belzig.DE/Aktuelles/", None, "https://www.bad-belzig.de/Aktuelles/"),
        ("http://example.org:80/a", None, "http://example.org/a"),
        ("https://example.org:443/a", None, "https://example.org/a"),
        ("https://example.org:8443/a", None, "https://example.org:8443/a"),
        ("https://example.org", None, "https://example.org/"),
        ("https://example.org/a#kommentare", None, "https://example.org/a"),
        ("https://example.org/a?b=2&a=1", None, "https://example.org/a?a=1&b=2"),
        (
            "detail.html?id=7",
            "https://example.org/news/",
            "https://example.org/news/detail.html?id=7",
        ),
        ("../b", "https://example.org/a/c/", "https://example.org/a/b"),
        ("//cdn.example.org/x", "https://example.org/", "https://cdn.example.org/x"),
        ("https://münster.de/", None, "https://xn--mnster-3ya.de/"),
    ],
)
def test_canonical_url_normalises(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize(
    "query",
    [
        "utm_source=newsletter&utm_medium=email&utm_campaign=x",
        "fbclid=abc",
        "gclid=1&dclid=2&msclkid=3",
        "mc_cid=1&mc_eid=2",
        "_hsenc=1&_hsmi=2",
        "igshid=1&yclid=2",
        "wt_mc=x&pk_campaign=y&pk_kwd=z",
        "UTM_Source=x",
    ],
)
def test_canonical_url_drops_tracking_parameters(query: str) -> None:
    assert canonical_url(f"https://example.org/a?id=7&{query}") == "https://example.org/a?id=7"


def test_canonical_url_keeps_ordinary_parameters_and_their_encoding() -> None:
    url = "https://example.org/suche?q=Bad+Belzig&tx_news%5Bnews%5D=12&utm_term=x"
    assert canonical_url(url) == "https://example.org/suche?q=Bad+Belzig&tx_news%5Bnews%5D=12"


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTP://Example.org:80/a/./b?z=1&a=2&utm_source=x#f")
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("javascript:alert(1)", None),
        ("javascript:void(0)", "https://example.org/"),
        ("mailto:info@bad-belzig.de", None),
        ("mailto:info@bad-belzig.de", "https://example.org/"),
        ("tel:+4933841940", "https://example.org/"),
        ("ftp://example.org/file", None),
        ("/relative/without/base", None),
        ("", "https://example.org/"),
        ("https://example.org:port/", None),
    ],
)
def test_canonical_url_rejects_what_is_not_an_http_url(url: str, base: str | None) -> None:
    with pytest.raises(ValueError):
        canonical_url(url, base)
