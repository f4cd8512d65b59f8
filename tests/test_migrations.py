"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import regiofeed.models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from regiofeed.models.store import Store


def test_migrated_store_matches_the_models(db_url: str) -> None:
    with Store(db_url) as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_every_index_the_models_declare_exists_after_migrating(db_url: str) -> None:
    from sqlalchemy import inspect

    with Store(db_url) as store:
        inspector = inspect(store.engine)
        for table in SQLModel.metadata.sorted_tables:
            have = {index["name"] for index in inspector.get_indexes(table.name)}
            assert {index.name for index in table.indexes} <= have, table.name
