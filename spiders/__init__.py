"""Scrapy spiders that turn remote pages and feeds into records, and their normalisation."""
