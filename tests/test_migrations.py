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


def test_events_stored_before_0007_get_the_bands_that_news_pages_find_them_by(
        db_url: str) -> None:
    from alembic import command
    from sqlalchemy import delete, func, select, update

    from regiofeed.models.crawl_result import CrawlResult
    from regiofeed.models.migrate import alembic_config
    from regiofeed.models.records import Record
    from regiofeed.models.sources import Source
    from regiofeed.models.tables import BAND, INDEX, utcnow

    event = Record.model_validate({
        "source_id": "kalender", "key": "laterne", "url": "https://stadt.example/laterne",
        "title": "Laternenumzug durch die Altstadt", "kind": "event",
        "content_text": "Zum Martinstag zieht der Laternenumzug mit dem Spielmannszug vom "
                        "Kirchplatz durch die Altstadt zur Burg Eisenhardt.",
        "event": {"start": "2024-11-08T18:00:00+01:00"}})
    with Store(db_url) as store:
        store.sync_sources([Source.model_validate({
            "id": "kalender", "name": "Kalender", "publisher": "Stadt",
            "url": "https://stadt.example/termine.ics", "kind": "ical",
            "licence": "dl-by-de/2.0"})])
        store.apply_crawl(store.begin_run(), CrawlResult(source_id="kalender", ok=True,
                                                         records=[event]), utcnow())
        with store.engine.begin() as conn:
            assert conn.execute(select(func.count()).select_from(BAND)).scalar_one() == 8
            # As revision 0006 left it: events without a signature or band rows.
            conn.execute(delete(BAND))
            conn.execute(update(INDEX).values(signature=None))
        config = alembic_config(db_url)
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0006")
            command.upgrade(config, "0007")
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(BAND)).scalar_one() == 8
            assert conn.execute(select(INDEX.c.signature)).scalar_one() is not None
