"""The main lists and pages run as many queries with 30 requests as with 3 (issue #5): a list
that grows an N+1 fails here."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hanoi247.accounts.models import ApiToken
from hanoi247.cooperation import services
from hanoi247.cooperation.models import Request
from tests.conftest import verified_client
from tests.unit.test_inbox import envelope, post, request_message

SMALL, LARGE = 3, 30


def add_requests(n: int, *, officer: Any, network: Any, own_keys: Any, payload: Any, case: Any) -> None:
    """n outgoing drafts in one case (the case page grows too) and n incoming requests, each
    with a message in its history."""
    for _ in range(n):
        services.create_draft(
            officer,
            type="preservation",
            recipient="FRA",
            payload=payload,
            options=services.Options(case=case),
        )
        msg = request_message(network["fra"])
        assert post(envelope(network["fra"], msg, own_keys)).status_code == 200
        incoming = Request.objects.get(pk=msg["case_ref"])
        services.act(officer, incoming, "message", note="noted", data={})


def count(client: Client, url: str) -> int:
    # The directory is cached for two seconds per process: start each count without it, so
    # that a slow run does not count it on one side only.
    from hanoi247.directory import services as directory

    directory._cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(getattr(response, "streaming_content"))  # noqa: B009
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.mark.parametrize("with_token", [False, True], ids=["web", "api"])
def test_lists_stay_flat_as_data_grows(
    network: Any, personas: Any, own_keys: Any, complete_payload: Any, with_token: bool
) -> None:
    officer = personas["officer"]
    first = services.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload)
    add_requests(
        SMALL - 1, officer=officer, network=network, own_keys=own_keys, payload=complete_payload, case=first.case
    )
    incoming = Request.objects.filter(direction="incoming").first()
    assert incoming is not None
    if with_token:
        client = Client(headers={"Authorization": f"Bearer {ApiToken.issue(officer, 'counts')[1]}"})
        urls = [
            "/api/v1/requests",
            "/api/v1/requests?direction=incoming",
            f"/api/v1/requests/{incoming.pk}",
            f"/api/v1/cases/{first.case_id}",
            "/api/v1/cases",
            "/api/v1/deadlines",
            "/api/v1/evidence",
            "/api/v1/ops/dashboard",
        ]
    else:
        client = verified_client(officer)
        urls = [
            "/",
            "/cases/",
            "/deadlines/",
            f"/requests/{first.pk}/",
            f"/requests/{incoming.pk}/",
            f"/cases/{first.case_id}/",
            "/evidence/",
            "/ops/",
        ]
    count(client, urls[0])  # once first: the token's "last used" is written at most once a minute
    small = {url: count(client, url) for url in urls}
    add_requests(
        LARGE - SMALL, officer=officer, network=network, own_keys=own_keys, payload=complete_payload, case=first.case
    )
    large = {url: count(client, url) for url in urls}
    grew = {url: (small[url], large[url]) for url in urls if large[url] != small[url]}
    assert not grew, f"query counts grew from {SMALL} to {LARGE} requests: {grew}"


def test_search_finds_requests_by_reference_prefix(network: Any, personas: Any, complete_payload: Any) -> None:
    officer = personas["officer"]
    drafts = [
        services.create_draft(officer, type="preservation", recipient="FRA", payload=complete_payload) for _ in range(3)
    ]
    client = Client(headers={"Authorization": f"Bearer {ApiToken.issue(officer, 'search')[1]}"})
    found = client.get("/api/v1/requests", {"q": drafts[1].reference.lower()}).json()
    assert [r["id"] for r in found] == [str(drafts[1].pk)]
    everyone = client.get("/api/v1/requests", {"q": drafts[0].reference[:4]}).json()
    assert {r["id"] for r in everyone} == {str(d.pk) for d in drafts}
    assert client.get("/api/v1/requests", {"q": "NOPE-"}).json() == []
    # Nobody else finds anything.
    other = Client(headers={"Authorization": f"Bearer {ApiToken.issue(personas['foreign'], 'search')[1]}"})
    assert other.get("/api/v1/requests", {"q": drafts[0].reference}).json() == []
