from typing import Any

import pytest

from hanoi247.cooperation import services


@pytest.mark.django_db
def test_officer_creates_and_submits(network: Any, personas: Any, complete_payload: Any) -> None:
    officer = personas["officer"]
    req = services.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)
    services.submit(officer, req)
    assert req.status == "submitted"
