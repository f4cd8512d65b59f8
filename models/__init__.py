"""The store: SQLModel tables for sources, records, revisions, items and runs."""
