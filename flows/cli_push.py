"""`regiofeed push sva`: send new and changed items to a Smart Village App, remove gone ones."""

from __future__ import annotations

import sys

import click

from regiofeed.models.defaults import DEFAULT_DB
from regiofeed.models.sources import SourcesError, load_sources


@click.group()
def push() -> None:
    """Push the store's items into systems that take them (configured under [push])."""


@push.command("sva")
@click.option("--sources", "sources_file", default="sources.toml", envvar="REGIOFEED_SOURCES",
              show_default=True, type=click.Path(dir_okay=False),
              help="The sources file with the [push.sva] table.")
@click.option("--db", "db_url", default=DEFAULT_DB, envvar="REGIOFEED_DB", show_default=True,
              help="Store URL: sqlite:///FILE or postgresql://…")
@click.option("--out", "out_dir", default=None, envvar="REGIOFEED_OUT",
              type=click.Path(file_okay=False),
              help="Published tree whose health.json gets the push's outcome.")
def push_sva_command(sources_file: str, db_url: str, out_dir: str | None) -> None:
    """Send new and changed items to the Smart Village App and remove gone ones.

    Credentials: REGIOFEED_SVA_CLIENT_ID and REGIOFEED_SVA_CLIENT_SECRET in the environment.
    Exit code 1 when the push failed, 2 when it is not configured.
    """
    try:
        config = load_sources(sources_file)
    except SourcesError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    if config.push.sva is None:
        click.echo(f"{sources_file}: no [push.sva] table", err=True)
        sys.exit(2)
    # Loaded per command: `regiofeed run` starts its Prefect server before this import.
    from regiofeed.flows.push_sva import push_sva

    report = push_sva(config.push.sva, db_url, out_dir=out_dir)
    click.echo(f"sva: {report.created} created, {report.updated} updated, "
               f"{report.removed} removed, {report.unchanged} unchanged")
    if report.error:
        click.echo(f"sva: push failed: {report.error}", err=True)
        sys.exit(1)
