"""regiofeed: news and events of small municipalities, collected, merged and published as open data.

Installed, the repository's top-level folders are the subpackages of this one package
(`regiofeed.flows`, `regiofeed.spiders`, `regiofeed.publish`, `regiofeed.models`); see
`[tool.setuptools]` in pyproject.toml for how.
"""
