"""Crawl settings for tests against the fixture server on 127.0.0.1: no delay, short timeouts."""

from regiofeed.models.sources import CrawlSettings

CONTACT = "https://example.org/regiofeed-test"
# Two seconds is long enough for any fixture page; a test of a slow site sets its own timeout.
FAST = CrawlSettings(delay=0, timeout=2, source_timeout=60, contact=CONTACT)
# For pages that take longer to answer (corpora, dedupe clusters) and sites without robots.txt.
PATIENT = CrawlSettings(delay=0, timeout=5, source_timeout=60, contact=CONTACT)
CORPUS = CrawlSettings(delay=0, timeout=5, source_timeout=60, obey_robots=False, contact=CONTACT)
