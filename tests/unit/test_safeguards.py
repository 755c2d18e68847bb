"""Safeguards the software enforces (issue #3): Art. 36 onward transfer, conditions and
handling codes that travel, languages, deadlines as data, lapse, cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hanoi247.cooperation import services
from hanoi247.cooperation.models import Case, Deadline, Request, TransferAuthorisation
from hanoi247.federation.envelope import iso, new_message, now, seal, uuid7
from hanoi247.federation.models import OutboxMessage
from hanoi247.federation.services import DELIVERED_HOOKS
from tests.conftest import public, sign_directory
from tests.unit.test_inbox import envelope, post, request_message
from tests.unit.test_workflow import _event_from


@pytest.fixture
def officer(personas: Any) -> Any:
    return personas["officer"]


@pytest.fixture
def from_fra(network: Any, own_keys: Any) -> Request:
    """A request FRA sent to this node (VNM): it carries French personal data."""
    msg = request_message(network["fra"])
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 200
    return Request.objects.get(pk=msg["case_ref"])


def message_from(peer: Any, own_keys: Any, type: str, body: dict[str, Any], case_ref: str, seq: int = 1) -> Any:
    msg = new_message(type=type, sender=peer.state, recipient="VNM", body=body, case_ref=case_ref, seq=seq)
    return post(seal(msg, signing_key=peer.sig, recipient_key=public(own_keys["enc"])))


# -- Art. 36 ------------------------------------------------------------------------------


def test_onward_transfer_without_authorisation_is_refused(
    network: Any, own_keys: Any, officer: Any, from_fra: Request, complete_payload: Any
) -> None:
    to_bra = services.create_draft(
        officer,
        type="preservation",
        recipient="BRA",
        payload=complete_payload,
        options=services.Options(personal_data_from=(str(from_fra.pk),)),
    )
    with pytest.raises(services.WorkflowError, match=r"FRA.*not authorised.*BRA \(Art. 36\)"):
        services.submit(officer, to_bra)
    assert not OutboxMessage.objects.filter(type="request.submitted").exists()

    # Ask France; the question travels to FRA's node.
    asked = services.ask_transfer_authorisation(officer, from_fra, third_state="BRA", purpose="Joint case")
    row = OutboxMessage.objects.get(type="transfer.asked")
    assert row.recipient == "FRA" and row.message["body"]["third_state"] == "BRA"
    with pytest.raises(services.WorkflowError):
        services.submit(officer, to_bra)  # asked is not granted

    # France refuses: still blocked. (A refusal is final for that question.)
    body = {"id": str(asked.pk), "decision": "refused", "conditions": "", "decided_by": "Claire Martin",
            "decided_at": iso(now())}  # fmt: skip
    assert message_from(network["fra"], own_keys, "transfer.decided", body, str(from_fra.pk), seq=2).status_code == 200
    asked.refresh_from_db()
    assert asked.decision == "refused"
    with pytest.raises(services.WorkflowError, match=r"Art\. 36"):
        services.submit(officer, to_bra)

    # Asked again, France grants: the request may go.
    again = services.ask_transfer_authorisation(officer, from_fra, third_state="BRA", purpose="Joint case, again")
    body = {"id": str(again.pk), "decision": "granted", "conditions": "Only for this case", "decided_by": "C. Martin",
            "decided_at": iso(now())}  # fmt: skip
    assert message_from(network["fra"], own_keys, "transfer.decided", body, str(from_fra.pk), seq=3).status_code == 200
    assert services.submit(officer, to_bra).status == "submitted"


def test_sending_data_back_to_its_origin_needs_no_authorisation(
    network: Any, officer: Any, from_fra: Request, complete_payload: Any
) -> None:
    back = services.create_draft(
        officer,
        type="preservation",
        recipient="FRA",
        payload=complete_payload,
        options=services.Options(personal_data_from=(str(from_fra.pk),)),
    )
    assert services.submit(officer, back).status == "submitted"


def test_only_the_originating_state_decides_and_a_third_state_cannot_answer(
    network: Any, own_keys: Any, officer: Any, from_fra: Request
) -> None:
    asked = services.ask_transfer_authorisation(officer, from_fra, third_state="BRA", purpose="Joint case")
    with pytest.raises(services.WorkflowError, match="only the State that sent the data"):
        services.decide_transfer(officer, asked, granted=True)
    body = {"id": str(asked.pk), "decision": "granted", "conditions": "", "decided_by": "x", "decided_at": iso(now())}
    assert message_from(network["bra"], own_keys, "transfer.decided", body, str(from_fra.pk), 1).status_code == 422
    asked.refresh_from_db()
    assert asked.decision == "asked"


def test_the_originating_state_receives_the_question_and_decides(
    network: Any, own_keys: Any, officer: Any, complete_payload: Any
) -> None:
    # VNM sent a request to FRA; FRA asks VNM whether it may pass VNM's data on to BRA.
    sent = services.submit(
        officer, services.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)
    )
    ask = {"id": str(uuid7()), "source_request_id": str(sent.pk), "third_state": "BRA", "purpose": "BRA hosts it",
           "asked_by": "Claire Martin", "asked_at": iso(now())}  # fmt: skip
    assert message_from(network["fra"], own_keys, "transfer.asked", ask, str(sent.pk)).status_code == 200
    row = TransferAuthorisation.objects.get(pk=ask["id"])
    assert (row.originating_state, row.asking_state, row.third_state) == ("VNM", "FRA", "BRA")
    services.decide_transfer(officer, row, granted=True, conditions="Only for the investigation named")
    out = OutboxMessage.objects.get(type="transfer.decided")
    assert out.recipient == "FRA" and out.message["body"]["decision"] == "granted"
    # A question about a request the sender never exchanged with us is refused.
    stranger = {**ask, "id": str(uuid7()), "source_request_id": str(uuid7())}
    assert (
        message_from(network["bra"], own_keys, "transfer.asked", stranger, stranger["source_request_id"]).status_code
        == 422
    )


# -- conditions, handling codes, languages ------------------------------------------------


def test_conditions_and_handling_travel_with_the_request_and_the_answer(
    network: Any, own_keys: Any, officer: Any, complete_payload: Any
) -> None:
    req = services.create_draft(
        officer,
        type="preservation",
        recipient="FRA",
        payload=complete_payload,
        options=services.Options(
            handling="TLP:RED", conditions={"confidential": True, "use_limitation": "Fraud case 12 only"}
        ),
    )
    services.submit(officer, req)
    msg = OutboxMessage.objects.get(type="request.submitted").message
    assert msg["handling"] == "TLP:RED"
    assert msg["body"]["request"]["conditions"] == {"confidential": True, "use_limitation": "Fraud case 12 only"}
    DELIVERED_HOOKS["request.submitted"](OutboxMessage.objects.get(), {"received_at": iso(now())})
    data = {"preserved_until": (timezone.localdate() + timedelta(days=61)).isoformat(),
            "conditions": {"use_limitation": "Not for tax matters"}}  # fmt: skip
    assert _event_from(network["fra"], own_keys, req, "acknowledged", {}, 1).status_code == 200
    assert _event_from(network["fra"], own_keys, req, "executed", data, 2).status_code == 200
    req.refresh_from_db()
    assert req.answer_conditions == {"use_limitation": "Not for tax matters"}


def test_unknown_conditions_are_refused(network: Any, officer: Any, complete_payload: Any) -> None:
    with pytest.raises(services.WorkflowError, match="unknown conditions"):
        services.create_draft(
            officer, type="preservation", recipient="FRA", payload=complete_payload,
            options=services.Options(conditions={"share_with_everyone": True}),
        )  # fmt: skip


def test_an_incoming_request_must_carry_a_valid_handling_code(network: Any, own_keys: Any) -> None:
    msg = request_message(network["fra"])
    msg["handling"] = "SECRET"
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 400
    msg = request_message(network["fra"])
    msg["body"]["request"]["handling"] = "TLP:CLEAR"  # differs from the envelope's
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 422
    assert not Request.objects.exists()


def test_a_language_the_requested_state_does_not_accept_is_flagged_and_a_translation_clears_it(
    network: Any, officer: Any, complete_payload: Any
) -> None:
    # FRA's directory entry (tests/conftest.py Peer) accepts English only.
    req = services.create_draft(
        officer, type="preservation", recipient="FRA", payload=complete_payload,
        options=services.Options(language="vi"),
    )  # fmt: skip
    assert "Attach a translation" in services.language_warning(req)
    services.add_translation(officer, req, language="en", text="Preservation request…", translator="Service X")
    assert services.language_warning(req) == ""
    services.submit(officer, req)
    wire = OutboxMessage.objects.get(type="request.submitted").message["body"]["request"]
    assert wire["language"] == "vi" and wire["translations"][0]["language"] == "en"


def test_an_incoming_translation_is_kept(network: Any, own_keys: Any) -> None:
    msg = request_message(network["fra"])
    msg["body"]["request"]["language"] = "fr"
    msg["body"]["request"]["translations"] = [{"language": "en", "text": "Preservation request", "translator": ""}]
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 200
    req = Request.objects.get(pk=msg["case_ref"])
    assert req.language == "fr" and req.translations.get().text == "Preservation request"


# -- deadlines ----------------------------------------------------------------------------


def test_deadlines_follow_the_type_and_the_requested_states_own_settings(
    network: Any, own_keys: Any, officer: Any, secretariat_key: Any, fra: Any, bra: Any
) -> None:
    from hanoi247.directory import services as directory

    msg = request_message(network["fra"])
    post(envelope(network["fra"], msg, own_keys))
    req = Request.objects.get(pk=msg["case_ref"])
    ack = req.deadlines.get(kind=Deadline.Kind.ACKNOWLEDGEMENT)
    assert ack.due_at - req.delivered_at == timedelta(hours=4)  # preservation's default

    # VNM publishes its own: 30 minutes to acknowledge a preservation request.
    me = {"state": "VNM", "name": "Viet Nam", "base_url": "http://127.0.0.1:1",
          "keys": {"sig": [public(own_keys["sig"])], "enc": [public(own_keys["enc"])]},
          "languages": ["vi", "en"], "time_zone": "Asia/Ho_Chi_Minh", "contacts": {},
          "deadlines": {"preservation": {"acknowledge_minutes": 30}}}  # fmt: skip
    directory.accept(sign_directory(secretariat_key, [me, fra.entry(), bra.entry()], version=2))
    directory._cache.clear()
    msg = request_message(network["fra"])
    post(envelope(network["fra"], msg, own_keys))
    req = Request.objects.get(pk=msg["case_ref"])
    assert req.deadlines.get(kind="acknowledgement").due_at - req.delivered_at == timedelta(minutes=30)
    # Overdue items are listed.
    Deadline.objects.filter(request=req).update(due_at=timezone.now() - timedelta(minutes=1))
    assert req.pk in [d.request_id for d in services.open_deadlines(officer)]
    services.acknowledge(officer, req)
    assert req.pk not in [d.request_id for d in services.open_deadlines(officer, within=timedelta(0))]


def test_a_state_cannot_publish_nonsense_deadlines() -> None:
    from hanoi247.directory.services import DirectoryError, check_deadlines

    for bad in ({"preservation": {"acknowledge_minutes": -1}}, {"preservation": {"sooner": 1}}, []):
        with pytest.raises(DirectoryError):
            check_deadlines(bad)


def test_preservation_lapses_without_follow_up_and_not_with_one(
    network: Any, own_keys: Any, officer: Any, from_fra: Request
) -> None:
    services.acknowledge(officer, from_fra)
    services.execute(officer, from_fra, preserved_until=timezone.localdate() + timedelta(days=60))
    assert {d.kind for d in from_fra.deadlines.filter(met_at__isnull=True)} >= {"preservation_expiry", "follow_up"}
    assert services.check_deadlines() == []
    later = timezone.now() + timedelta(days=61)
    assert [r.pk for r in services.check_deadlines(later)] == [from_fra.pk]
    from_fra.refresh_from_db()
    assert from_fra.status == "lapsed" and from_fra.events.last().kind == "lapsed"


def test_a_follow_up_keeps_the_preservation_alive(network: Any, own_keys: Any, officer: Any, from_fra: Request) -> None:
    from hanoi247.cooperation.schemas import REQUEST_TYPES

    services.acknowledge(officer, from_fra)
    services.execute(officer, from_fra, preserved_until=timezone.localdate() + timedelta(days=60))
    msg = request_message(network["fra"], seq=1, payload=REQUEST_TYPES["mla_stored_data"].examples["complete"])
    msg["body"]["request"]["type"] = "mla_stored_data"
    msg["body"]["request"]["follows"] = str(from_fra.pk)
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 200
    follow = Request.objects.get(pk=msg["case_ref"])
    assert follow.follows_id == from_fra.pk
    assert from_fra.deadlines.get(kind="follow_up").met_at is not None
    assert services.check_deadlines(timezone.now() + timedelta(days=61)) == []


def test_the_requesting_side_rechecks_the_sixty_days(
    network: Any, own_keys: Any, officer: Any, complete_payload: Any
) -> None:
    req = services.submit(
        officer, services.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)
    )
    assert _event_from(network["fra"], own_keys, req, "acknowledged", {}, 1).status_code == 200
    short = (timezone.localdate() + timedelta(days=20)).isoformat()
    assert _event_from(network["fra"], own_keys, req, "executed", {"preserved_until": short}, 2).status_code == 422
    req.refresh_from_db()
    assert req.status == "acknowledged"


def test_additional_information_is_validated_like_the_request(network: Any, officer: Any, from_fra: Request) -> None:
    services.act(officer, from_fra, "info_requested", note="Which time zone is the IP address time in?")
    assert from_fra.deadlines.get(kind="information").owner == "requesting"
    # On the requesting side (FRA) a bad answer would be refused by the same rule:
    req = Request.objects.get(pk=from_fra.pk)
    req.direction = "outgoing"
    step = services.STEPS["info_provided"]
    bad = {"elements": {"identifiers": [{"kind": "ip_address", "value": "203.0.113.7"}]}}
    with pytest.raises(services.WorkflowError) as refused:
        services.validate_step(req, step, "Here it is", bad, timezone.now())
    assert any(m.path.startswith("identifiers.0") for m in refused.value.missing)


# -- cases --------------------------------------------------------------------------------


def test_requests_group_into_a_case_both_directions(
    network: Any, own_keys: Any, officer: Any, from_fra: Request, complete_payload: Any
) -> None:
    case = from_fra.case
    assert case is not None and case.origin_state == "FRA"
    onward = services.create_draft(
        officer, type="preservation", recipient="FRA", payload=complete_payload,
        options=services.Options(case=case),
    )  # fmt: skip
    assert set(case.requests.values_list("pk", flat=True)) == {from_fra.pk, onward.pk}
    kinds = [e.kind for e in services.case_timeline(case)]
    assert kinds == ["submitted", "received", "created"]
    fresh = services.create_draft(officer, type="preservation", recipient="BRA", payload=complete_payload)
    assert fresh.case != case and Case.objects.count() == 2


def test_escalation_is_made_by_the_node_and_seen_by_the_requesting_state(
    network: Any, own_keys: Any, officer: Any, from_fra: Request, complete_payload: Any
) -> None:
    services.escalate(from_fra, level="supervisor", note="Not acknowledged within 4 hours")
    event = from_fra.events.get(kind="escalated")
    assert (event.actor_role, event.data) == ("system", {"level": "supervisor"})
    sent = OutboxMessage.objects.get(type="request.event").message["body"]["event"]
    assert sent["kind"] == "escalated" and sent["data"] == {"level": "supervisor"}
    with pytest.raises(services.WorkflowError):
        services.act(officer, from_fra, "escalated", data={"level": "x"})  # not a button
    assert "escalated" not in [s.kind for s in services.available_steps(from_fra)]
    # On the requesting side, the requested State's escalation arrives as an event.
    req = services.submit(
        officer, services.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)
    )
    assert _event_from(network["fra"], own_keys, req, "escalated", {"level": "head of unit"}, 1).status_code == 200
    assert req.events.get(kind="escalated").data == {"level": "head of unit"}


def test_a_request_for_extension_that_crosses_the_extension_is_still_taken(
    network: Any, own_keys: Any, officer: Any, from_fra: Request
) -> None:
    services.acknowledge(officer, from_fra)
    until = timezone.localdate() + timedelta(days=60)
    services.execute(officer, from_fra, preserved_until=until)
    later = until + timedelta(days=30)
    services.act(officer, from_fra, "extended", data={"preserved_until": later.isoformat()})
    # FRA asked for the same date before it saw our extension: the request still arrives.
    body = {
        "request_id": str(from_fra.pk),
        "event": {"id": str(uuid7()), "kind": "extension_requested", "at": iso(now()), "note": "Court pending",
                  "actor": {"name": "Claire Martin", "role": "officer", "state": "FRA"},
                  "data": {"until": later.isoformat()}},
    }  # fmt: skip
    assert message_from(network["fra"], own_keys, "request.event", body, str(from_fra.pk), seq=2).status_code == 200
    assert from_fra.events.filter(kind="extension_requested").exists()
