"""Delivery under faults, with real node processes over HTTP on loopback: the recipient
down for a burst of 1,000 messages, kill -9 of the sender and of the recipient mid-burst,
and replays after a restart. Every message is stored once, in order per case.

The messages are probes (``federation.probe``), queued by ``hanoi247 federation probe``
through the ordinary outbox; requests submitted through the API ride along in the
sender's crash. No assertion is about time: the bounds below only stop a hung test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from joserfc.jwk import OKPKey

from hanoi247.demo import Network, Node, drop_databases
from hanoi247.federation.envelope import new_message, seal, uuid7
from tests.conftest import COMPLETE
from tests.e2e.conftest import api, start_network

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    # Retries from 0.2 s so that a node back from an outage is found within seconds.
    network, created = start_network(
        tmp_path_factory.mktemp("faults"), ["VNM", "FRA"], env={"HANOI247_RETRY_BASE": "0.2"}
    )
    yield network
    network.stop()
    drop_databases(created)


def until(fetch: Callable[[], Any], check: Callable[[Any], bool], timeout: float = 45.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f}s; last value: {str(value)[:500]}")
        time.sleep(every)


def _id(value: Any) -> str:
    return str(uuid.UUID(str(value)))


def inbox(node: Node, prefix: str) -> dict[str, list[tuple[str, int]]]:
    """Per "sender/case" at ``node``: (message id, seq) of each message held, in the order stored."""
    found: dict[str, list[tuple[str, int]]] = {}
    for mid, sender, case, seq in node.sql(
        "SELECT message_id, sender, case_ref, seq FROM federation_inboxmessage WHERE case_ref LIKE ? ORDER BY id",
        (prefix + "%",),
    ):
        found.setdefault(f"{sender}/{case}", []).append((_id(mid), seq))
    return found


def held(node: Node, prefix: str) -> int:
    return int(node.sql("SELECT count(*) FROM federation_inboxmessage WHERE case_ref LIKE ?", (prefix + "%",))[0][0])


def outbox(node: Node, prefix: str) -> list[tuple[str, str, str, int]]:
    """(message id, status, case, seq) of every message queued at ``node``."""
    return [
        (_id(mid), status, case, seq)
        for mid, status, case, seq in node.sql(
            "SELECT message_id, status, case_ref, seq FROM federation_outboxmessage WHERE case_ref LIKE ?",
            (prefix + "%",),
        )
    ]


def pending(node: Node, prefix: str) -> int:
    return sum(1 for row in outbox(node, prefix) if row[1] == "pending")


def assert_once_in_order(net: Network, prefix: str) -> int:
    """VNM's outbox and FRA's inbox hold the same messages; each case 1..n, stored in order."""
    sent, got = outbox(net.node("VNM"), prefix), inbox(net.node("FRA"), prefix)
    assert {row[1] for row in sent} == {"delivered"}
    stored = [mid for held in got.values() for mid, _ in held]
    assert len(set(stored)) == len(stored)  # none twice
    assert sorted(stored) == sorted(row[0] for row in sent)  # none lost, none made up
    for case, held_ in got.items():
        assert [seq for _, seq in held_] == list(range(1, len(held_) + 1)), case
    return len(stored)


def test_recipient_down_for_a_thousand_messages(net: Network) -> None:
    vnm, fra = net.node("VNM"), net.node("FRA")
    net.stop_node(fra)
    try:
        vnm.run("federation", "probe", "FRA", "--count", "1000", "--cases", "down-a,down-b,down-c,down-d")
        heads_tried = "SELECT count(*) FROM federation_outboxmessage WHERE case_ref LIKE ? AND attempts > 0"
        until(lambda: vnm.sql(heads_tried, ("down-%",))[0][0], lambda n: n >= 4)
        # Visible with the reason of the last attempt.
        waiting = [r for r in json.loads(vnm.run("federation", "undelivered")) if r["case_ref"].startswith("down-")]
        assert len(waiting) == 1000
        assert {r["case_ref"] for r in waiting if "ConnectError" in r["last_error"]} == {
            "down-a",
            "down-b",
            "down-c",
            "down-d",
        }
    finally:
        net.start_node(fra)
    until(lambda: pending(vnm, "down-"), lambda n: n == 0, timeout=90)
    assert assert_once_in_order(net, "down-") == 1000
    assert {len(v) for v in inbox(fra, "down-").values()} == {250}


def submit_until_stopped(net: Network, stop: threading.Event, submitted: list[str]) -> None:
    """Requests through VNM's API, queued and kicked by its web processes."""
    client = api(net, "VNM")
    while not stop.is_set():
        try:
            created = client.post("/requests", json={"type": "preservation", "recipient": "FRA", **COMPLETE})
            rid = created.json()["id"]
            if client.post(f"/requests/{rid}/submit").status_code == 200:
                submitted.append(rid)
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.05)  # the node is down: what was answered 200 must still arrive


def test_kill_9_of_the_sender_mid_burst(net: Network) -> None:
    vnm, fra = net.node("VNM"), net.node("FRA")
    burst = subprocess.Popen(
        [
            *(sys.executable, "-m", "hanoi247.cli", "federation", "probe", "FRA", "--count", "900"),
            *("--cases", "kill-a,kill-b,kill-c", "--batch", "10", "--pause", "0.01"),
        ],
        env=vnm.env(),
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    stop, submitted = threading.Event(), list[str]()
    requests = threading.Thread(target=submit_until_stopped, args=(net, stop, submitted))
    requests.start()
    try:
        until(lambda: held(fra, "kill-"), lambda n: n >= 100, every=0.2)
        net.kill_node(vnm)  # web processes and delivery worker, at once
        burst.kill()  # and the process still queueing the burst
        burst.wait()
        at_kill = held(fra, "kill-")
    finally:
        stop.set()
        requests.join()
        net.start_node(vnm)
    queued = len(outbox(vnm, "kill-"))
    assert at_kill < queued  # the kill came mid-burst, else this test proves nothing
    until(lambda: pending(vnm, "kill-"), lambda n: n == 0, timeout=60)
    assert assert_once_in_order(net, "kill-") == queued
    client = api(net, "FRA")
    for rid in submitted:
        until(partial(status, client, rid), lambda s: s == "delivered")


def status(client: httpx.Client, rid: str) -> str | None:
    answer: str | None = client.get(f"/requests/{rid}").json().get("status")
    return answer


def sender_keys(node: Node) -> OKPKey:
    return OKPKey.import_key(json.loads((node.data_dir / "keys" / "sig.jwk").read_text()))


def recipient_key(node: Node) -> dict[str, Any]:
    private: dict[str, Any] = json.loads((node.data_dir / "keys" / "enc.jwk").read_text())
    return {k: v for k, v in private.items() if k != "d"}


def post(node: Node, message: dict[str, Any], signer: Node) -> httpx.Response:
    token = seal(message, signing_key=sender_keys(signer), recipient_key=recipient_key(node))
    return httpx.post(node.url + "/federation/v1/inbox", content=token, timeout=10)


def test_kill_9_of_the_recipient_mid_burst_and_replays_after_restart(net: Network) -> None:
    vnm, fra = net.node("VNM"), net.node("FRA")
    captured = new_message(
        type="federation.probe",
        sender="VNM",
        recipient="FRA",
        body={"n": 0, "note": "captured"},
        case_ref="replay-1",
        handling="TLP:CLEAR",
    )
    assert post(fra, captured, vnm).status_code == 200
    vnm.run("federation", "probe", "FRA", "--count", "600", "--cases", "rk-a,rk-b", "--batch", "300")
    until(lambda: held(fra, "rk-"), lambda n: n >= 50, every=0.2)
    net.kill_node(fra)
    time.sleep(1)  # a few attempts meet the closed port
    net.start_node(fra)
    until(lambda: pending(vnm, "rk-"), lambda n: n == 0, timeout=60)
    assert assert_once_in_order(net, "rk-") == 600
    # After the restart the node remembers what it holds: a replay is refused, not stored.
    again = post(fra, captured, vnm)
    assert (again.status_code, again.json()["error"]) == (409, "duplicate")
    replay = post(fra, dict(captured, id=str(uuid7())), vnm)
    assert (replay.status_code, replay.json()["error"]) == (409, "replay")
    assert [seq for _, seq in inbox(fra, "replay-")["VNM/replay-1"]] == [1]


def test_requests_still_flow_after_the_faults(net: Network) -> None:
    """The network still works end to end once the faults are over."""
    vnm = api(net, "VNM")
    created = vnm.post("/requests", json={"type": "preservation", "recipient": "FRA", **COMPLETE}).json()
    assert vnm.post(f"/requests/{created['id']}/submit").status_code == 200
    fra = api(net, "FRA")
    until(partial(status, fra, created["id"]), lambda s: s == "delivered")
