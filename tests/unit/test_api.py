"""The API contract of issue #2: names kept, 201/422/404 as documented, no 500 on bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hanoi247.accounts.models import ApiToken
from tests.unit.test_inbox import envelope, post, request_message


@pytest.fixture
def api(network: Any, personas: Any) -> Client:
    _, token = ApiToken.issue(personas["officer"], "test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_create_returns_201_with_id_and_status(api: Client, complete_payload: Any) -> None:
    response = api.post(
        "/api/v1/requests",
        {"type": "preservation", "recipient": "FRA", **complete_payload},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["id"] and body["missing"] == []
    assert body["payload"]["offence"] == complete_payload["offence"]


def test_incomplete_input_is_422_naming_the_missing_elements(api: Client, complete_payload: Any) -> None:
    del complete_payload["necessity"], complete_payload["custodian"]
    response = api.post(
        "/api/v1/requests",
        {"type": "preservation", "recipient": "FRA", **complete_payload},
        content_type="application/json",
    )
    assert response.status_code == 422
    missing = {m["field"]: m["article"] for m in response.json()["missing"]}
    assert missing == {"necessity": "Art. 42 (e)", "custodian": "Art. 42 (d)"}  # all named in one answer


@pytest.mark.parametrize(
    "body",
    [
        {"type": "preservation"},
        {"type": "teleportation", "recipient": "FRA"},
        {"recipient": "FRA"},
        {"type": "preservation", "recipient": "ATLANTIS"},
        {"type": "preservation", "recipient": "DEU"},
        {"type": "preservation", "recipient": "FRA", "data_categories": "traffic"},
        [],
        "text",
        None,
    ],
)
def test_invalid_input_is_a_4xx_not_a_500(api: Client, body: Any) -> None:
    response = api.post("/api/v1/requests", body, content_type="application/json")
    assert response.status_code in (400, 422), response.content


def test_malformed_json_is_a_4xx(api: Client) -> None:
    assert api.post("/api/v1/requests", "{not json", content_type="application/json").status_code in (400, 422)


def test_flow_through_the_api(api: Client, complete_payload: Any) -> None:
    created = api.post(
        "/api/v1/requests",
        {"type": "preservation", "recipient": "FRA", **complete_payload},
        content_type="application/json",
    ).json()
    patched = api.patch(
        f"/api/v1/requests/{created['id']}", {"offence": "Computer fraud"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["payload"]["offence"] == "Computer fraud"
    submitted = api.post(f"/api/v1/requests/{created['id']}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    again = api.post(f"/api/v1/requests/{created['id']}/submit")
    assert again.status_code == 422 and "cannot be submitted" in again.json()["detail"]
    assert (
        api.patch(f"/api/v1/requests/{created['id']}", {"offence": "x"}, content_type="application/json").status_code
        == 422
    )
    events = api.get(f"/api/v1/requests/{created['id']}/events").json()
    assert [e["kind"] for e in events] == ["created", "edited", "submitted"]
    assert all(e["actor_name"] == "Lan Nguyen" for e in events)
    outgoing = api.get("/api/v1/requests?direction=outgoing").json()
    assert [r["id"] for r in outgoing] == [created["id"]]
    assert api.get("/api/v1/requests?direction=incoming").json() == []
    assert api.get("/api/v1/requests?direction=sideways").status_code == 422


def test_answering_through_the_api(api: Client, network: Any, own_keys: Any) -> None:
    msg = request_message(network["fra"])
    post(envelope(network["fra"], msg, own_keys))
    rid = msg["case_ref"]
    assert [r["id"] for r in api.get("/api/v1/requests?direction=incoming").json()] == [rid]
    assert api.post(f"/api/v1/requests/{rid}/acknowledge").json()["status"] == "acknowledged"
    short = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = api.post(f"/api/v1/requests/{rid}/execute", {"preserved_until": short}, content_type="application/json")
    assert response.status_code == 422 and "60 days" in response.json()["detail"]
    bad = api.post(f"/api/v1/requests/{rid}/execute", {"preserved_until": "soon"}, content_type="application/json")
    assert bad.status_code == 422
    until = (timezone.localdate() + timedelta(days=61)).isoformat()
    done = api.post(f"/api/v1/requests/{rid}/execute", {"preserved_until": until}, content_type="application/json")
    assert done.json()["status"] == "executed" and done.json()["preserved_until"] == until


def test_refusal_through_the_api_requires_grounds_and_reasons(api: Client, network: Any, own_keys: Any) -> None:
    msg = request_message(network["fra"])
    post(envelope(network["fra"], msg, own_keys))
    rid = msg["case_ref"]
    assert (
        api.post(
            f"/api/v1/requests/{rid}/refuse", {"grounds": [], "reasons": "x"}, content_type="application/json"
        ).status_code
        == 422
    )
    done = api.post(
        f"/api/v1/requests/{rid}/refuse",
        {"grounds": ["essential_interests"], "reasons": "Security."},
        content_type="application/json",
    )
    assert done.json()["status"] == "refused" and done.json()["refusal_reasons"] == "Security."


def test_unknown_and_malformed_ids_are_404(api: Client) -> None:
    assert api.get("/api/v1/requests/00000000-0000-7000-8000-000000000000").status_code == 404
    assert api.get("/api/v1/requests/not-a-uuid").status_code in (404, 422)


def test_viewing_a_request_is_audited(api: Client, complete_payload: Any) -> None:
    from hanoi247.audit.models import AuditEntry

    created = api.post(
        "/api/v1/requests",
        {"type": "preservation", "recipient": "FRA", **complete_payload},
        content_type="application/json",
    ).json()
    api.get(f"/api/v1/requests/{created['id']}")
    assert AuditEntry.objects.filter(action="request.viewed", object_id=created["id"]).count() == 1


def test_openapi_document_names_the_contract(db: None) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    for path in [
        "/api/v1/requests",
        "/api/v1/requests/{request_id}",
        "/api/v1/requests/{request_id}/submit",
        "/api/v1/requests/{request_id}/acknowledge",
        "/api/v1/requests/{request_id}/execute",
        "/api/v1/requests/{request_id}/refuse",
        "/api/v1/requests/{request_id}/events",
    ]:
        assert path in document["paths"], path
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_request_types_describe_their_elements(api: Client) -> None:
    types = api.get("/api/v1/request-types").json()
    preservation = next(t for t in types if t["code"] == "preservation")
    assert preservation["article"] == "Art. 42"
    assert "necessity" in preservation["elements_schema"]["properties"]


def test_a_nul_character_is_refused_with_400_not_stored(api: Any, network: Any, complete_payload: Any) -> None:
    """PostgreSQL cannot store NUL in text: refused up front, on both databases."""
    body = {"type": "preservation", "recipient": "FRA", **complete_payload, "offence": "Fraud\u0000"}
    response = api.post("/api/v1/requests", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and "NUL" in response.json()["detail"]
    assert api.get("/api/v1/requests?status=dr%00aft").json() == []
