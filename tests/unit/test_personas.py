"""Every view and endpoint, for every role, a foreign State's officer and an outsider.

Case handlers of this node's State (24/7 officer, central authority, supervisor) see the
node's requests; the node admin, the secretariat and another State's officer get 404, as
if nothing existed; an outsider is sent to log in (web) or gets 401 (API)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hanoi247.accounts.models import ApiToken
from hanoi247.cooperation import services
from hanoi247.cooperation.models import Request
from hanoi247.cooperation.schemas import REQUEST_TYPES
from tests.conftest import verified_client
from tests.unit.test_inbox import envelope, post, request_message

ALLOWED = ["officer", "central", "supervisor"]
DENIED = ["admin", "secretariat", "foreign"]


@pytest.fixture
def cases(network: Any, personas: Any, own_keys: Any, complete_payload: Any) -> dict[str, Request]:
    draft = services.create_draft(personas["officer"], type="preservation", recipient="FRA", payload=complete_payload)
    msg = request_message(network["fra"])
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 200
    return {"draft": draft, "incoming": Request.objects.get(pk=msg["case_ref"])}


def pages(cases: dict[str, Request]) -> list[str]:
    d, i = cases["draft"].pk, cases["incoming"].pk
    c = cases["incoming"].case_id
    return [
        "/",
        "/requests/new/",
        *[f"/requests/new/{code}/" for code in REQUEST_TYPES],
        f"/requests/{d}/",
        f"/requests/{i}/",
        f"/requests/{d}/live/",
        f"/requests/{i}/live/",
        f"/requests/{d}/edit/",
        f"/requests/{i}/document.pdf",
        "/cases/",
        f"/cases/{c}/",
        "/deadlines/",
    ]


def actions(cases: dict[str, Request]) -> list[tuple[str, dict[str, Any]]]:
    d, i = cases["draft"].pk, cases["incoming"].pk
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    return [
        (f"/requests/{d}/submit/", {}),
        (f"/requests/{i}/do/acknowledged/", {}),
        (f"/requests/{i}/do/executed/", {"executed-preserved_until": until}),
        (f"/requests/{i}/do/refused/", {"refused-grounds": ["essential_interests"], "refused-note": "x"}),
        (f"/requests/{i}/do/message/", {"message-note": "x"}),
        (f"/requests/{d}/translations/", {"tr-language": "fr", "tr-text": "x"}),
        (f"/requests/{d}/transfers/{i}/", {"purpose": "x"}),
        (f"/requests/{d}/edit/", {"offence": "changed"}),
        ("/requests/new/preservation/", {"recipient": "FRA"}),
        (f"/cases/{cases['incoming'].case_id}/message/", {"note": "x"}),
    ]


def api_calls(cases: dict[str, Request]) -> list[tuple[str, str, dict[str, Any] | None]]:
    d, i = cases["draft"].pk, cases["incoming"].pk
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    return [
        ("get", f"/api/v1/requests/{d}", None),
        ("get", f"/api/v1/requests/{i}", None),
        ("get", f"/api/v1/requests/{i}/events", None),
        ("patch", f"/api/v1/requests/{d}", {"offence": "x"}),
        ("post", f"/api/v1/requests/{d}/submit", None),
        ("post", f"/api/v1/requests/{i}/acknowledge", None),
        ("post", f"/api/v1/requests/{i}/execute", {"preserved_until": until}),
        ("post", f"/api/v1/requests/{i}/refuse", {"grounds": ["essential_interests"], "reasons": "x"}),
        ("post", "/api/v1/requests", {"type": "preservation", "recipient": "FRA"}),
        ("post", f"/api/v1/requests/{i}/actions/acknowledged", {}),
        ("post", f"/api/v1/requests/{i}/actions/message", {"note": "x"}),
        ("post", f"/api/v1/requests/{d}/translations", {"language": "fr", "text": "x"}),
        ("post", f"/api/v1/requests/{i}/transfer-authorisations", {"third_state": "BRA", "purpose": "x"}),
        ("get", f"/api/v1/cases/{cases['incoming'].case_id}", None),
    ]


def snapshot() -> list[tuple[Any, ...]]:
    return list(Request.objects.order_by("pk").values_list("pk", "status", "payload"))


@pytest.mark.parametrize("role", ALLOWED)
def test_case_handlers_see_the_pages(cases: Any, personas: Any, role: str) -> None:
    client = verified_client(personas[role])
    for url in pages(cases):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", DENIED)
def test_others_get_404_everywhere_and_change_nothing(cases: Any, personas: Any, role: str) -> None:
    client = verified_client(personas[role])
    before = snapshot()
    for url in pages(cases):
        assert client.get(url).status_code == 404, url
    for url, data in actions(cases):
        assert client.post(url, data).status_code == 404, url
    assert snapshot() == before


def test_outsider_is_sent_to_log_in_and_changes_nothing(cases: Any) -> None:
    client = Client()
    before = snapshot()
    for url in pages(cases):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    for url, data in actions(cases):
        assert client.post(url, data).status_code in (302, 403), url
    assert snapshot() == before


def test_password_without_second_factor_is_not_enough(cases: Any, personas: Any) -> None:
    client = Client()
    client.force_login(personas["officer"])  # no verified TOTP device in the session
    assert client.get("/")["Location"].startswith("/accounts/login/")


def _api(user: Any) -> Client:
    _, token = ApiToken.issue(user, "test")
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("role", ALLOWED)
def test_case_handlers_use_the_api(cases: Any, personas: Any, role: str) -> None:
    client = _api(personas[role])
    listed = {r["id"] for r in client.get("/api/v1/requests").json()}
    assert listed == {str(c.pk) for c in cases.values()}
    assert client.get(f"/api/v1/requests/{cases['incoming'].pk}").status_code == 200


@pytest.mark.parametrize("role", DENIED)
def test_others_get_404_from_the_api(cases: Any, personas: Any, role: str) -> None:
    client = _api(personas[role])
    before = snapshot()
    for listing in ("/api/v1/requests", "/api/v1/cases", "/api/v1/deadlines", "/api/v1/transfer-authorisations"):
        assert client.get(listing).json() == [], listing
    for method, url, body in api_calls(cases):
        response = getattr(client, method)(url, data=body, content_type="application/json")
        assert response.status_code == 404, (method, url, response.content)
    assert snapshot() == before


def test_outsider_gets_401_from_the_api(cases: Any) -> None:
    client = Client(headers={"Authorization": "Bearer h247_not-a-token"})
    for method, url, body in [*api_calls(cases), ("get", "/api/v1/requests", None)]:
        response = getattr(client, method)(url, data=body, content_type="application/json")
        assert response.status_code == 401, (method, url)
    assert Client().get("/api/v1/requests").status_code == 401


def test_account_pages_show_only_the_users_own_tokens(cases: Any, personas: Any) -> None:
    officer_token = ApiToken.issue(personas["officer"], "officer's script")[0]
    page = verified_client(personas["foreign"]).get("/accounts/tokens/")
    assert page.status_code == 200 and officer_token.name.encode() not in page.content
    assert Client().get("/accounts/tokens/")["Location"].startswith("/accounts/login/")


def test_the_network_directory_is_public_and_holds_no_case_data(cases: Any) -> None:
    page = Client().get("/network/")
    assert page.status_code == 200 and b"FRA" in page.content
    assert cases["draft"].reference.encode() not in page.content
