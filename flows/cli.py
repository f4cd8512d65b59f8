"""The `regiofeed` command line: run, demo, serve, and sources check."""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from flows.cli_items import items
from models.store import DEFAULT_DB
from spiders.sources import SourcesError, load_sources

F = Callable[..., Any]


def db_option(default: str = DEFAULT_DB) -> Callable[[F], F]:
    return click.option("--db", "db_url", default=default, envvar="REGIOFEED_DB",
                        show_default=True, help="Store URL: sqlite:///FILE or postgresql://…")


def out_option(func: F) -> F:
    return click.option("--out", "out_dir", default="public", envvar="REGIOFEED_OUT",
                        show_default=True, type=click.Path(file_okay=False),
                        help="Folder the published tree is written to.")(func)


def silent_option(func: F) -> F:
    return click.option("--silent", is_flag=True,
                        help="Print nothing but errors.")(func)


@click.group()
@click.version_option(package_name="regiofeed")
def main() -> None:
    """Collect news and events from municipal websites and publish them as open data."""


def _run_flow(sources_file: str, db_url: str, out_dir: str, silent: bool, *,
              force: bool = False, only: tuple[str, ...] = ()) -> int:
    """Run the aggregate flow (ephemeral Prefect unless PREFECT_API_URL is set); exit code."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.aggregate import aggregate
    from flows.progress import terminal_progress

    # The heartbeat thread sleeps in one-second steps and delays every run's end (STACK.md).
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), terminal_progress(
        not silent
    ), _console_errors_only(silent):
        report = aggregate(sources_file=sources_file, db_url=db_url, out_dir=out_dir,
                           force=force, only=list(only) or None)
    if not silent:
        click.echo(f"{'source':<32} {'status':<7} {'seen':>5} {'new':>5} "
                   f"{'changed':>7} {'gone':>5}")
        for s in report.sources:
            click.echo(f"{s.source_id:<32} {'ok' if s.ok else 'FAILED':<7} {s.records_seen:>5} "
                       f"{s.new:>5} {s.changed:>7} {s.gone:>5}")
            if s.error:
                click.echo(f"    {s.error}")
        click.echo(f"{len(report.written)} files written, {len(report.unchanged)} unchanged "
                   f"in {out_dir}/")
    return 1 if report.sources and len(report.failed) == len(report.sources) else 0


@contextlib.contextmanager
def _console_errors_only(silent: bool) -> Iterator[None]:
    """With ``silent``, let Prefect's console handlers print errors only, to the end of the
    process: the temporary API server logs its stop at exit, after the run.

    Only the terminal is quieted: the loggers keep their levels, so a Prefect server still
    gets every log line of the run.
    """
    if not silent:
        yield
        return
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), *(logging.getLogger(name)
                                      for name in list(logging.Logger.manager.loggerDict))]
    handlers = {h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)}
    for handler in handlers:
        handler.setLevel(logging.ERROR)
    yield


@main.command()
@click.option("--sources", "sources_file", default="sources.toml", envvar="REGIOFEED_SOURCES",
              show_default=True, type=click.Path(dir_okay=False),
              help="The sources file to crawl.")
@db_option()
@out_option
@click.option("--all", "force", is_flag=True,
              help="Crawl every source now, whatever its schedule says.")
@click.option("--source", "only", multiple=True, metavar="ID",
              help="Crawl only this source (repeatable); implies --all for it.")
@silent_option
def run(sources_file: str, db_url: str, out_dir: str, force: bool, only: tuple[str, ...],
        silent: bool) -> None:
    """Run the pipeline once: crawl the sources that are due, store, publish."""
    try:
        load_sources(sources_file)
    except SourcesError as exc:
        _print_problems(exc)
        sys.exit(2)
    sys.exit(_run_flow(sources_file, db_url, out_dir, silent, force=force, only=only))


@main.command()
@db_option("sqlite:///data/demo.db")
@out_option
@click.option("--first-port", default=8701, show_default=True, type=int,
              help="Port of the first demo site (the next ones follow; 0 for any free ports).")
@silent_option
def demo(db_url: str, out_dir: str, first_port: int, silent: bool) -> None:
    """Serve the bundled demo websites on 127.0.0.1 and run the pipeline against them."""
    from flows.demo.server import render_demo_sources, serve_demo_sites

    with serve_demo_sites(first_port=first_port) as bases, tempfile.TemporaryDirectory() as tmp:
        sources_file = Path(tmp) / "sources.toml"
        sources_file.write_text(render_demo_sources(bases), encoding="utf-8")
        if not silent:
            for name, base in bases.items():
                click.echo(f"demo site {name:<20} {base}/")
        code = _run_flow(str(sources_file), db_url, out_dir, silent, force=True)
    if not silent:
        click.echo(f"open {Path(out_dir).resolve() / 'index.html'} or run: regiofeed serve")
    sys.exit(code)


@main.command()
@out_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
def serve(out_dir: str, host: str, port: int) -> None:
    """Serve the published tree over HTTP, read-only."""
    from flows.serve import serve_tree

    serve_tree(Path(out_dir), host=host, port=port)


@main.command()
@click.option("--sources", "sources_file", default="sources.toml", envvar="REGIOFEED_SOURCES",
              show_default=True, type=click.Path(dir_okay=False),
              help="The sources file whose sources to report on.")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="Print the health report as JSON.")
def health(sources_file: str, db_url: str, as_json: bool) -> None:
    """Print each source's health: status, last success, items, and why it looks broken."""
    import json

    from models.health import BROKEN
    from models.store import Store

    try:
        config = load_sources(sources_file)
    except SourcesError as exc:
        _print_problems(exc)
        sys.exit(2)
    with Store(db_url) as store:
        report = store.health([s.id for s in config.sources])
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True))
    else:
        click.echo(f"{'source':<32} {'status':<9} {'items':>5} {'seen':>5} {'usual':>5}  "
                   "last success")
        for source_id, entry in report.items():
            click.echo(f"{source_id:<32} {entry['status']:<9} {entry.get('items', 0):>5} "
                       f"{entry.get('records_seen', '-'):>5} {entry.get('usual_records', '-'):>5}"
                       f"  {entry.get('last_success', '-')}")
            why = entry.get("error") or entry.get("reason")
            if why and entry["status"] in BROKEN:
                click.echo(f"    {why}")
    broken = [s for s, e in report.items() if e["status"] in BROKEN]
    sys.exit(1 if broken else 0)


@main.command("export")
@db_option()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def export_command(db_url: str, file: str) -> None:
    """Write the whole store (sources, records, revisions, items, decisions) as JSON Lines."""
    from models.exchange import export_store
    from models.store import Store

    with Store(db_url) as store, click.open_file(file, "w", encoding="utf-8") as out:
        rows = export_store(store, out)
    click.echo(f"exported {rows} rows to {file}", err=True)


@main.command("import")
@db_option()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def import_command(db_url: str, file: str) -> None:
    """Load a JSON Lines export into an empty store (of the same schema version)."""
    from models.exchange import ImportError_, import_store
    from models.store import Store

    with Store(db_url) as store, click.open_file(file, encoding="utf-8") as lines:
        try:
            counts = import_store(store, lines)
        except ImportError_ as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"imported {sum(counts.values())} rows into {len(counts)} tables", err=True)


@main.group()
def sources() -> None:
    """Work with sources files."""


def _print_problems(exc: SourcesError) -> None:
    click.echo(f"{exc.path}: {len(exc.problems)} problem(s)", err=True)
    for problem in exc.problems:
        click.echo(f"  - {problem}", err=True)


@sources.command("check")
@click.argument("sources_file", type=click.Path(dir_okay=False))
def sources_check(sources_file: str) -> None:
    """Validate a sources file and say what is wrong: source id, key, what was expected."""
    try:
        config = load_sources(sources_file)
    except SourcesError as exc:
        _print_problems(exc)
        sys.exit(1)
    for source in config.sources:
        click.echo(f"{source.id:<32} {source.kind:<8} {source.url}")
    click.echo(f"{sources_file}: {len(config.sources)} sources, all valid")


main.add_command(items)

if __name__ == "__main__":
    main()
