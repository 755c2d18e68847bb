"""Every URL of the project and every operation of the API, for every persona (issue #5).

The routes are walked from the project's resolver and the operations from the OpenAPI
document, so a view or an endpoint added without an entry in ``WEB`` or ``API`` below fails
``test_every_view_is_classified``: every view must be classified.

What a class means, for the three case-handler roles of this node (officer, central
authority, supervisor), the node admin, the secretariat, another State's officer (all signed
in with password and TOTP) and an outsider (not signed in, or a token that is not one):

- a person not allowed never gets a 200 with case data, nor a 5xx: a 404 (or a 405 for a
  method the view does not take), or, for the outsider, a redirect to log in (web) or a 401
  (API);
- no answer to anyone but a case handler contains a request's reference or id;
- a denied persona's GETs and POSTs change no request.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from hanoi247.accounts.models import ApiToken, User
from hanoi247.cooperation import services
from hanoi247.cooperation.models import Request
from tests.conftest import verified_client
from tests.unit.test_inbox import envelope, post, request_message

HANDLERS = ("officer", "central", "supervisor")
OTHERS = ("admin", "secretariat", "foreign")
PERSONAS = (*HANDLERS, *OTHERS, "outsider")


class Web(enum.Enum):
    CASE = "this node's case handlers"
    VICTIM = "this node's central authority and supervisors (victims' identity and images)"
    OUTBOX = "this node's case handlers and node admin (undelivered messages, no content)"
    SECRETARIAT = "the secretariat's staff, on the secretariat's node only"
    ADMIN = "Django admin: staff with a second factor"
    OWN = "the signed-in user's own account pages"
    SECRET_URL = "a secret in the URL stands for the user (calendar feeds)"
    PUBLIC = "public: no case data"


class Api(enum.Enum):
    CASE = "this node's case handlers; anyone else with a token: 404"
    LIST = "this node's case handlers; anyone else with a token: an empty list"
    ANY_TOKEN = "anyone with a token: reference data, no case data"
    PUBLIC = "public"


# Every named route of the project's resolver (the API's routes are classified by operation
# in API below; the admin's by the admin namespace).
WEB: dict[str, Web] = {
    "cooperation:desk": Web.CASE,
    "cooperation:choose": Web.CASE,
    "cooperation:new": Web.CASE,
    "cooperation:detail": Web.CASE,
    "cooperation:live": Web.CASE,
    "cooperation:edit": Web.CASE,
    "cooperation:submit": Web.CASE,
    "cooperation:step": Web.CASE,
    "cooperation:translate": Web.CASE,
    "cooperation:ask_transfer": Web.CASE,
    "cooperation:document": Web.CASE,
    "cooperation:decide_transfer": Web.CASE,
    "cooperation:cases": Web.CASE,
    "cooperation:case": Web.CASE,
    "cooperation:case_message": Web.CASE,
    "cooperation:deadlines": Web.CASE,
    "evidence:list": Web.CASE,
    "evidence:upload-start": Web.CASE,
    "evidence:upload-chunk": Web.CASE,
    "evidence:upload-finish": Web.CASE,
    "evidence:detail": Web.CASE,
    "evidence:download": Web.CASE,
    "evidence:case": Web.CASE,
    "evidence:send": Web.CASE,
    "victims:cases": Web.CASE,
    "victims:record": Web.VICTIM,
    "victims:case": Web.CASE,
    "victims:add_image": Web.VICTIM,
    "victims:consent": Web.VICTIM,
    "victims:share": Web.CASE,
    "victims:image": Web.VICTIM,
    "victims:sightings": Web.CASE,
    "victims:remove": Web.CASE,
    "indicators:index": Web.CASE,
    "indicators:bundle": Web.CASE,
    "indicators:owner": Web.CASE,
    "indicators:export": Web.CASE,
    "indicators:import": Web.CASE,
    "indicators:share": Web.CASE,
    "operations:roster": Web.CASE,
    "operations:hand_over": Web.CASE,
    "operations:preferences": Web.CASE,
    "operations:add_webhook": Web.CASE,
    "operations:remove_webhook": Web.CASE,
    "operations:calendars": Web.CASE,
    "operations:roster_ics": Web.CASE,
    "operations:deadlines_ics": Web.CASE,
    "operations:feed": Web.SECRET_URL,
    "federation:outbox": Web.OUTBOX,
    "federation:outbox-json": Web.OUTBOX,
    "reports:conference": Web.SECRETARIAT,
    "reports:conference-csv": Web.SECRETARIAT,
    "accounts:login": Web.PUBLIC,
    "accounts:verify": Web.OWN,
    "accounts:enrol": Web.OWN,
    "accounts:logout": Web.OWN,
    "accounts:tokens": Web.OWN,
    "set_language": Web.PUBLIC,
    "network": Web.PUBLIC,
    "treaty": Web.PUBLIC,
    "signed-directory": Web.PUBLIC,
    "operations:on_call": Web.PUBLIC,  # signed roster windows and the published channel (ADR 0015)
    "federation-inbox": Web.PUBLIC,  # signed and encrypted envelopes from peers
    "federation-ping": Web.PUBLIC,
    "federation-evidence": Web.PUBLIC,  # authorised by the sender's signed manifest
    "operations:metrics": Web.PUBLIC,  # counts only, to a token or an allowed address
    "health": Web.PUBLIC,
    "api:openapi-json": Web.PUBLIC,
    "api:api-root": Web.PUBLIC,
}

# Every operation of the OpenAPI document, as "METHOD /path".
API: dict[str, Api] = {
    "POST /api/v1/requests/{request_id}/actions/{action}": Api.CASE,
    "POST /api/v1/requests/{request_id}/translations": Api.CASE,
    "POST /api/v1/requests/{request_id}/transfer-authorisations": Api.CASE,
    "GET /api/v1/transfer-authorisations": Api.LIST,
    "POST /api/v1/transfer-authorisations/{authorisation_id}/decide": Api.CASE,
    "GET /api/v1/cases": Api.LIST,
    "GET /api/v1/cases/{case_id}": Api.CASE,
    "GET /api/v1/deadlines": Api.LIST,
    "GET /api/v1/request-types": Api.ANY_TOKEN,
    "POST /api/v1/requests": Api.CASE,
    "GET /api/v1/requests": Api.LIST,
    "GET /api/v1/requests/{request_id}": Api.CASE,
    "PATCH /api/v1/requests/{request_id}": Api.CASE,
    "GET /api/v1/requests/{request_id}/events": Api.CASE,
    "POST /api/v1/requests/{request_id}/submit": Api.CASE,
    "POST /api/v1/requests/{request_id}/acknowledge": Api.CASE,
    "POST /api/v1/requests/{request_id}/execute": Api.CASE,
    "POST /api/v1/requests/{request_id}/refuse": Api.CASE,
    "GET /api/v1/directory": Api.ANY_TOKEN,
    "GET /api/v1/evidence/recipient": Api.CASE,
    "POST /api/v1/evidence/uploads": Api.CASE,
    "GET /api/v1/evidence/uploads/{upload_id}": Api.CASE,
    "PUT /api/v1/evidence/uploads/{upload_id}": Api.CASE,
    "DELETE /api/v1/evidence/uploads/{upload_id}": Api.CASE,
    "POST /api/v1/evidence/uploads/{upload_id}/finish": Api.CASE,
    "GET /api/v1/evidence": Api.CASE,
    "GET /api/v1/evidence/transfers/{transfer_id}": Api.CASE,
    "POST /api/v1/evidence/transfers/{transfer_id}/resume": Api.CASE,
    "GET /api/v1/evidence/{item_id}": Api.CASE,
    "GET /api/v1/evidence/{item_id}/custody": Api.CASE,
    "GET /api/v1/evidence/{item_id}/content": Api.CASE,
    "GET /api/v1/evidence/{item_id}/age": Api.CASE,
    "GET /api/v1/evidence/{item_id}/case": Api.CASE,
    "POST /api/v1/evidence/{item_id}/transfers": Api.CASE,
    "GET /api/v1/indicators/{owner}/{owner_id}/stix": Api.CASE,
    "POST /api/v1/indicators/{owner}/{owner_id}/stix": Api.CASE,
    "GET /api/v1/ops/dashboard": Api.CASE,
    "GET /api/v1/ops/on-call": Api.CASE,
    "GET /api/v1/ops/requests/{request_id}/timeline": Api.CASE,
}

# Bodies that pass validation, so a denial is the view's, not the schema's.
BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/requests": {"type": "preservation", "recipient": "FRA"},
    "POST /api/v1/requests/{request_id}/translations": {"language": "fr", "text": "x"},
    "POST /api/v1/requests/{request_id}/transfer-authorisations": {"third_state": "BRA", "purpose": "x"},
    "POST /api/v1/requests/{request_id}/refuse": {"grounds": ["essential_interests"], "reasons": "x"},
    "POST /api/v1/transfer-authorisations/{authorisation_id}/decide": {"granted": True},
    "POST /api/v1/evidence/uploads": {"title": "x", "filename": "x.bin", "size": 1},
    "POST /api/v1/evidence/{item_id}/transfers": {"request_id": "x"},
}


# -- the fixture --------------------------------------------------------------------------


@pytest.fixture
def world(network: Any, personas: dict[str, User], own_keys: Any, complete_payload: Any) -> dict[str, Any]:
    """A draft and an incoming request (each in its case) and every persona's client."""
    draft = services.create_draft(personas["officer"], type="preservation", recipient="FRA", payload=complete_payload)
    msg = request_message(network["fra"])
    assert post(envelope(network["fra"], msg, own_keys)).status_code == 200
    incoming = Request.objects.get(pk=msg["case_ref"])
    web = {role: verified_client(personas[role]) for role in (*HANDLERS, *OTHERS)}
    web["outsider"] = Client()
    api = {
        role: Client(headers={"Authorization": f"Bearer {ApiToken.issue(personas[role], 't')[1]}"})
        for role in (*HANDLERS, *OTHERS)
    }
    api["outsider"] = Client(headers={"Authorization": "Bearer h247_not-a-token"})
    secrets = [r.reference.encode() for r in (draft, incoming)] + [str(r.pk).encode() for r in (draft, incoming)]
    values = {
        "request_id": str(incoming.pk),
        "source_id": str(draft.pk),
        "case_id": str(incoming.case_id),
        "owner_id": str(incoming.pk),
        "owner": "requests",
        "kind": "acknowledged",
        "action": "acknowledged",
        "type": "preservation",
        "token": "not-a-calendar-secret",
        "name": "roster",
    }
    return {"web": web, "api": api, "secrets": secrets, "values": values}


# -- walking the resolver and the document ------------------------------------------------


def routes(resolver: URLResolver | None = None, prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    """(namespaced name, route) of every URL pattern, recursively."""
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            inner = ns + (f"{p.namespace}:" if p.namespace else "")
            yield from routes(p, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield ns + (p.name or f"<unnamed {prefix}{p.pattern}>"), prefix + str(p.pattern)


def fill(route: str, values: dict[str, str]) -> str:
    """A URL for a route: path converters and named regex groups filled in; a random UUID for
    an id this fixture has no row for."""

    def value(name: str) -> str:
        return values.get(name, str(uuid.uuid4()))

    def group(m: re.Match[str]) -> str:
        given = value(m[1])
        return given if re.fullmatch(m[2], given) else m[2].split("|")[0]  # e.g. (?P<kind>cases|requests)

    url = re.sub(r"\(\?P<(\w+)>([^)]*)\)", group, route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m[1]), url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


def operations(document: dict[str, Any]) -> Iterator[str]:
    for path, methods in document["paths"].items():
        for method in methods:
            yield f"{method.upper()} {path}"


# -- what each persona may get ------------------------------------------------------------


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(("/accounts/login/", "/admin/login/"))


def _allowed(kind: Web, role: str) -> bool:
    if kind is Web.VICTIM:
        return role in ("central", "supervisor")
    if kind is Web.OUTBOX:
        return role in (*HANDLERS, "admin")
    if kind is Web.ADMIN:
        return role in ("admin", "secretariat")
    return role in HANDLERS


def check_web(kind: Web, role: str, method: str, url: str, response: Any) -> None:
    where = (kind.name, role, method, url, response.status_code)
    assert response.status_code < 500, where
    if kind in (Web.PUBLIC, Web.OWN):
        return
    if kind is Web.SECRET_URL:
        assert response.status_code in (404, 405), where
    elif role == "outsider":
        assert _to_login(response) or response.status_code in (403, 405), where
    elif kind is Web.SECRETARIAT or not _allowed(kind, role):
        # This node is not the secretariat's: its reports are nobody's here.
        assert response.status_code in (404, 405) or (kind is Web.ADMIN and _to_login(response)), where
    else:
        assert not _to_login(response), where


def check_api(kind: Api, role: str, key: str, response: Any) -> None:
    where = (kind.name, role, key, response.status_code, response.content[:200])
    assert response.status_code < 500, where
    if kind is Api.PUBLIC:
        return
    if role == "outsider":
        assert response.status_code == 401, where
    elif role in HANDLERS:
        assert response.status_code not in (401, 403), where
    elif kind is Api.CASE:
        # A 422 from the schema (a list of validation errors) comes before the view; a 422
        # from the view (a string) would mean it found the request.
        validation = response.status_code == 422 and isinstance(response.json().get("detail"), list)
        assert response.status_code == 404 or validation, where
    elif kind is Api.LIST:
        assert response.status_code == 200 and response.json() == [], where
    else:
        assert response.status_code == 200, where


def no_case_data(role: str, secrets: list[bytes], where: Any, url: str, response: Any) -> None:
    """No request's reference or id in the answer (an id the URL itself names may be echoed,
    e.g. by the language switcher's "next")."""
    if role in HANDLERS or getattr(response, "streaming", False):
        return
    for secret in secrets:
        if secret.decode() not in url:
            assert secret not in response.content, (role, where, secret)


def snapshot() -> list[tuple[Any, ...]]:
    return list(Request.objects.order_by("pk").values_list("pk", "status", "payload"))


# -- the tests ----------------------------------------------------------------------------


def test_every_view_is_classified() -> None:
    document = Client().get("/api/v1/openapi.json").json()
    documented = set(operations(document))
    assert documented == set(API), (
        f"unclassified operations: {sorted(documented - set(API))}; gone: {sorted(set(API) - documented)}"
    )
    api_paths = {key.split(" ", 1)[1] for key in API}
    web_names = set()
    for name, route in routes():
        if name.startswith("admin:"):
            continue
        if name.startswith("api:") and name not in WEB:
            # Served through the API: documented, hence in API above.
            assert re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + route) in api_paths, (name, route)
            continue
        web_names.add(name)
    assert web_names == set(WEB), (
        f"unclassified views: {sorted(web_names - set(WEB))}; gone: {sorted(set(WEB) - web_names)}"
    )


@pytest.mark.parametrize("role", PERSONAS)
def test_every_url_for_every_persona(world: dict[str, Any], role: str) -> None:
    client: Client = world["web"][role]
    before = snapshot()
    tried = 0
    # The admin: its index and every registered model's list.
    admin_urls = [reverse("admin:index")] + [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry
    ]
    for url in admin_urls:
        response = client.get(url)
        check_web(Web.ADMIN, role, "get", url, response)
        no_case_data(role, world["secrets"], ("get", url), url, response)
    # Logging out last, or the persona would be an outsider for the rest of the walk.
    for name, route in sorted(routes(), key=lambda r: r[0] == "accounts:logout"):
        if name.startswith("admin:"):
            continue
        if name not in WEB:
            continue  # the API's routes: see test_every_api_operation_for_every_persona
        kind = WEB[name]
        url = fill(route, world["values"])
        methods = ["get"] if role in HANDLERS else ["get", "post"]
        for method in methods:
            response = getattr(client, method)(url)
            check_web(kind, role, method, url, response)
            no_case_data(role, world["secrets"], (method, url), url, response)
            tried += 1
    assert tried > len(WEB) - 1
    if role not in HANDLERS:
        assert snapshot() == before


@pytest.mark.parametrize("role", PERSONAS)
def test_every_api_operation_for_every_persona(world: dict[str, Any], role: str) -> None:
    client: Client = world["api"][role]
    document = Client().get("/api/v1/openapi.json").json()
    before = snapshot()
    for key in operations(document):
        method, path = key.split(" ", 1)
        url = re.sub(r"\{(\w+)\}", lambda m: world["values"].get(m[1], str(uuid.uuid4())), path)
        body = BODIES.get(key, {})
        if method == "PUT":  # raw chunks
            response = client.put(url, data=b"x", content_type="application/octet-stream", QUERY_STRING="offset=0")
        else:
            response = getattr(client, method.lower())(url, data=body, content_type="application/json")
        check_api(API[key], role, key, response)
        no_case_data(role, world["secrets"], key, url, response)
    if role not in HANDLERS:
        assert snapshot() == before
