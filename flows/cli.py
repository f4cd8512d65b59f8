"""The `regiofeed` command line: run, demo, serve, and sources check."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from regiofeed.flows.cli_items import items
from regiofeed.flows.cli_push import push
from regiofeed.models.defaults import DEFAULT_DB
from regiofeed.models.redact import redact
from regiofeed.models.sources import SourcesConfig, SourcesError, load_sources, select_sources

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


# Exit codes of `regiofeed run` and `regiofeed demo`.
EXIT_OK = 0  # every source crawled fine
EXIT_SOURCES_FAILED = 1  # the run published, but at least one source failed
EXIT_USAGE = 2  # an option or the sources file is wrong: nothing ran
EXIT_RUN_FAILED = 3  # the run itself failed (store, bug): it is marked failed in the store


def _fail_usage(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _run_flow(sources_file: str, db_url: str, out_dir: str, silent: bool, *,
              force: bool = False, only: tuple[str, ...] = (),
              config: SourcesConfig | None = None) -> int:
    """Run the aggregate flow (a temporary Prefect API unless PREFECT_API_URL names one).

    Return the exit code. SIGTERM and SIGINT end the process at once with 128 + the signal,
    after the run is marked failed and the temporary Prefect server stopped: crawls still under
    way are abandoned (their results were not stored; the published tree is untouched or
    complete, as every file is swapped in atomically).
    """
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.flows.interrupt import Terminated, interruptible
    from regiofeed.flows.prefect_server import ApiUnreachable, prefect_api

    try:
        with prefect_api() as api:
            # While a temporary Prefect server boots: open (and migrate) the store, import.
            _open_store(db_url)
            if config is not None:
                _start_crawlers(config, db_url, force, only)
            # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
            from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

            # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
            from regiofeed.flows.aggregate import aggregate
            from regiofeed.flows.progress import terminal_progress


            try:
                api.wait_ready()
            except ApiUnreachable as exc:
                _fail_usage(redact(str(exc)))
            # The heartbeat thread sleeps in one-second steps and delays every run's end
            # (STACK.md).
            with interruptible(spare=lambda: {api.pid}), \
                    temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), \
                    terminal_progress(not silent), _console_errors_only(silent):
                report = aggregate(sources_file=sources_file, db_url=db_url, out_dir=out_dir,
                                   force=force, only=list(only) or None)
    except Terminated as stop:
        click.echo(f"run stopped by {signal.Signals(stop.signum).name}: marked failed, "
                   "nothing half-written", err=True)
        _exit_now(128 + stop.signum)
    except Exception as exc:  # one line for the operator; the flow's log has the traceback
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        click.echo(f"run failed: {redact(lines[0])}", err=True)
        return EXIT_RUN_FAILED
    if not silent:
        click.echo(f"{'source':<32} {'status':<7} {'seen':>5} {'new':>5} "
                   f"{'changed':>7} {'gone':>5}")
        for s in report.sources:
            click.echo(f"{s.source_id:<32} {'ok' if s.ok else 'FAILED':<7} {s.records_seen:>5} "
                       f"{s.new:>5} {s.changed:>7} {s.gone:>5}")
            if s.error:
                click.echo(f"    {redact(s.error)}")
        click.echo(f"{len(report.written)} files written, {len(report.unchanged)} unchanged "
                   f"in {out_dir}/")
    return EXIT_SOURCES_FAILED if report.failed else EXIT_OK


def _exit_now(code: int) -> NoReturn:
    """Leave without waiting for crawl threads that are still fetching."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _check_options(config: SourcesConfig, db_url: str, out_dir: str,
                   only: tuple[str, ...]) -> None:
    """What an operator can get wrong, checked before anything starts (exit 2)."""
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.flows.preflight import OptionError, check_db_url, check_out_dir

    unknown = sorted(set(only) - {s.id for s in config.sources})
    if unknown:
        _fail_usage(f"--source: no such source in the sources file: {', '.join(unknown)}")
    try:
        check_db_url(db_url)
        check_out_dir(out_dir)
    except OptionError as exc:
        _fail_usage(str(exc))


def _start_crawlers(config: SourcesConfig, db_url: str, force: bool,
                    only: tuple[str, ...]) -> None:
    """Start this process's crawler processes while the Prefect server boots, if the run
    will crawl here: they are ready (Scrapy imported) when the flow hands them sources."""
    if os.environ.get("REGIOFEED_DASK_ADDRESS"):
        return  # the crawl runs on the Dask cluster's workers
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.models.store import Store
    from regiofeed.models.tables import utcnow
    from regiofeed.spiders.engine import shared_engine

    with Store(db_url) as store:  # the same choice flows.aggregate makes
        due = select_sources(config, store.last_attempts(), force, list(only) or None,
                             store.deferred(utcnow()))
    if not due:
        return
    engine = shared_engine(config.crawl)
    # This process crawls once: the crawler processes go when the crawl is over.
    engine.release_after_crawl()
    engine.start()


def _open_store(db_url: str) -> None:
    """Open and migrate the store once: one that cannot be opened is a usage error (exit 2)."""
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.flows.preflight import OptionError, check_db_url, open_store_or_fail

    try:
        check_db_url(db_url)
        open_store_or_fail(db_url)
    except OptionError as exc:
        _fail_usage(str(exc))


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
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
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
    """Run the pipeline once: crawl the sources that are due, store, publish.

    Exit status: 0 every source ok, 1 some sources failed (the rest is published), 2 a wrong
    option or sources file (nothing ran), 3 the run failed, 130/143 stopped by SIGINT/SIGTERM.
    """
    try:
        config = load_sources(sources_file)
    except SourcesError as exc:
        _print_problems(exc)
        sys.exit(EXIT_USAGE)
    _check_options(config, db_url, out_dir, only)
    sys.exit(_run_flow(sources_file, db_url, out_dir, silent, force=force, only=only,
                       config=config))


@main.command()
@db_option("sqlite:///data/demo.db")
@out_option
@click.option("--first-port", default=8701, show_default=True, type=int,
              help="Port of the first demo site (the next ones follow; 0 for any free ports).")
@silent_option
def demo(db_url: str, out_dir: str, first_port: int, silent: bool) -> None:
    """Serve the bundled demo websites on 127.0.0.1 and run the pipeline against them."""
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.flows.demo.server import render_demo_sources, serve_demo_sites

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
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.flows.serve import serve_tree

    serve_tree(Path(out_dir), host=host, port=port)


@main.command()
@click.option("--sources", "sources_file", default="sources.toml", envvar="REGIOFEED_SOURCES",
              show_default=True, type=click.Path(dir_okay=False),
              help="The sources file whose sources to report on.")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="Print the health report as JSON.")
def health(sources_file: str, db_url: str, as_json: bool) -> None:
    """Print each source's health: status, last success, items, and why it looks broken."""
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    import json

    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.models.health import BROKEN
    from regiofeed.models.store import Store

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
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.models.exchange import export_store
    from regiofeed.models.store import Store

    # atomic: the file appears under its name only once it is complete.
    with Store(db_url) as store, click.open_file(file, "w", encoding="utf-8",
                                                 atomic=file != "-") as out:
        counts = export_store(store, out)
    click.echo(f"exported {sum(counts.values())} rows to {file}", err=True)


@main.command("import")
@db_option()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def import_command(db_url: str, file: str) -> None:
    """Load a JSON Lines export into an empty store (of the same schema version)."""
    # Loaded per command: the CLI starts fast, without Prefect, Scrapy or the store.
    from regiofeed.models.exchange import ImportError_, import_store
    from regiofeed.models.store import Store

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
main.add_command(push)

if __name__ == "__main__":
    main()
