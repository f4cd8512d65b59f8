"""The docstring examples of every regiofeed module hold (doctest)."""

import doctest
import importlib
import pkgutil

import pytest

import regiofeed

# Migrations run against a database when Alembic loads them; the demo sites are data.
SKIPPED = ("regiofeed.models.migrations", "regiofeed.__main__")
MODULES = sorted(
    info.name for info in pkgutil.walk_packages(regiofeed.__path__, "regiofeed.")
    if not info.name.startswith(SKIPPED)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
