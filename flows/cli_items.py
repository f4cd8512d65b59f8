"""`regiofeed items`: list, show (why records were joined), merge and split items."""

from __future__ import annotations

import json
import sys

import click

from regiofeed.models.defaults import DEFAULT_DB


def _db(func: click.decorators.FC) -> click.decorators.FC:
    return click.option("--db", "db_url", default=DEFAULT_DB, envvar="REGIOFEED_DB",
                        show_default=True, help="Store URL: sqlite:///FILE or postgresql://…")(func)


@click.group()
def items() -> None:
    """Inspect items and correct dedupe: merge two items, split a record out of one."""


@items.command("list")
@_db
@click.option("--kind", type=click.Choice(["news", "event"]), default=None,
              help="Only items of this kind.")
@click.option("--all", "include_gone", is_flag=True, help="Include items whose records are gone.")
def list_items(db_url: str, kind: str | None, include_gone: bool) -> None:
    """List items: id, number of sources, title."""
    # Loaded per command: `regiofeed run` starts its Prefect server before the store.
    from regiofeed.models.store import Store

    with Store(db_url) as store:
        for item in store.items(include_gone=include_gone):
            ext = item["_regiofeed"]
            if kind and ext["kind"] != kind:
                continue
            click.echo(f"{item['id']}  {ext['kind']:<5} {len(ext['sources'])} "
                       f"{item['title']}")


@items.command("show")
@_db
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.argument("item_id")
def show(db_url: str, as_json: bool, item_id: str) -> None:
    """Show an item, its records, why each was joined and which one gives the fields."""
    # Loaded per command: `regiofeed run` starts its Prefect server before the store.
    from regiofeed.models.store import Store

    with Store(db_url) as store:
        found = store.explain_item(item_id)
    if found is None:
        click.echo(f"no such item: {item_id}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if found["asked"] != found["id"]:
        click.echo(f"{found['asked']} was merged into {found['id']}")
    title = (found["object"] or {}).get("title", "")
    click.echo(f"item {found['id']}{' (gone)' if found['gone'] else ''}: {title}")
    if found["merged_from"]:
        click.echo(f"  merged from: {', '.join(found['merged_from'])}")
    for r in found["records"]:
        click.echo(f"  #{r['rank']} record {r['record_id']} [{r['source_id']}]"
                   f"{' (gone)' if r['gone'] else ''} {r['url'] or ''}")
        click.echo(f"      {r['title']}")
        click.echo(f"      fields: {r['why_rank']}")
        note = f" — {r['join_note']}" if r["join_note"] else ""
        click.echo(f"      joined: {r['join_rule']}{note}")
    for d in found["decisions"]:
        click.echo(f"  decision {d['at']}: {d['action']} {d['item_id']} "
                   f"{d['other'] or ''} {d['record_id'] or ''} {d['note'] or ''}".rstrip())


@items.command("merge")
@_db
@click.option("--note", default=None, help="Why, kept with the decision.")
@click.argument("first")
@click.argument("second")
def merge(db_url: str, note: str | None, first: str, second: str) -> None:
    """Merge two items for good; the older id survives, the other points to it."""
    # Loaded per command: `regiofeed run` starts its Prefect server before the store.
    from regiofeed.models.store import Store
    from regiofeed.models.store_items import ItemError

    with Store(db_url) as store:
        try:
            survivor = store.merge_items(first, second, note)
        except ItemError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
    absorbed = second if survivor != second else first
    click.echo(f"merged: {survivor} (absorbed {absorbed})")


@items.command("split")
@_db
@click.option("--note", default=None, help="Why, kept with the decision.")
@click.argument("item_id")
@click.argument("record_id", type=int)
def split(db_url: str, note: str | None, item_id: str, record_id: int) -> None:
    """Take RECORD_ID out of ITEM_ID into an item of its own; it never rejoins ITEM_ID."""
    # Loaded per command: `regiofeed run` starts its Prefect server before the store.
    from regiofeed.models.store import Store
    from regiofeed.models.store_items import ItemError

    with Store(db_url) as store:
        try:
            new_id = store.split_record(item_id, record_id, note)
        except ItemError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
    click.echo(f"split: record {record_id} is now item {new_id}")
