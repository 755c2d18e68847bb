"""The emergency path, timed end to end over the API of two running nodes (issue #6 item 5):
the requesting officer submits an ``assistance_emergency`` request, the requested node's
officer acknowledges it as soon as it shows up, and the requesting officer sees who has
it. Used by ``hanoi247 emergency_drill`` (on the demo network) and by the e2e test."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from hanoi247.cooperation.schemas import REQUEST_TYPES
from hanoi247.federation.envelope import parse_time

EMERGENCY = "assistance_emergency"


@dataclass
class DrillResult:
    request_id: str
    reference: str
    acknowledged_by: str
    acknowledged_by_state: str
    # Wall-clock seconds measured by the drill, from the moment the submit call is made.
    submit_to_delivered_seen: float
    submit_to_acknowledged: float
    submit_to_requester_sees_ack: float
    # The same path from the events' own timestamps (both nodes on one clock in the demo).
    steps: list[tuple[str, float]]

    def lines(self) -> list[str]:
        out = [
            f"Emergency request {self.reference} ({self.request_id})",
            f"  acknowledged by {self.acknowledged_by} ({self.acknowledged_by_state})",
            f"  submit -> delivered at the requested node (seen)   {self.submit_to_delivered_seen * 1000:8.1f} ms",
            f"  submit -> acknowledged (the acknowledge call done) {self.submit_to_acknowledged * 1000:8.1f} ms",
            f"  submit -> requesting officer sees who has it       {self.submit_to_requester_sees_ack * 1000:8.1f} ms",
            "  steps by the events' timestamps (after submission):",
        ]
        out += [f"    {kind:<14} {seconds * 1000:8.1f} ms" for kind, seconds in self.steps]
        return out


def _wait(fetch: Any, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not reached within {timeout}s; last: {value!r}")
        time.sleep(0.01)


def run(requesting: httpx.Client, requested: httpx.Client, recipient: str, *, timeout: float = 30.0) -> DrillResult:
    """``requesting``/``requested``: API clients (base URL ``…/api/v1``, a case handler's token)."""
    body = {"type": EMERGENCY, "recipient": recipient, **REQUEST_TYPES[EMERGENCY].examples["complete"]}
    created = requesting.post("/requests", json=body)
    created.raise_for_status()
    rid = str(created.json()["id"])

    def status_at(client: httpx.Client) -> str | None:
        response = client.get(f"/requests/{rid}")
        return str(response.json()["status"]) if response.status_code == 200 else None

    start = time.monotonic()
    requesting.post(f"/requests/{rid}/submit").raise_for_status()
    _wait(lambda: status_at(requested), lambda s: s == "delivered", timeout)
    delivered = time.monotonic() - start
    requested.post(f"/requests/{rid}/actions/acknowledged", json={"note": "", "data": {}}).raise_for_status()
    acknowledged = time.monotonic() - start
    _wait(
        lambda: requesting.get(f"/ops/requests/{rid}/timeline").json(),
        lambda t: t.get("acknowledged_by"),
        timeout,
    )
    seen = time.monotonic() - start
    events = requesting.get(f"/requests/{rid}/events").json()
    ack = next(e for e in events if e["kind"] == "acknowledged")
    submitted = next(parse_time(e["at"]) for e in events if e["kind"] == "submitted")
    steps = [(e["kind"], (parse_time(e["at"]) - submitted).total_seconds()) for e in events if e["kind"] != "created"]
    return DrillResult(
        request_id=rid,
        reference=str(created.json()["reference"]),
        acknowledged_by=str(ack["actor_name"]),
        acknowledged_by_state=str(ack["actor_state"]),
        submit_to_delivered_seen=delivered,
        submit_to_acknowledged=acknowledged,
        submit_to_requester_sees_ack=seen,
        steps=steps,
    )
