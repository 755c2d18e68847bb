"""Two States over real HTTP on loopback: node processes, each with its own database."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hanoi247.demo import Network, drop_databases
from tests.conftest import COMPLETE
from tests.e2e.conftest import api, start_network

pytestmark = pytest.mark.network


def wait_for(fetch: Any, check: Any, timeout: float = 20.0) -> Any:
    """Poll until ``check(value)``; the bound is generous because this is not a timing test."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        time.sleep(0.05)


def status_at(client: httpx.Client, rid: str) -> str | None:
    response = client.get(f"/requests/{rid}")
    return response.json()["status"] if response.status_code == 200 else None


def new_request(vnm: httpx.Client, recipient: str = "FRA") -> str:
    response = vnm.post("/requests", json={"type": "preservation", "recipient": recipient, **COMPLETE})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_preservation_end_to_end(live_network: Network) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    rid = new_request(vnm)
    assert vnm.post(f"/requests/{rid}/submit").json()["status"] == "submitted"
    wait_for(lambda: status_at(fra, rid), lambda s: s == "delivered")
    wait_for(lambda: status_at(vnm, rid), lambda s: s == "delivered")
    held = fra.get(f"/requests/{rid}").json()
    assert held["direction"] == "incoming" and held["payload"]["offence"] == COMPLETE["offence"]

    assert fra.post(f"/requests/{rid}/acknowledge").json()["status"] == "acknowledged"
    wait_for(lambda: status_at(vnm, rid), lambda s: s == "acknowledged")
    until = (date.today() + timedelta(days=75)).isoformat()
    assert fra.post(f"/requests/{rid}/execute", json={"preserved_until": until}).json()["status"] == "executed"
    done = wait_for(lambda: vnm.get(f"/requests/{rid}").json(), lambda r: r["status"] == "executed")
    assert done["preserved_until"] == until

    at_vnm = vnm.get(f"/requests/{rid}/events").json()
    assert [e["kind"] for e in at_vnm] == ["created", "submitted", "delivered", "acknowledged", "executed"]
    ack = at_vnm[3]
    assert (ack["actor_name"], ack["actor_state"], ack["actor_role"]) == ("24/7 Officer FRA", "FRA", "officer")
    at_fra = [e["kind"] for e in fra.get(f"/requests/{rid}/events").json()]
    assert at_fra == ["submitted", "received", "acknowledged", "executed"]


def test_refusal_is_seen_with_grounds_and_reasons(live_network: Network) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    rid = new_request(vnm)
    vnm.post(f"/requests/{rid}/submit")
    wait_for(lambda: status_at(fra, rid), lambda s: s == "delivered")
    response = fra.post(
        f"/requests/{rid}/refuse", json={"grounds": ["dual_criminality"], "reasons": "Not an offence here."}
    )
    assert response.status_code == 200
    refused = wait_for(lambda: vnm.get(f"/requests/{rid}").json(), lambda r: r["status"] == "refused")
    assert refused["refusal_grounds"] == ["dual_criminality"] and refused["refusal_reasons"] == "Not an offence here."


def test_a_foreign_officers_token_opens_nothing_on_another_node(live_network: Network) -> None:
    vnm = api(live_network, "VNM")
    rid = new_request(vnm)
    foreign = httpx.Client(
        base_url=live_network.node("VNM").url + "/api/v1",
        headers={"Authorization": f"Bearer {live_network.node('FRA').login['api_token']}"},
    )
    assert foreign.get(f"/requests/{rid}").status_code == 401
    page = httpx.get(live_network.node("VNM").url + f"/requests/{rid}/")
    assert page.status_code == 302 and page.headers["location"].startswith("/accounts/login/")


def test_tampered_envelope_over_http_is_refused_not_stored(live_network: Network) -> None:
    fra = live_network.node("FRA")
    response = httpx.post(
        fra.url + "/federation/v1/inbox",
        content=b"eyJhbGciOiJub25lIn0.x.y.z.w",
        headers={"Content-Type": "application/jose"},
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"] and response.json()["reason"]


def test_signed_directory_is_served_by_the_secretariat(live_network: Network) -> None:
    signed = httpx.get(live_network.secretariat.url + "/directory/v1/directory.jws").text
    assert signed.count(".") == 2
    nodes = api(live_network, "VNM").get("/directory").json()
    assert {n["state"] for n in nodes} >= {"VNM", "FRA"}


def test_delivery_survives_the_recipient_being_down(tmp_path: Path) -> None:
    # Retries start at 0.2 s (1 s by default) so that the test does not wait out long back-offs.
    net, created = start_network(tmp_path, ["VNM", "FRA"], env={"HANOI247_RETRY_BASE": "0.2"})
    try:
        vnm, fra = api(net, "VNM"), api(net, "FRA")
        down = net.node("FRA")
        net.stop_node(down)
        ids = [new_request(vnm) for _ in range(3)]
        for rid in ids:
            assert vnm.post(f"/requests/{rid}/submit").status_code == 200
        time.sleep(1.5)  # let a few attempts fail against the closed port
        assert {status_at(vnm, rid) for rid in ids} == {"submitted"}
        net._spawn(down)
        net._wait(down, 30)
        for rid in ids:
            wait_for(lambda rid=rid: status_at(fra, rid), lambda s: s == "delivered", timeout=30)
            wait_for(lambda rid=rid: status_at(vnm, rid), lambda s: s == "delivered", timeout=30)
    finally:
        net.stop()
        drop_databases(created)


def test_network_description_for_scripts(live_network: Network) -> None:
    path = live_network.write_description()
    described = json.loads(path.read_text())
    assert [n["state"] for n in described["nodes"]] == ["VNM", "FRA"]
    for node in described["nodes"]:
        assert node["base_url"].startswith("http://127.0.0.1:") and node["api_token"].startswith("h247_")


def test_statistics_travel_signed_to_the_secretariat(live_network: Network) -> None:
    vnm = live_network.node("VNM")
    assert "queued statistics.report" in vnm.run("report", "send")
    wait_for(lambda: live_network.secretariat.run("report", "received"), lambda out: out.startswith("VNM "))
