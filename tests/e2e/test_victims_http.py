"""Intimate-image removal between two node processes over HTTP (issue #9): VNM records the
case and sends the hashes; FRA matches a re-encoded copy and reports the removal back. The
image never reaches FRA."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hanoi247.demo import Network
from tests.e2e.test_federation_http import wait_for
from tests.unit.test_victims import DIFFERENT, MODIFIED, ORIGINAL

pytestmark = pytest.mark.network


def shell(net: Network, state: str, code: str) -> Any:
    """Run Python in a node's own environment (its data directory and database); the code
    prints one JSON value as its last line."""
    out = net.node(state).run("shell", "-c", code)
    return json.loads(out.strip().splitlines()[-1])


RECORD = """
import json
from pathlib import Path
from hanoi247.accounts.models import User
from hanoi247.victims import services
central = User.objects.filter(state="VNM", role="central_authority").first()
case = services.record_case(central, victim_name="Thi Mai", summary="kept here")
services.add_image(central, case, Path({path!r}).read_bytes())
services.share(central, case, ["FRA"])
print(json.dumps(str(case.pk)))
"""

AT_FRA = """
import json
from hanoi247.victims.models import NciiCase
case = NciiCase.objects.filter(pk={case_id!r}).first()
print(json.dumps(case and [case.hashes.count(), case.victim_name]))
"""

MATCH = """
import json
from pathlib import Path
from hanoi247.accounts.models import User
from hanoi247.federation.models import InboxMessage
from hanoi247.victims import services
from hanoi247.victims.models import NciiImage
officer = User.objects.filter(state="FRA", role="officer").first()
_, none = services.submit_sighting(officer, location="https://elsewhere.example/", image=Path({other!r}).read_bytes())
_, found = services.submit_sighting(officer, location="https://host.example/1", image=Path({copy!r}).read_bytes())
for m in found:
    services.report_removal(officer, m, note="removed by the host")
inbox = json.dumps([m.message for m in InboxMessage.objects.filter(type="ncii.hashes")])
print(json.dumps({{"none": len(none), "found": [(m.method, m.distance) for m in found],
                   "images": NciiImage.objects.count(), "inbox": inbox}}))
"""

REMOVALS = """
import json
from hanoi247.victims.models import Removal
print(json.dumps([(r.reporting_state, r.location, r.note) for r in Removal.objects.filter(case_id={case_id!r})]))
"""


def test_hashes_travel_a_copy_is_matched_and_the_removal_comes_back(live_network: Network, tmp_path: Path) -> None:
    net = live_network
    files = {}
    for name, data in {"original.png": ORIGINAL, "copy.jpg": MODIFIED, "other.png": DIFFERENT}.items():
        (tmp_path / name).write_bytes(data)
        files[name] = str(tmp_path / name)
    case_id = shell(net, "VNM", RECORD.format(path=files["original.png"]))
    held = wait_for(lambda: shell(net, "FRA", AT_FRA.format(case_id=case_id)), lambda v: v is not None, timeout=40)
    assert held == [1, ""]  # the hashes arrived; the victim's name did not (no consent)

    result = shell(net, "FRA", MATCH.format(other=files["other.png"], copy=files["copy.jpg"]))
    assert result["none"] == 0 and result["images"] == 0
    assert [method for method, _ in result["found"]] == ["pdq"] and result["found"][0][1] <= 31
    assert "Thi Mai" not in result["inbox"] and "kept here" not in result["inbox"]

    removals = wait_for(lambda: shell(net, "VNM", REMOVALS.format(case_id=case_id)), bool, timeout=40)
    assert removals == [["FRA", "https://host.example/1", "removed by the host"]]
    assert not any((net.node("FRA").data_dir / "victims").glob("*"))
