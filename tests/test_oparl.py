"""OParl sources: a real crawl of a local OParl server built from the spec's own examples."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest
from crawl_settings import PATIENT as FAST
from oparl_fixtures import MEETINGS, OparlServer, tombstone, validate

from regiofeed.models.crawl_result import CrawlResult
from regiofeed.models.sources import Source
from regiofeed.models.store import Store
from regiofeed.spiders.crawl import crawl


@pytest.fixture
def oparl() -> Iterator[OparlServer]:
    with OparlServer() as server:
        yield server


def source(url: str, kind: str = "oparl") -> Source:
    return Source(id="rat-beispielstadt", name="Ratsinformationssystem", publisher="Stadt",
                  url=url, kind=kind, licence="cc-by/4.0")


def by_id(result: CrawlResult, server: OparlServer) -> dict[str, object]:
    return {record.key.removeprefix(server.base): record for record in result.records}


def meeting_requests(server: OparlServer) -> list[str]:
    return [r for r in server.requests if r.startswith(MEETINGS)]


def test_fixtures_are_valid_oparl_1_1_but_the_1_0_quirk(oparl: OparlServer) -> None:
    for obj in oparl.served_objects():
        if obj["type"].startswith("https://schema.oparl.org/1.0/"):
            # Meeting 290 is OParl 1.0-style (location linked by URL): not valid 1.1.
            with pytest.raises(jsonschema.ValidationError):
                validate({**obj, "type": obj["type"].replace("/1.0/", "/1.1/")})
            continue
        validate(obj)
    validate(tombstone(oparl.meetings["/meeting/284"], datetime.now(UTC)))


def test_meetings_are_read_as_events_through_every_page(oparl: OparlServer) -> None:
    result = crawl(source(oparl.url("/")), FAST)
    assert result.ok, result.error
    records = by_id(result, oparl)
    assert set(records) == {f"/meeting/{n}" for n in (281, 282, 283, 284, 285, 290)}
    # Page 2 answered 500 once and was fetched again; page 3 was reached through links.next.
    assert meeting_requests(oparl).count(f"{MEETINGS}?page=2") == 2
    assert f"{MEETINGS}?page=3" in meeting_requests(oparl)
    assert not result.incremental and result.gone_keys == []

    first = records["/meeting/281"]
    # The committee's short name is in the meeting's name: the title stays as it is.
    assert first.title == "4. Sitzung des Finanzausschusses"
    assert first.kind == "event"
    assert first.event.start.isoformat() == "2013-01-04T08:00:00+01:00"
    assert first.event.end.isoformat() == "2013-01-04T12:00:00+01:00"
    assert first.event.organizer == "Ausschuss für Haushalt und Finanzen"
    assert first.event.location.street == "Ratshausplatz 1"
    assert first.event.location.postal_code == "12345"
    assert first.event.location.locality == "Beispielstadt"
    # The example gives [lat, lon] where GeoJSON wants [lon, lat]: read the German way round.
    assert (first.event.location.lat, first.event.location.lon) == (50.1234, 10.4321)
    assert "10.1 Satzungsänderung für Ausschreibungen" in first.content_text
    assert "Einladung: " + oparl.url("/files/57739.pdf") in first.content_text
    assert f'href="{oparl.url("/files/57739.pdf")}"' in first.content_html

    # A name that does not say which committee meets gets the committee's name.
    assert records["/meeting/285"].title == "Ausschuss für Haushalt und Finanzen: 8. Sitzung"
    assert records["/meeting/282"].event.status == "cancelled"
    assert records["/meeting/284"].event.status is None

    summer = records["/meeting/283"]
    assert summer.event.start.isoformat() == "2027-04-01T17:00:00+02:00"
    assert summer.event.location.name == "Plenarsaal, Deutscher Bundestag"
    assert summer.event.location.street == "Platz der Republik 1"
    assert summer.event.location.locality == "Berlin"
    assert "12 Haushaltssatzung 2027" in summer.content_text
    assert "Grundstücksangelegenheiten" not in summer.content_text  # not public

    # Linked, not embedded: the 1.0 meeting's location was fetched by its URL.
    linked = records["/meeting/290"]
    assert linked.event.location.postal_code == "11011"
    assert oparl.requests.count("/location/0") == 1
    assert oparl.requests.count("/organization/34") == 1  # once for all meetings
    # The watermark for the next run, kept as the meeting list's validator.
    assert set(result.validators) == {oparl.url(MEETINGS)}


def test_second_run_asks_modified_since_and_marks_deleted_meetings_gone(
        oparl: OparlServer, db_url: str) -> None:
    src = source(oparl.url("/"))
    with Store(db_url) as store:
        store.sync_sources([src])
        first = crawl(src, FAST, store.validators(src.id))
        assert first.ok, first.error
        summary = store.apply_crawl(store.begin_run(), first, datetime.now(UTC))
        assert summary.new == 6

        now = datetime.now(UTC)
        oparl.meetings["/meeting/284"] = tombstone(oparl.meetings["/meeting/284"], now)
        changed = oparl.meetings["/meeting/285"]
        changed.update(name="8. Sitzung (verlegt)",
                       start="2027-06-10T17:00:00+02:00", end="2027-06-10T19:00:00+02:00",
                       modified=now.isoformat(timespec="seconds"))
        oparl.requests.clear()

        second = crawl(src, FAST, store.validators(src.id))
        assert second.ok, second.error
        asked = meeting_requests(oparl)[0]
        since = dict(parse_qsl(urlsplit(asked).query))["modified_since"]
        # Sent as it stands, without percent-encoding, and in the last run's terms.
        assert f"modified_since={since}" in asked and "%" not in asked
        assert since == first.validators[oparl.url(MEETINGS)]["last_modified"]
        assert second.incremental
        assert [r.key for r in second.records] == [oparl.url("/meeting/285")]
        assert second.gone_keys == [oparl.url("/meeting/284")]

        summary = store.apply_crawl(store.begin_run(), second, datetime.now(UTC))
        assert (summary.new, summary.changed, summary.gone) == (0, 1, 1)
        assert summary.unchanged == 4  # the meetings the incremental list did not name
        live = {item["url"]: item for item in store.items()}
        assert oparl.url("/meeting/284") not in live
        assert live[oparl.url("/meeting/285")]["title"].endswith("(verlegt)")
        assert len(live) == 5
        gone = {item["url"] for item in store.items(gone_only=True)}
        assert gone == {oparl.url("/meeting/284")}


def test_a_list_page_that_keeps_failing_fails_the_source(oparl: OparlServer) -> None:
    oparl.fail_always = {f"{MEETINGS}?page=2"}
    result = crawl(source(oparl.url("/body/0")), FAST)
    assert not result.ok
    assert "HTTP 500" in result.error
    assert meeting_requests(oparl).count(f"{MEETINGS}?page=2") == 3  # two retries
    assert result.validators == {}  # no watermark: the next run walks from the same point


def test_nothing_modified_as_sternbergs_404_is_an_empty_list(oparl: OparlServer) -> None:
    src = source(oparl.url("/"))
    first = crawl(src, FAST)
    assert first.ok, first.error
    oparl.empty_filtered_as_404 = True
    second = crawl(src, FAST, first.validators)
    assert second.ok, second.error
    assert second.incremental and second.records == [] and second.gone_keys == []
    assert set(second.validators) == {oparl.url(MEETINGS)}  # the watermark moves on


def test_a_week_after_the_last_full_walk_the_list_is_walked_in_full(
        oparl: OparlServer) -> None:
    src = source(oparl.url("/"))
    first = crawl(src, FAST)
    watermark = first.validators[oparl.url(MEETINGS)]
    assert watermark["etag"].startswith("full:")
    week_ago = (datetime.now(UTC) - timedelta(days=7, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    oparl.requests.clear()
    second = crawl(src, FAST, {oparl.url(MEETINGS): {**watermark, "etag": "full:" + week_ago}})
    assert second.ok, second.error
    assert not second.incremental and len(second.records) == 6
    assert all("modified_since" not in r for r in meeting_requests(oparl))
    assert second.validators[oparl.url(MEETINGS)]["etag"] > "full:" + week_ago


def test_a_body_without_meetings_is_no_error(oparl: OparlServer) -> None:
    oparl.meetings.clear()
    result = crawl(source(oparl.url("/body/0")), FAST)
    assert result.ok, result.error
    assert result.records == []
    assert set(result.validators) == {oparl.url(MEETINGS)}


def test_auto_recognises_an_oparl_system_url(oparl: OparlServer) -> None:
    result = crawl(source(oparl.url("/"), "auto"), FAST)
    assert result.ok, result.error
    assert len(result.records) == 6
    assert result.discovered == f"OParl system {oparl.url('/')}"
    assert set(result.validators) == {oparl.url(MEETINGS)}
