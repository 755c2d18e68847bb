"""Statistics for the Conference: aggregate figures on a node, the secretariat's store and page."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from hanoi247.cooperation import services as cooperation
from hanoi247.cooperation.models import Request, RequestEvent
from hanoi247.directory import services as directory
from hanoi247.federation.envelope import new_message
from hanoi247.federation.models import InboxMessage, OutboxMessage
from hanoi247.reports import services as reports
from hanoi247.reports.models import StatisticsReport
from tests.conftest import Peer, verified_client
from tests.unit.test_inbox import envelope, post, request_message

YEAR = datetime.now(UTC).year
PERIOD = str(YEAR)
BASE = datetime(YEAR, 6, 1, 8, tzinfo=UTC)


def _incoming(peer: Peer, own_keys: Any, n: int) -> Request:
    msg = request_message(peer)
    msg["body"]["request"]["reference"] = f"{peer.state}-{YEAR}-{n:05d}"
    assert post(envelope(peer, msg, own_keys)).status_code == 200
    return Request.objects.get(pk=msg["case_ref"])


@pytest.fixture
def node_requests(network: dict[str, Peer], own_keys: Any, personas: Any, complete_payload: Any) -> list[Request]:
    """On VNM: 3 requests sent to FRA and 1 to BRA; 4 received from FRA, all acknowledged
    (after 1, 2, 3 and 4 hours), 3 executed (after 10, 20, 30 hours) and 1 refused."""
    officer = personas["officer"]
    made = []
    for recipient in ("FRA", "FRA", "FRA", "BRA"):
        req = cooperation.create_draft(officer, type="preservation", recipient=recipient, payload=complete_payload)
        made.append(cooperation.submit(officer, req))
    until = BASE.date() + timedelta(days=400)
    for n in range(4):
        req = _incoming(network["fra"], own_keys, n + 1)
        cooperation.acknowledge(officer, req)
        if n < 3:
            cooperation.execute(officer, req, preserved_until=until, note="Preserved at Example Mail SAS")
        else:
            cooperation.refuse(officer, req, grounds=["human_rights"], reasons="The request targets a journalist.")
        made.append(req)
    Request.objects.update(submitted_at=BASE)
    for n, req in enumerate(made[4:]):
        Request.objects.filter(pk=req.pk).update(
            acknowledged_at=BASE + timedelta(hours=n + 1), closed_at=BASE + timedelta(hours=10 * (n + 1))
        )
    return made


def test_a_node_aggregates_by_type_counterpart_and_time(node_requests: list[Request]) -> None:
    body = reports.compute(PERIOD)
    assert (body["state"], body["period"], body["k"]) == ("VNM", PERIOD, 3)
    assert body["requests"] == [
        {"direction": "incoming", "type": "preservation", "counterpart": "FRA", "count": 4, "suppressed": False},
        {"direction": "outgoing", "type": "preservation", "counterpart": "BRA", "count": None, "suppressed": True},
        {"direction": "outgoing", "type": "preservation", "counterpart": "FRA", "count": 3, "suppressed": False},
    ]
    incoming, outgoing = body["timings"]
    assert incoming["acknowledgement"] == {"n": 4, "suppressed": False, "median_hours": 2.5, "p90_hours": 3.7}
    assert incoming["execution"] == {"n": 3, "suppressed": False, "median_hours": 20.0, "p90_hours": 28.0}
    assert outgoing["acknowledgement"]["suppressed"] and outgoing["acknowledgement"]["median_hours"] is None
    assert body["refusals"] == [
        {"direction": "incoming", "type": "preservation", "ground": "human_rights", "count": None, "suppressed": True}
    ]
    # Preserved until 400 days after the start of the period: not lapsed yet.
    assert body["lapsed_preservations"] == {"count": 0, "suppressed": False, "note": reports.LAPSE_NOTE}
    assert reports.compute(str(YEAR - 1))["requests"] == []


def test_preservations_that_lapsed_without_follow_up_are_counted(node_requests: list[Request]) -> None:
    from django.utils import timezone

    from hanoi247.cooperation.services import check_deadlines

    Request.objects.filter(status="executed").update(preserved_until=timezone.localdate() - timedelta(days=1))
    assert reports.compute(PERIOD)["lapsed_preservations"]["count"] == 0  # not lapsed until the worker says so
    assert len(check_deadlines()) == 3
    assert reports.compute(PERIOD)["lapsed_preservations"]["count"] == 3
    Request.objects.filter(status="lapsed").first().delete()  # type: ignore[union-attr]
    assert reports.compute(PERIOD)["lapsed_preservations"] == {
        "count": None,
        "suppressed": True,
        "note": reports.LAPSE_NOTE,
    }


def test_small_cells_and_percentiles_are_suppressed(network: Any, personas: Any, complete_payload: Any) -> None:
    officer = personas["officer"]
    req = cooperation.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)
    cooperation.submit(officer, req)
    cooperation.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)  # a draft
    body = reports.compute()
    assert body["requests"] == [
        {"direction": "outgoing", "type": "preservation", "counterpart": "FRA", "count": None, "suppressed": True}
    ]
    timing = body["timings"][0]
    assert timing["acknowledgement"]["n"] is None and timing["execution"]["p90_hours"] is None


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) and len(value) >= 4 else set()


def test_the_report_cannot_be_traced_to_a_request(node_requests: list[Request]) -> None:
    body = reports.compute(PERIOD)
    serialized = json.dumps(body)
    secrets = {"Lan Nguyen", "Claire Martin", "Preserved at Example Mail SAS", "The request targets a journalist."}
    for req in Request.objects.all():
        secrets |= {str(req.pk), req.pk.hex, req.reference} | _strings(req.payload)
        for event in RequestEvent.objects.filter(request=req):
            secrets |= {str(event.pk), event.actor_name} | ({event.note} if event.note else set())
    leaked = {s for s in secrets if s and s in serialized}
    assert not leaked

    # Details that are not a request's type, States, status or times change nothing.
    one = Request.objects.get(pk=node_requests[-1].pk)
    one.reference = "FRA-1999-99999"
    one.payload = {**one.payload, "offence": "Something else entirely"}
    one.refusal_reasons = "Other reasons."
    one.created_by = None
    one.save()
    RequestEvent.objects.filter(request=one).update(actor_name="Somebody Else", note="changed")
    assert reports.compute(PERIOD) == body


def test_send_queues_a_statistics_report_for_the_secretariat(node_requests: Any) -> None:
    row = reports.send(PERIOD)
    assert (row.type, row.recipient, row.case_ref) == ("statistics.report", "UNO", f"stats-VNM-{PERIOD}")
    assert row.message["body"] == reports.compute(PERIOD)
    assert OutboxMessage.objects.filter(type="statistics.report").count() == 1


def test_report_show_prints_the_body(node_requests: Any, capsys: Any) -> None:
    call_command("report", "show", "--period", PERIOD)
    assert json.loads(capsys.readouterr().out) == reports.compute(PERIOD)


# -- the secretariat ----------------------------------------------------------------------


@pytest.fixture
def secretariat(network: dict[str, Peer], settings: Any) -> dict[str, Peer]:
    settings.NODE = dataclasses.replace(settings.NODE, kind="secretariat", state="UNO")
    return network


def fra_body(**changes: Any) -> dict[str, Any]:
    body = {
        "format": "hanoi247-statistics/1",
        "state": "FRA",
        "period": PERIOD,
        "period_start": f"{YEAR}-01-01",
        "period_end": f"{YEAR + 1}-01-01",
        "k": 3,
        "requests": [
            {"direction": "outgoing", "type": "preservation", "counterpart": "VNM", "count": 7, "suppressed": False},
            {"direction": "incoming", "type": "preservation", "counterpart": "VNM", "count": None, "suppressed": True},
        ],
        "timings": [
            {
                "direction": "outgoing",
                "type": "preservation",
                "acknowledgement": {"n": 7, "suppressed": False, "median_hours": 3.0, "p90_hours": 9.5},
                "execution": {"n": None, "suppressed": True, "median_hours": None, "p90_hours": None},
            }
        ],
        "refusals": [],
        "lapsed_preservations": {
            "count": 0,
            "suppressed": False,
            "note": "follow-up requests are not modelled yet: every preservation past its term counts",
        },
    }
    body.update(changes)
    return body


def report_message(peer: Peer, body: dict[str, Any], seq: int = 1, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": "statistics.report",
        "sender": peer.state,
        "recipient": "UNO",
        "body": body,
        "case_ref": f"stats-{peer.state}-{PERIOD}",
        "seq": seq,
    }
    fields.update(overrides)
    return new_message(**fields)


def test_the_secretariat_stores_the_latest_report(secretariat: dict[str, Peer], own_keys: Any) -> None:
    fra = secretariat["fra"]
    first = report_message(fra, fra_body())
    response = post(envelope(fra, first, own_keys))
    assert response.status_code == 200, response.json()
    stored = StatisticsReport.objects.get(state="FRA", period=PERIOD)
    assert stored.body == fra_body() and str(stored.message_id) == first["id"]

    second = report_message(fra, fra_body(refusals=[]), seq=2)
    second["body"]["requests"][0]["count"] = 8
    assert post(envelope(fra, second, own_keys)).status_code == 200
    stored = StatisticsReport.objects.get()
    assert stored.body["requests"][0]["count"] == 8 and str(stored.message_id) == second["id"]


BAD_CELL = {"direction": "outgoing", "type": "preservation", "counterpart": "VNM"}


@pytest.mark.parametrize(
    "body",
    [
        fra_body(reference="FRA-2026-00001"),  # a field the schema does not have
        fra_body(requests=[{**BAD_CELL, "count": 1, "suppressed": False}]),  # a small cell not suppressed
        fra_body(requests=[{**BAD_CELL, "count": 5, "suppressed": True}]),  # suppressed yet given
        fra_body(requests=[{**BAD_CELL, "type": "Claire Martin asked", "count": 5, "suppressed": False}]),
        fra_body(lapsed_preservations={"count": 4, "tracked": True, "note": "invented"}),
        fra_body(state="BRA"),  # not the sender's own figures
        fra_body(period="last year"),
        {"free": "text"},
    ],
)
def test_a_malformed_report_is_refused_and_nothing_stored(
    secretariat: dict[str, Peer], own_keys: Any, body: dict[str, Any]
) -> None:
    fra = secretariat["fra"]
    response = post(envelope(fra, report_message(fra, body), own_keys))
    assert response.status_code == 422 and response.json()["error"] == "invalid_body", response.json()
    assert not StatisticsReport.objects.exists() and not InboxMessage.objects.exists()


def test_a_node_refuses_statistics_reports(network: dict[str, Peer], own_keys: Any) -> None:
    fra = network["fra"]
    msg = report_message(fra, fra_body(), recipient="VNM")
    assert post(envelope(fra, msg, own_keys)).status_code == 422
    assert not StatisticsReport.objects.exists()


def test_the_secretariat_publishes_itself_in_the_directory(secretariat: Any) -> None:
    snap = directory.publish()
    assert [n["state"] for n in snap.document["nodes"]] == []
    assert snap.document["secretariat"]["state"] == "UNO"
    found = directory.current(max_age=0)
    assert found is not None and found.encryption_jwk("UNO") is not None


def _store(state: str, body: dict[str, Any]) -> None:
    StatisticsReport.objects.create(
        state=state, period=PERIOD, body=body, received_at=BASE, message_id="01900000-0000-7000-8000-000000000000"
    )


def test_the_conference_page_and_csv_are_for_the_secretariat(secretariat: Any, personas: Any) -> None:
    _store("FRA", fra_body())
    _store("BRA", fra_body(state="BRA"))
    client = verified_client(personas["secretariat"])
    page = client.get(f"/reports/?period={PERIOD}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "France" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    assert page.context["combined"].sent == 14 and page.context["combined"].suppressed_cells == 2
    assert page.context["combined"].by_type == {"preservation": {"sent": 14, "received": 0}}
    download = client.get(f"/reports/conference.csv?period={PERIOD}")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    lines = download.content.decode().splitlines()
    assert lines[0] == ",".join(reports.CSV_FIELDS)
    assert f"FRA,{PERIOD},requests,outgoing,preservation,VNM,,count,7,false" in lines

    officer = verified_client(personas["officer"])
    assert officer.get("/reports/").status_code == 404
    assert officer.get("/reports/conference.csv").status_code == 404
    assert Client().get("/reports/").status_code == 302


def test_the_conference_page_is_not_on_a_state_node(network: Any, personas: Any) -> None:
    assert verified_client(personas["secretariat"]).get("/reports/").status_code == 404


@pytest.mark.parametrize("period", ["0000", "abcd", "20266", ""])
def test_a_nonsense_period_is_refused(network: Any, period: str) -> None:
    with pytest.raises(reports.ReportError):
        reports.compute(period or "x")
