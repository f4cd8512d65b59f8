"""The Smart Village App push: mutations valid against the published schema, and a local
mainserver that receives a push, an identical push (nothing sent), a change and a removal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from crawl_settings import PATIENT as FAST
from graphql import parse, validate
from graphql.execution.values import get_variable_values
from oparl_fixtures import OparlServer, tombstone
from sva_fixtures import CLIENT_ID, CLIENT_SECRET, SvaServer, sva_schema

from regiofeed.flows.cli import main
from regiofeed.flows.push_sva import push_sva
from regiofeed.models.push_config import SvaPushConfig
from regiofeed.models.sources import Source, SourcesError, parse_sources
from regiofeed.models.store import Store
from regiofeed.publish.sva import Mutation, destroy_mutation, item_mutation
from regiofeed.spiders.crawl import crawl

ENV = {"REGIOFEED_SVA_CLIENT_ID": CLIENT_ID, "REGIOFEED_SVA_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture
def oparl() -> Iterator[OparlServer]:
    with OparlServer() as server:
        yield server


@pytest.fixture
def sva() -> Iterator[SvaServer]:
    with SvaServer() as server:
        yield server


def sources(site_url: str, oparl: OparlServer) -> list[Source]:
    return [
        Source(id="rat", name="Ratsinformationssystem", publisher="Stadt Beispielstadt",
               url=oparl.url("/"), kind="oparl", licence="cc-by/4.0"),
        Source(id="presse", name="Pressemitteilungen", publisher="Stadt Musterstadt",
               url=site_url, kind="rss", licence="dl-by-de/2.0"),
    ]


def collect(db_url: str, srcs: list[Source]) -> None:
    """One real crawl of every source into the store."""
    with Store(db_url) as store:
        store.sync_sources(srcs)
        run = store.begin_run()
        for src in srcs:
            result = crawl(src, FAST, store.validators(src.id))
            assert result.ok, result.error
            store.apply_crawl(run, result, datetime.now(UTC))


def config(sva: SvaServer) -> SvaPushConfig:
    return SvaPushConfig(endpoint=sva.base + "/graphql", token_url=sva.base + "/oauth/token")


def schema_errors(mutation: Mutation) -> list[str]:
    schema = sva_schema()
    document = parse(mutation.document)
    errors = [e.message for e in validate(schema, document)]
    coerced = get_variable_values(schema, document.definitions[0].variable_definitions,
                                  mutation.variables)
    if isinstance(coerced, list):
        errors += [e.message for e in coerced]
    return errors


def test_every_mutation_validates_against_the_published_schema(
        site, oparl: OparlServer, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    collect(db_url, sources(site.url("/feeds/rss.xml"), oparl))
    with Store(db_url) as store:
        items = store.items()
    kinds = {item["_regiofeed"]["kind"] for item in items}
    assert kinds == {"news", "event"}
    for item in items:
        mutation = item_mutation(item)
        assert schema_errors(mutation) == [], item["title"]
    assert schema_errors(destroy_mutation("EventRecord", "17")) == []
    # A variable of the wrong type would be caught: the check is not vacuous.
    broken = Mutation(item_mutation(items[0]).document, {"title": {"no": "string"}},
                      "x", "NewsItem")
    assert schema_errors(broken)


def test_push_then_identical_push_then_change_then_removal(
        site, oparl: OparlServer, sva: SvaServer, db_url: str, tmp_path: Path) -> None:
    srcs = sources(site.url("/feeds/rss.xml"), oparl)
    collect(db_url, srcs)
    with Store(db_url) as store:
        items = {item["id"]: item for item in store.items()}

    first = push_sva(config(sva), db_url, env=ENV)
    assert first.error is None
    assert (first.created, first.updated, first.removed) == (len(items), 0, 0)
    held = sva.by_external_id()
    assert set(held) == set(items)  # the item's stable id is the external id
    by_title = {r["title"]: r for r in held.values()}

    news = by_title["Sommerfest im Stadtpark"]
    assert news["type"] == "NewsItem"
    assert news["sourceUrl"]["url"] == site.url("/meldungen/sommerfest-im-stadtpark/")
    body = news["contentBlocks"][0]["body"]
    assert "Sommerfest" in body
    assert "© Stadt Musterstadt" in body and "dl-by-de/2.0" in body  # attribution, licence

    meeting = by_title["Ausschuss für Haushalt und Finanzen: 8. Sitzung"]
    assert meeting["type"] == "EventRecord"
    assert meeting["dates"] == [{"dateStart": "2027-06-03", "dateEnd": "2027-06-03",
                                 "timeStart": "17:00", "timeEnd": "19:00"}]
    assert meeting["addresses"][0]["zip"] == "12345"
    assert meeting["addresses"][0]["city"] == "Beispielstadt"
    assert {"name": "Ausschuss für Haushalt und Finanzen"} in meeting["categories"]
    assert "Lizenz: Creative Commons Namensnennung 4.0" in meeting["description"]
    assert "Abgesagt: 5. Sitzung des Finanzausschusses" in by_title  # cancelled, said so

    # The same store again: nothing is sent, not even a token is asked for.
    sent, tokens = len(sva.requests), sva.token_requests
    again = push_sva(config(sva), db_url, env=ENV)
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == len(items)
    assert (len(sva.requests), sva.token_requests) == (sent, tokens)

    # One meeting moves, one is deleted at the source.
    now = datetime.now(UTC)
    moved = oparl.meetings["/meeting/285"]
    moved.update(start="2027-06-10T17:00:00+02:00", end="2027-06-10T19:00:00+02:00",
                 modified=now.isoformat(timespec="seconds"))
    oparl.meetings["/meeting/284"] = tombstone(oparl.meetings["/meeting/284"], now)
    old_id = meeting["id"]
    collect(db_url, srcs[:1])
    third = push_sva(config(sva), db_url, env=ENV)
    assert third.error is None
    assert (third.created, third.updated, third.removed) == (0, 1, 1)
    assert third.unchanged == len(items) - 2
    held = sva.by_external_id()
    assert len(held) == len(items) - 1
    assert "7. Sitzung des Finanzausschusses" not in {r["title"] for r in held.values()}
    moved_now = next(r for r in held.values() if r["title"].endswith("8. Sitzung"))
    assert moved_now["dates"][0]["dateStart"] == "2027-06-10"
    assert moved_now["id"] != old_id  # the server recreated it
    # Exactly two mutations went out for that: one create, one destroy.
    fields = [next(iter(parse(r["query"]).definitions[0].selection_set.selections)).name.value
              for r in sva.requests[sent:]]
    assert sorted(fields) == ["createEventRecord", "destroyRecord"]


def test_push_needs_credentials_from_the_environment(
        site, oparl: OparlServer, sva: SvaServer, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    collect(db_url, sources(site.url("/feeds/rss.xml"), oparl)[1:])
    report = push_sva(config(sva), db_url, env={})
    assert "REGIOFEED_SVA_CLIENT_SECRET" in (report.error or "")
    assert sva.requests == []
    wrong = push_sva(config(sva), db_url, env={**ENV, "REGIOFEED_SVA_CLIENT_SECRET": "nope"})
    assert "HTTP 401" in (wrong.error or "")
    with pytest.raises(SourcesError, match="from the environment"):
        parse_sources(f"""
[[source]]
id = "a"
name = "A"
publisher = "P"
url = "https://a.example/feed.xml"
kind = "rss"
licence = "cc-zero"

[push.sva]
endpoint = "{sva.base}/graphql"
token_url = "{sva.base}/oauth/token"
client_secret = "{CLIENT_SECRET}"
""")


def test_cli_pushes_and_health_json_says_so(
        site, sva: SvaServer, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    feed = site.url("/feeds/rss.xml")
    sources_file = tmp_path / "sources.toml"
    sources_file.write_text(f"""
[[source]]
id = "presse"
name = "Pressemitteilungen"
publisher = "Stadt Musterstadt"
url = "{feed}"
kind = "rss"
licence = "dl-by-de/2.0"

[push.sva]
endpoint = "{sva.base}/graphql"
token_url = "{sva.base}/oauth/token"
kinds = ["news"]
""")
    collect(db_url, parse_sources(sources_file.read_text()).sources)
    out = tmp_path / "public"
    out.mkdir()
    (out / "health.json").write_text(json.dumps({"generated_by": "regiofeed", "sources": {}}))
    args = ["push", "sva", "--sources", str(sources_file), "--db", db_url, "--out", str(out)]
    result = CliRunner().invoke(main, args, env=ENV)
    assert result.exit_code == 0, result.output
    assert "sva: 2 created, 0 updated, 0 removed, 0 unchanged" in result.output
    health = json.loads((out / "health.json").read_text())
    assert health["push"]["sva"]["ok"] is True
    assert health["push"]["sva"]["items"] == 2
    assert health["sources"] == {}  # the rest of the ledger as it was
    failing = CliRunner().invoke(main, args, env={"REGIOFEED_SVA_CLIENT_ID": ""})
    assert failing.exit_code == 0  # nothing changed: nothing to send, no credentials needed
    assert "0 created, 0 updated, 0 removed, 2 unchanged" in failing.output


@pytest.mark.slow
def test_the_flow_pushes_after_publishing_when_configured(
        harness: None, oparl: OparlServer, sva: SvaServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from regiofeed.flows.aggregate import aggregate

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    sources_file = tmp_path / "sources.toml"
    sources_file.write_text(f"""
[crawl]
delay = 0
timeout = 5

[[source]]
id = "rat"
name = "Ratsinformationssystem"
publisher = "Stadt Beispielstadt"
url = "{oparl.url('/')}"
kind = "auto"
licence = "cc-by/4.0"

[push.sva]
endpoint = "{sva.base}/graphql"
token_url = "{sva.base}/oauth/token"
""")
    out = tmp_path / "public"
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    report = aggregate(sources_file=str(sources_file), db_url=db_url, out_dir=str(out))
    assert report.failed == []
    assert len(sva.by_external_id()) == 6  # every meeting, through auto's OParl walk
    health = json.loads((out / "health.json").read_text())
    assert health["push"]["sva"]["created"] == 6
    assert health["push"]["sva"]["ok"] is True
    assert health["sources"]["rat"]["status"] == "ok"


def test_push_commands_have_help() -> None:
    import click

    from regiofeed.flows.cli_push import push

    for name, command in push.commands.items():
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name}"
