"""POST /federation/v1/inbox: what a foreign node can send, and what this node keeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hanoi247.audit.models import AuditEntry
from hanoi247.cooperation.models import Request
from hanoi247.federation.envelope import new_message, now, seal, uuid7
from hanoi247.federation.models import InboxMessage, RefusedEnvelope
from tests.conftest import COMPLETE, Peer, public

INBOX = "/federation/v1/inbox"


def request_message(
    peer: Peer, *, seq: int = 1, payload: dict[str, Any] | None = None, **overrides: Any
) -> dict[str, Any]:
    request_id = overrides.pop("request_id", str(uuid7()))
    at = now().isoformat()
    body = {
        "request": {
            "id": request_id,
            "reference": f"{peer.state}-2026-{request_id[-5:]}",
            "type": "preservation",
            "schema_version": 1,
            "requesting_state": peer.state,
            "requested_state": "VNM",
            "payload": COMPLETE if payload is None else payload,
            "submitted_at": at,
            "case": {"id": str(uuid7()), "reference": f"{peer.state}-C2026-00001", "title": "Phishing campaign"},
            "language": "en",
            "handling": "TLP:AMBER+STRICT",
            "conditions": {},
        },
        "event": {
            "id": str(uuid7()),
            "kind": "submitted",
            "at": at,
            "actor": {"name": "Claire Martin", "role": "officer", "state": peer.state},
            "note": "",
            "data": {},
        },
    }
    fields = {
        "type": "request.submitted",
        "sender": peer.state,
        "recipient": "VNM",
        "body": body,
        "case_ref": request_id,
        "seq": seq,
    }
    fields.update(overrides)
    return new_message(**fields)


def envelope(peer: Peer, msg: dict[str, Any], own_keys: dict[str, Any]) -> str:
    return seal(msg, signing_key=peer.sig, recipient_key=public(own_keys["enc"]))


def post(token: str) -> Any:
    return Client().post(INBOX, data=token, content_type="application/jose")


@pytest.fixture
def peer(network: dict[str, Peer]) -> Peer:
    return network["fra"]


def test_a_valid_request_is_stored_once_and_receipted(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer)
    response = post(envelope(peer, msg, own_keys))
    assert response.status_code == 200, response.json()
    assert response.json()["receipt"].count(".") == 2
    req = Request.objects.get(pk=msg["case_ref"])
    assert (req.direction, req.status, req.requesting_state) == ("incoming", "delivered", "FRA")
    assert [e.kind for e in req.events.all()] == ["submitted", "received"]
    assert InboxMessage.objects.filter(message_id=msg["id"]).count() == 1
    assert AuditEntry.objects.filter(object_id=str(req.pk)).exists()


def test_a_duplicate_is_refused_with_the_original_receipt(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer)
    first = post(envelope(peer, msg, own_keys)).json()["receipt"]
    again = post(envelope(peer, msg, own_keys))  # same message, sealed anew (a retransmission)
    assert again.status_code == 409
    assert again.json()["error"] == "duplicate"
    assert again.json()["receipt"] == first
    assert InboxMessage.objects.count() == 1
    assert RefusedEnvelope.objects.filter(code="duplicate").count() == 1


def test_a_replayed_sequence_with_a_new_id_is_refused(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer)
    assert post(envelope(peer, msg, own_keys)).status_code == 200
    replay = dict(msg, id=str(uuid7()))
    response = post(envelope(peer, replay, own_keys))
    assert (response.status_code, response.json()["error"]) == (409, "replay")
    assert InboxMessage.objects.count() == 1


def test_a_gap_in_the_sequence_is_refused_until_the_missing_message_arrives(peer: Peer, own_keys: Any) -> None:
    response = post(envelope(peer, request_message(peer, seq=2), own_keys))
    assert (response.status_code, response.json()["error"]) == (409, "out_of_order")
    assert not Request.objects.exists()


def test_tampered_envelope_is_refused_logged_and_not_stored(peer: Peer, own_keys: Any) -> None:
    token = envelope(peer, request_message(peer), own_keys)
    parts = token.split(".")
    parts[3] = ("A" if parts[3][5] != "A" else "B").join([parts[3][:5], parts[3][6:]])
    response = post(".".join(parts))
    assert response.status_code == 400
    assert not Request.objects.exists() and not InboxMessage.objects.exists()
    logged = RefusedEnvelope.objects.get()
    assert logged.code == "undecryptable" and logged.reason


def test_misaddressed_envelope_is_refused(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer, recipient="BRA")
    response = post(envelope(peer, msg, own_keys))
    assert response.status_code == 421
    assert not Request.objects.exists()


def test_expired_envelope_is_refused(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer, created_at=now() - timedelta(days=10), ttl=timedelta(days=1))
    response = post(envelope(peer, msg, own_keys))
    assert (response.status_code, response.json()["error"]) == (410, "expired")
    assert not Request.objects.exists()


def test_unknown_sender_is_refused(own_keys: Any, network: Any) -> None:
    from tests.conftest import make_key

    stranger = Peer("DEU", make_key("Ed25519"), make_key("X25519"))
    response = post(envelope(stranger, request_message(stranger), own_keys))
    assert (response.status_code, response.json()["error"]) == (403, "unknown_sender")


def test_sender_cannot_speak_for_another_state(network: Any, own_keys: Any) -> None:
    fra, bra = network["fra"], network["bra"]
    msg = request_message(fra)
    forged = seal(msg, signing_key=bra.sig, recipient_key=public(own_keys["enc"]))  # BRA key, FRA name
    assert post(forged).status_code == 403


def test_the_receiving_node_validates_the_request_again(peer: Peer, own_keys: Any) -> None:
    incomplete = {k: v for k, v in COMPLETE.items() if k != "necessity"}
    response = post(envelope(peer, request_message(peer, payload=incomplete), own_keys))
    assert response.status_code == 422
    assert "Art. 42 (e)" in response.json()["reason"]
    assert not Request.objects.exists() and not InboxMessage.objects.exists()


def test_request_claiming_other_parties_is_refused(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer)
    msg["body"]["request"]["requesting_state"] = "BRA"
    assert post(envelope(peer, msg, own_keys)).status_code == 422
    assert not Request.objects.exists()


def test_unknown_message_type_is_refused(peer: Peer, own_keys: Any) -> None:
    response = post(envelope(peer, request_message(peer, type="evidence.teleport"), own_keys))
    assert (response.status_code, response.json()["error"]) == (422, "unknown_type")


def test_only_post(network: Any) -> None:
    assert Client().get(INBOX).status_code == 405


def test_oversized_envelope_is_refused(network: Any) -> None:
    assert post("A" * (1024 * 1024 + 1)).status_code == 413


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=600))
def test_fuzzed_bodies_get_a_4xx_and_nothing_is_stored(network: Any, body: bytes) -> None:
    response = Client().post(INBOX, data=body, content_type="application/jose")
    assert 400 <= response.status_code < 500
    assert not InboxMessage.objects.exists()


def test_malformed_ids_in_the_body_are_422_not_500(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer)
    msg["body"]["event"]["id"] = "not-a-uuid"
    response = post(envelope(peer, msg, own_keys))
    assert response.status_code == 422
    assert not Request.objects.exists() and not InboxMessage.objects.exists()


def test_overlong_case_reference_is_refused(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer, case_ref="x" * 65)
    assert post(envelope(peer, msg, own_keys)).status_code == 400


def test_body_larger_than_django_reads_is_a_413_json(network: Any) -> None:
    response = post("A" * (3 * 1024 * 1024))
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_a_stale_directory_makes_the_node_say_so(peer: Peer, own_keys: Any) -> None:
    from django.utils import timezone

    from hanoi247.directory import services as directory
    from hanoi247.directory.models import DirectorySnapshot

    DirectorySnapshot.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    directory._cache.clear()
    response = post(envelope(peer, request_message(peer), own_keys))
    assert (response.status_code, response.json()["error"]) == (503, "directory_stale")
    assert not Request.objects.exists()


def test_refusals_name_the_claimed_sender(peer: Peer, own_keys: Any) -> None:
    msg = request_message(peer, recipient="BRA")
    post(envelope(peer, msg, own_keys))
    assert RefusedEnvelope.objects.get().claimed_sender == "FRA"


@pytest.mark.parametrize(
    "broken", [{"event": []}, {"event": {"kind": "submitted", "actor": "someone"}}, {"request": 7}]
)
def test_wrongly_shaped_bodies_are_422_not_500(peer: Peer, own_keys: Any, broken: dict[str, Any]) -> None:
    msg = request_message(peer)
    msg["body"].update(broken)
    response = post(envelope(peer, msg, own_keys))
    assert response.status_code == 422
    assert not Request.objects.exists() and not InboxMessage.objects.exists()
