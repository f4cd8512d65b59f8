"""Defaults the command line shows before it loads the store (which pulls in SQLAlchemy)."""

DEFAULT_DB = "sqlite:///data/regiofeed.db"
