"""The emergency path over real HTTP between two node processes (issue #6 item 5): VNM
submits a request to avert a risk to life, FRA acknowledges it, and VNM's officer sees who
has it, every step timed. The times are printed (run with -s), not asserted."""

from __future__ import annotations

import pytest

from hanoi247.demo import Network
from hanoi247.operations import drill
from tests.e2e.conftest import api

pytestmark = pytest.mark.network


def test_the_requesting_officer_sees_who_acknowledged_the_emergency(live_network: Network) -> None:
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    result = drill.run(vnm, fra, "FRA")
    print("\n" + "\n".join(result.lines()))
    assert (result.acknowledged_by, result.acknowledged_by_state) == ("24/7 Officer FRA", "FRA")
    timeline = vnm.get(f"/ops/requests/{result.request_id}/timeline").json()
    assert timeline["emergency"] is True and timeline["acknowledged_by"] == "24/7 Officer FRA (FRA)"
    assert [s["kind"] for s in timeline["steps"]] == ["submitted", "delivered", "acknowledged"]
    assert all(s["seconds_after_submission"] is not None for s in timeline["steps"])
    # FRA's desk shows it among its emergencies, acknowledged, with its steps timed.
    at_fra = fra.get(f"/ops/requests/{result.request_id}/timeline").json()
    assert [s["kind"] for s in at_fra["steps"]] == ["submitted", "received", "acknowledged"]
    board = fra.get("/ops/dashboard").json()
    assert result.request_id in {r["id"] for r in board["emergencies"]}
