"""Every cooperation instrument over real HTTP between two node processes (issue #3): each
request type's full path, and every branch of the one state machine."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from hanoi247.cooperation.schemas import REQUEST_TYPES
from hanoi247.demo import Network
from tests.e2e.conftest import api
from tests.e2e.test_federation_http import status_at, wait_for

pytestmark = pytest.mark.network

TYPES = sorted(REQUEST_TYPES)


def example(code: str) -> dict[str, Any]:
    return dict(REQUEST_TYPES[code].examples["complete"])


def sent(vnm: httpx.Client, fra: httpx.Client, code: str, **options: Any) -> str:
    """A request of type ``code`` from VNM, delivered at FRA."""
    response = vnm.post("/requests", json={"type": code, "recipient": "FRA", **options, **example(code)})
    assert response.status_code == 201, response.text
    rid = str(response.json()["id"])
    assert vnm.post(f"/requests/{rid}/submit").status_code == 200
    wait_for(lambda: status_at(fra, rid), lambda s: s == "delivered")
    return rid


def do(client: httpx.Client, rid: str, action: str, note: str = "", **data: Any) -> dict[str, Any]:
    response = client.post(f"/requests/{rid}/actions/{action}", json={"note": note, "data": data})
    assert response.status_code == 200, response.text
    return dict(response.json())


def seen(client: httpx.Client, rid: str, status: str) -> dict[str, Any]:
    return dict(wait_for(lambda: client.get(f"/requests/{rid}").json(), lambda r: r.get("status") == status))


def kinds_at(client: httpx.Client, rid: str) -> list[str]:
    return [e["kind"] for e in client.get(f"/requests/{rid}/events").json()]


def execute_data(code: str) -> dict[str, Any]:
    if REQUEST_TYPES[code].min_preservation_days:
        return {"preserved_until": (date.today() + timedelta(days=90)).isoformat()}
    return {"conditions": {"use_limitation": "Only for the investigation named in the request"}}


@pytest.mark.parametrize("code", TYPES)
def test_every_type_full_path(live_network: Network, code: str) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    rid = sent(vnm, fra, code, conditions={"confidential": True}, handling="TLP:AMBER")
    held = fra.get(f"/requests/{rid}").json()
    assert held["type"] == code and held["payload"] == vnm.get(f"/requests/{rid}").json()["payload"]
    assert held["conditions"] == {"confidential": True} and held["handling"] == "TLP:AMBER"
    assert [d["kind"] for d in held["deadlines"]] == ["acknowledgement"]
    assert held["urgent"] == REQUEST_TYPES[code].urgent
    do(fra, rid, "acknowledged")
    seen(vnm, rid, "acknowledged")
    done = do(fra, rid, "executed", "Done.", **execute_data(code))
    assert done["status"] == "executed"
    at_vnm = seen(vnm, rid, "executed")
    if not REQUEST_TYPES[code].min_preservation_days:
        assert at_vnm["answer_conditions"] == {"use_limitation": "Only for the investigation named in the request"}
    kinds = [e["kind"] for e in vnm.get(f"/requests/{rid}/events").json()]
    assert kinds == ["created", "submitted", "delivered", "acknowledged", "executed"]


def test_information_consultation_postponement_partial_execution(live_network: Network) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    rid = sent(vnm, fra, "mla_stored_data")
    do(fra, rid, "info_requested", "Give the account's creation date.")
    assert seen(vnm, rid, "info_requested")["deadlines"][-1]["owner"] == "requesting"
    do(vnm, rid, "info_provided", "Created on 3 March 2024.")
    wait_for(lambda: kinds_at(fra, rid), lambda k: "info_provided" in k)
    seen(fra, rid, "acknowledged")
    # Art. 40: no postponement before consultation.
    refused = fra.post(f"/requests/{rid}/actions/postponed", json={"note": "x", "data": {"until": "2099-01-01"}})
    assert refused.status_code == 422 and "consult" in refused.json()["detail"]
    do(fra, rid, "consultation_opened", "Execution would disturb our own investigation.", contemplating="postponement")
    seen(vnm, rid, "consultation")
    do(vnm, rid, "consultation_reply", "We can wait a month.", accepts_conditions=True)
    wait_for(lambda: kinds_at(fra, rid), lambda k: "consultation_reply" in k)
    until = (date.today() + timedelta(days=30)).isoformat()
    do(fra, rid, "postponed", "Ongoing domestic investigation.", until=until)
    assert seen(vnm, rid, "postponed")["postponed_until"] == until
    do(fra, rid, "resumed")
    seen(vnm, rid, "acknowledged")
    do(fra, rid, "partially_executed", "Subscriber data sent; traffic data follows.")
    seen(vnm, rid, "partially_executed")
    do(fra, rid, "executed", "Traffic data sent.")
    seen(vnm, rid, "executed")
    kinds = [e["kind"] for e in fra.get(f"/requests/{rid}/events").json()]
    assert kinds == [
        "submitted", "received", "info_requested", "info_provided", "consultation_opened", "consultation_reply",
        "postponed", "resumed", "partially_executed", "executed",
    ]  # fmt: skip


def test_refusal_after_consultation_is_seen_with_grounds(live_network: Network) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    rid = sent(vnm, fra, "extradition")
    early = fra.post(f"/requests/{rid}/refuse", json={"grounds": ["human_rights"], "reasons": "Risk of persecution."})
    assert early.status_code == 422 and "consult" in early.json()["detail"]
    do(fra, rid, "consultation_opened", "Assurances are needed.", contemplating="refusal", grounds=["human_rights"])
    seen(vnm, rid, "consultation")
    do(vnm, rid, "consultation_reply", "No assurances can be given.")
    wait_for(lambda: kinds_at(fra, rid), lambda k: "consultation_reply" in k)
    do(fra, rid, "refused", "Substantial grounds to fear persecution.", grounds=["human_rights"])
    refused = seen(vnm, rid, "refused")
    assert refused["refusal_grounds"] == ["human_rights"]
    assert refused["refusal_reasons"] == "Substantial grounds to fear persecution."


def test_withdrawal_by_the_requesting_state(live_network: Network) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    rid = sent(vnm, fra, "law_enforcement")
    do(fra, rid, "acknowledged")
    seen(vnm, rid, "acknowledged")
    do(vnm, rid, "withdrawn", "The suspect was arrested; assistance is no longer needed.")
    gone = seen(fra, rid, "withdrawn")
    assert all(d["met_at"] for d in gone["deadlines"]) and gone["actions"] == []


def test_preservation_extension_and_follow_up(live_network: Network) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    rid = sent(vnm, fra, "preservation")
    do(fra, rid, "acknowledged")
    do(fra, rid, "executed", preserved_until=(date.today() + timedelta(days=60)).isoformat())
    executed = seen(vnm, rid, "executed")
    assert {d["kind"] for d in executed["deadlines"]} >= {"preservation_expiry", "follow_up"}
    later = (date.today() + timedelta(days=150)).isoformat()
    do(vnm, rid, "extension_requested", "The MLA request is with our court.", until=later)
    wait_for(lambda: kinds_at(fra, rid), lambda k: "extension_requested" in k)
    do(fra, rid, "extended", preserved_until=later)
    assert wait_for(lambda: vnm.get(f"/requests/{rid}").json(), lambda r: r["preserved_until"] == later)
    # The follow-up MLA request is linked, and meets the follow-up deadline on both sides.
    case_id = executed["case_id"]
    follow = vnm.post(
        "/requests",
        json={"type": "mla_stored_data", "recipient": "FRA", "follows": rid, "case_id": case_id,
              **example("mla_stored_data")},
    )  # fmt: skip
    assert follow.status_code == 201, follow.text
    fid = follow.json()["id"]
    vnm.post(f"/requests/{fid}/submit")
    at_fra = seen(fra, fid, "delivered")
    assert at_fra["follows_id"] == rid and at_fra["case_id"] == case_id

    def follow_up_met(client: httpx.Client) -> bool:
        deadlines = client.get(f"/requests/{rid}").json()["deadlines"]
        return any(d["kind"] == "follow_up" and d["met_at"] for d in deadlines)

    wait_for(lambda: follow_up_met(fra), bool)
    assert follow_up_met(vnm)
    case = vnm.get(f"/cases/{case_id}").json()
    assert {r["id"] for r in case["requests"]} == {rid, fid}
    assert [e["kind"] for e in case["timeline"]][:2] == ["created", "submitted"]
