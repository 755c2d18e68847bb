"""Indicators as STIX 2.1 (issue #9, Arts. 54-56): bundles that pass stix2-validator, TLP
2.0 markings from the handling code, round trip, sharing with chosen States."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stix2
from stix2validator import ValidationOptions, validate_string

from hanoi247.accounts.models import ApiToken
from hanoi247.cooperation import services as cooperation
from hanoi247.cooperation.models import Case, Handling, Request
from hanoi247.federation.envelope import uuid7
from hanoi247.federation.models import OutboxMessage
from hanoi247.indicators import services, stix
from hanoi247.indicators.models import Bundle, Indicator
from tests.conftest import verified_client
from tests.unit.test_safeguards import message_from

VALUES = [
    ("ipv4", "198.51.100.7"),
    ("ipv6", "2001:db8::1"),
    ("domain", "phish.example"),
    ("url", "https://phish.example/login?next=/it's"),
    ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("email", "boss@ceo-fraud.example"),
    ("wallet", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
]
OASIS_TLP2 = {
    "TLP:CLEAR": ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
    "TLP:GREEN": ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
    "TLP:AMBER": ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
    "TLP:AMBER+STRICT": ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
    "TLP:RED": ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
}


@pytest.fixture
def officer(personas: Any) -> Any:
    return personas["officer"]


@pytest.fixture
def req(network: Any, officer: Any, complete_payload: Any) -> Request:
    return cooperation.create_draft(
        officer,
        type="preservation",
        recipient="FRA",
        payload=complete_payload,
        options=cooperation.Options(handling=Handling.AMBER),
    )


@pytest.fixture
def filled(officer: Any, req: Request) -> Request:
    for kind, value in VALUES:
        services.add(officer, kind=kind, value=value, request=req, currency="BTC" if kind == "wallet" else "")
    return req


def assert_valid(document: dict[str, Any]) -> None:
    result = validate_string(json.dumps(document), ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]


def test_the_exported_bundle_passes_stix2_validator(officer: Any, filled: Request) -> None:
    document = services.export(officer, request=filled)
    assert_valid(document)
    kinds = [o["type"] for o in document["objects"]]
    assert kinds.count("indicator") == len(VALUES) and kinds.count("identity") == 1
    patterns = {o["pattern"] for o in document["objects"] if o["type"] == "indicator"}
    assert "[ipv4-addr:value = '198.51.100.7']" in patterns
    assert "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']" in patterns
    assert "[url:value = 'https://phish.example/login?next=/it\\'s']" in patterns
    stix2.parse(document, allow_custom=True)  # the library reads it back too


def test_each_handling_code_maps_to_the_oasis_tlp2_marking() -> None:
    for code, (marking_id, level) in OASIS_TLP2.items():
        marking = stix.marking(code)
        assert marking["id"] == marking_id and marking["name"] == code
        assert marking["extensions"][stix.TLP2_EXTENSION] == {"extension_type": "property-extension", "tlp_2_0": level}
        assert stix.handling_of([marking_id]) == code
    # TLP 1.0 markings (stix2's built-ins) are read too: WHITE is CLEAR.
    assert stix.handling_of([stix2.TLP_WHITE.id]) == "TLP:CLEAR"
    assert stix.handling_of([stix2.TLP_AMBER.id, OASIS_TLP2["TLP:RED"][0]]) == "TLP:RED"


def test_indicators_take_the_requests_handling_and_the_bundle_marks_it(officer: Any, filled: Request) -> None:
    document = services.export(officer, request=filled)
    amber = OASIS_TLP2["TLP:AMBER"][0]
    markings = [o for o in document["objects"] if o["type"] == "marking-definition"]
    assert [m["id"] for m in markings] == [amber]
    assert all(o["object_marking_refs"] == [amber] for o in document["objects"] if o["type"] == "indicator")


def test_a_case_takes_the_strictest_handling_of_its_requests(
    network: Any, officer: Any, req: Request, complete_payload: Any
) -> None:
    assert req.case is not None
    cooperation.create_draft(
        officer,
        type="preservation",
        recipient="BRA",
        payload=complete_payload,
        options=cooperation.Options(case=req.case, handling=Handling.RED),
    )
    row = services.add(officer, kind="domain", value="Evil.Example.", case=req.case)
    assert (row.value, row.handling) == ("evil.example", "TLP:RED")


def test_import_export_round_trip(officer: Any, filled: Request) -> None:
    document = services.export(officer, request=filled)
    before = sorted(Indicator.objects.values_list("stix_id", "kind", "value", "currency", "handling"))
    Indicator.objects.all().delete()
    other = cooperation.create_case(officer, "Other case")
    result = services.import_bundle(officer, document, case=other)
    assert (result.created, result.updated, result.skipped) == (len(VALUES), 0, [])
    assert sorted(Indicator.objects.values_list("stix_id", "kind", "value", "currency", "handling")) == before
    again = services.export(officer, case=other)
    assert sorted(o["pattern"] for o in again["objects"] if o["type"] == "indicator") == sorted(
        o["pattern"] for o in document["objects"] if o["type"] == "indicator"
    )
    # Importing the same bundle again updates; it does not duplicate.
    assert services.import_bundle(officer, document, case=other).updated == len(VALUES)
    assert Indicator.objects.count() == len(VALUES)


def test_an_invalid_bundle_is_refused_and_nothing_is_stored(officer: Any, filled: Request) -> None:
    document = services.export(officer, request=filled)
    Indicator.objects.all().delete()
    broken = json.loads(json.dumps(document))
    target = next(o for o in broken["objects"] if o["type"] == "indicator")
    target["pattern"] = "[file:hashes.'SHA-256' = 'not-a-hash']"
    with pytest.raises(services.IndicatorError, match="not valid STIX"):
        services.import_bundle(officer, broken, request=filled)
    del broken["objects"][-1]["pattern"]
    with pytest.raises(services.IndicatorError):
        services.import_bundle(officer, broken, request=filled)
    assert not Indicator.objects.exists()


@pytest.mark.parametrize(
    ("kind", "value"), [("ipv4", "2001:db8::1"), ("domain", "not a domain"), ("md5", "xyz"), ("email", "no-at")]
)
def test_malformed_values_are_refused(officer: Any, req: Request, kind: str, value: str) -> None:
    with pytest.raises(services.IndicatorError):
        services.add(officer, kind=kind, value=value, request=req)


def test_a_bundle_is_shared_with_the_chosen_states_under_its_handling(officer: Any, filled: Request) -> None:
    services.add(officer, kind="domain", value="red.example", request=filled, handling="TLP:RED")
    sent = services.share(officer, states=["FRA", "BRA"], request=filled)
    rows = OutboxMessage.objects.filter(type="indicators.bundle")
    assert sorted(r.recipient for r in rows) == ["BRA", "FRA"]
    for row in rows:
        assert row.message["handling"] == "TLP:RED" == sent.handling
        assert row.message["body"]["request_id"] == str(filled.pk)
        assert_valid(row.message["body"]["bundle"])
    with pytest.raises(services.IndicatorError):
        services.share(officer, states=["ZZZ"], request=filled)


def test_a_received_bundle_is_validated_and_stored(network: Any, own_keys: Any, officer: Any, filled: Request) -> None:
    document = services.export(officer, request=filled)
    Indicator.objects.all().delete()
    body = {"bundle": document, "case_id": str(filled.case_id), "request_id": None}
    bundle_id = str(uuid7())
    assert message_from(network["fra"], own_keys, "indicators.bundle", body, bundle_id).status_code == 200
    received = Bundle.objects.get(direction="received")
    assert received.states == ["FRA"] and received.case_id == filled.case_id
    assert Indicator.objects.filter(source_state="FRA", case_id=filled.case_id).count() == len(VALUES)

    bad = json.loads(json.dumps(body))
    bad["bundle"]["objects"][-1]["pattern_type"] = 5
    response = message_from(network["fra"], own_keys, "indicators.bundle", bad, str(uuid7()))
    assert response.status_code == 422 and Bundle.objects.count() == 1


def test_the_pages_for_a_case_handler(personas: Any, filled: Request) -> None:
    client = verified_client(personas["officer"])
    assert client.get("/indicators/").status_code == 200
    page = client.get(f"/indicators/requests/{filled.pk}/")
    assert page.status_code == 200 and "198.51.100.7" in page.content.decode()
    export = client.get(f"/indicators/requests/{filled.pk}/stix.json")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/stix+json")
    assert_valid(json.loads(export.content))
    added = client.post(f"/indicators/requests/{filled.pk}/", {"kind": "ipv4", "value": "203.0.113.9"})
    assert added.status_code == 302 and Indicator.objects.filter(value="203.0.113.9").exists()


@pytest.mark.parametrize("persona", ["admin", "secretariat", "foreign"])
def test_outsiders_get_404(personas: Any, filled: Request, persona: str) -> None:
    client = verified_client(personas[persona])
    for url in ("/indicators/", f"/indicators/requests/{filled.pk}/", f"/indicators/requests/{filled.pk}/stix.json"):
        assert client.get(url).status_code == 404, url


def test_the_api_exports_and_imports(personas: Any, filled: Request) -> None:
    from django.test import Client

    _, token = ApiToken.issue(personas["officer"], "test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    got = client.get(f"/api/v1/indicators/requests/{filled.pk}/stix")
    assert got.status_code == 200
    assert_valid(got.json())
    case = Case.objects.get(pk=filled.case_id)
    posted = client.post(f"/api/v1/indicators/cases/{case.pk}/stix", got.json(), content_type="application/json")
    assert posted.status_code == 200, posted.content
    assert posted.json()["updated"] == len(VALUES)
    _, other = ApiToken.issue(personas["foreign"], "x")
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {other}").get(f"/api/v1/indicators/requests/{filled.pk}/stix").status_code
        == 404
    )
