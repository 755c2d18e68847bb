"""The request state machine on both sides (DESIGN §4), one node at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hanoi247.cooperation import services
from hanoi247.cooperation.models import Request
from hanoi247.federation.envelope import iso, new_message, now, seal, uuid7
from hanoi247.federation.models import OutboxMessage
from hanoi247.federation.services import DELIVERED_HOOKS
from tests.conftest import public
from tests.unit.test_inbox import envelope, post, request_message


@pytest.fixture
def officer(personas: Any) -> Any:
    return personas["officer"]


def submitted(officer: Any, payload: dict[str, Any]) -> Request:
    """An outgoing request to FRA, submitted (its message waits in the outbox)."""
    req = services.create_draft(officer, type="preservation", recipient="FRA", payload=payload)
    return services.submit(officer, req)


@pytest.fixture
def incoming(network: Any, own_keys: Any) -> Request:
    msg = request_message(network["fra"])
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 200
    return Request.objects.get(pk=msg["case_ref"])


def test_draft_may_be_incomplete_but_cannot_be_submitted(network: Any, officer: Any) -> None:
    draft = services.create_draft(officer, type="preservation", recipient="FRA", payload={"offence": "Fraud"})
    assert draft.status == "draft" and draft.reference.startswith("VNM-")
    with pytest.raises(services.WorkflowError) as refused:
        services.submit(officer, draft)
    assert "necessity" in {m.field for m in refused.value.missing}
    assert not OutboxMessage.objects.exists()


def test_api_style_creation_requires_completeness(network: Any, officer: Any) -> None:
    with pytest.raises(services.WorkflowError):
        services.create_draft(officer, type="preservation", recipient="FRA", payload={}, require_complete=True)
    assert not Request.objects.exists()


def test_recipient_must_be_another_node_of_the_directory(network: Any, officer: Any, complete_payload: Any) -> None:
    for recipient in ("VNM", "DEU", "XXX"):
        with pytest.raises(services.WorkflowError):
            services.create_draft(officer, type="preservation", recipient=recipient, payload=complete_payload)


def test_submit_writes_event_audit_and_outbox_in_one_go(network: Any, officer: Any, complete_payload: Any) -> None:
    req = submitted(officer, complete_payload)
    req.refresh_from_db()
    assert req.status == "submitted" and req.submitted_at is not None
    row = OutboxMessage.objects.get()
    assert (row.type, row.recipient, row.case_ref, row.seq) == ("request.submitted", "FRA", str(req.pk), 1)
    assert row.message["body"]["request"]["payload"]["offence"] == complete_payload["offence"]
    assert row.message["body"]["event"]["actor"] == {"name": "Lan Nguyen", "role": "officer", "state": "VNM"}
    with pytest.raises(services.WorkflowError):
        services.submit(officer, req)  # not twice


def test_receipt_marks_the_request_delivered(network: Any, officer: Any, complete_payload: Any) -> None:
    req = submitted(officer, complete_payload)
    received = now()
    DELIVERED_HOOKS["request.submitted"](OutboxMessage.objects.get(), {"received_at": iso(received)})
    req.refresh_from_db()
    assert req.status == "delivered" and req.delivered_at == received
    assert req.events.get(kind="delivered").actor_state == "FRA"


def test_requesting_state_cannot_answer_its_own_request(network: Any, officer: Any, complete_payload: Any) -> None:
    req = submitted(officer, complete_payload)
    with pytest.raises(services.WorkflowError, match="requested State"):
        services.acknowledge(officer, req)


def test_acknowledge_then_execute(incoming: Request, officer: Any) -> None:
    services.acknowledge(officer, incoming)
    with pytest.raises(services.WorkflowError, match="acknowledged: it cannot be acknowledged"):
        services.acknowledge(officer, incoming)
    too_short = timezone.localdate() + timedelta(days=59)
    with pytest.raises(services.WorkflowError, match="at least 60 days"):
        services.execute(officer, incoming, preserved_until=too_short)
    until = timezone.localdate() + timedelta(days=60)
    done = services.execute(officer, incoming, preserved_until=until, note="Preserved at Example Mail SAS")
    assert (done.status, done.preserved_until) == ("executed", until)
    rows = list(OutboxMessage.objects.order_by("seq"))
    assert [(r.type, r.seq, r.message["body"]["event"]["kind"]) for r in rows] == [
        ("request.event", 1, "acknowledged"),
        ("request.event", 2, "executed"),
    ]
    assert rows[1].message["body"]["event"]["data"] == {"preserved_until": until.isoformat(), "conditions": {}}


def test_execute_needs_acknowledgement_first(incoming: Request, officer: Any) -> None:
    with pytest.raises(services.WorkflowError):
        services.execute(officer, incoming, preserved_until=timezone.localdate() + timedelta(days=90))


def test_refusal_needs_grounds_from_the_list_and_reasons(incoming: Request, officer: Any) -> None:
    with pytest.raises(services.WorkflowError, match="ground"):
        services.refuse(officer, incoming, grounds=[], reasons="No.")
    with pytest.raises(services.WorkflowError, match="unknown"):
        services.refuse(officer, incoming, grounds=["we_do_not_feel_like_it"], reasons="No.")
    with pytest.raises(services.WorkflowError, match="reasons"):
        services.refuse(officer, incoming, grounds=["essential_interests"], reasons="  ")
    done = services.refuse(officer, incoming, grounds=["human_rights"], reasons="The request targets a journalist.")
    assert done.status == "refused" and done.refusal_grounds == ["human_rights"]
    with pytest.raises(services.WorkflowError):
        services.acknowledge(officer, done)


def _event_from(
    peer: Any, own_keys: Any, req: Request, kind: str, data: dict[str, Any], seq: int, actor_state: str | None = None
) -> Any:
    body = {
        "request_id": str(req.pk),
        "event": {
            "id": str(uuid7()),
            "kind": kind,
            "at": iso(now()),
            "note": "reasons given" if kind == "refused" else "",
            "actor": {"name": "Claire Martin", "role": "officer", "state": actor_state or peer.state},
            "data": data,
        },
    }
    msg = new_message(
        type="request.event", sender=peer.state, recipient="VNM", body=body, case_ref=str(req.pk), seq=seq
    )
    return post(seal(msg, signing_key=peer.sig, recipient_key=public(own_keys["enc"])))


def test_requesting_side_sees_each_answer_with_who_and_when(
    network: Any, own_keys: Any, officer: Any, complete_payload: Any
) -> None:
    fra = network["fra"]
    req = submitted(officer, complete_payload)
    assert _event_from(fra, own_keys, req, "acknowledged", {}, 1).status_code == 200
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    assert _event_from(fra, own_keys, req, "executed", {"preserved_until": until}, 2).status_code == 200
    req.refresh_from_db()
    assert req.status == "executed" and req.preserved_until.isoformat() == until
    ack = req.events.get(kind="acknowledged")
    assert (ack.actor_name, ack.actor_state) == ("Claire Martin", "FRA")


def test_refusal_reaches_the_requesting_side_with_grounds_and_reasons(
    network: Any, own_keys: Any, officer: Any, complete_payload: Any
) -> None:
    req = submitted(officer, complete_payload)
    assert (
        _event_from(network["fra"], own_keys, req, "refused", {"grounds": ["political_offence"]}, 1).status_code == 200
    )
    req.refresh_from_db()
    assert (req.status, req.refusal_grounds, req.refusal_reasons) == ("refused", ["political_offence"], "reasons given")


def test_a_third_state_cannot_answer_for_the_requested_state(
    network: Any, own_keys: Any, officer: Any, complete_payload: Any
) -> None:
    req = submitted(officer, complete_payload)
    assert _event_from(network["bra"], own_keys, req, "acknowledged", {}, 1).status_code == 422
    assert _event_from(network["fra"], own_keys, req, "acknowledged", {}, 1, actor_state="BRA").status_code == 422
    req.refresh_from_db()
    assert req.status == "submitted"


def test_an_answer_that_does_not_follow_the_state_machine_is_refused(
    network: Any, own_keys: Any, officer: Any, complete_payload: Any
) -> None:
    fra = network["fra"]
    req = submitted(officer, complete_payload)
    assert _event_from(fra, own_keys, req, "refused", {"grounds": ["political_offence"]}, 1).status_code == 200
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    assert _event_from(fra, own_keys, req, "executed", {"preserved_until": until}, 2).status_code == 422
    req.refresh_from_db()
    assert req.status == "refused"


def test_listing_requests_through_the_api_is_audited(network: Any, officer: Any, complete_payload: Any) -> None:
    from django.test import Client

    from hanoi247.accounts.models import ApiToken
    from hanoi247.audit.models import AuditEntry

    req = services.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)
    token = ApiToken.issue(officer, "t")[1]
    Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/requests")
    assert AuditEntry.objects.get(action="request.listed").data == {"ids": [str(req.pk)]}


def test_a_delivery_recorded_twice_counts_once(network: Any, officer: Any, complete_payload: Any) -> None:
    from hanoi247.federation.services import _mark_delivered

    req = submitted(officer, complete_payload)
    row = OutboxMessage.objects.get()
    receipt = {"received_at": iso(now())}
    _mark_delivered(row, "receipt", receipt)
    _mark_delivered(row, "receipt", receipt)  # a late kick and the worker both sent it
    assert req.events.filter(kind="delivered").count() == 1
