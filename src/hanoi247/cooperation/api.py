"""JSON API for requests: ``/api/v1/requests`` (contract in issue #2; OpenAPI at
``/api/v1/openapi.json``). Thin: every action is a call to ``services``."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from hanoi247.accounts.services import acting_user
from hanoi247.cooperation import services
from hanoi247.cooperation.models import Request, RequestEvent
from hanoi247.cooperation.schemas import REQUEST_TYPES
from hanoi247.directory import services as directory

router = Router(tags=["requests"])


class MissingOut(Schema):
    field: str
    element: str
    article: str
    message: str


class ErrorOut(Schema):
    detail: str
    missing: list[MissingOut] = []


class RequestIn(Schema):
    """A new request: its type, the requested State, and the elements its article requires
    as further top-level fields (see ``GET /api/v1/request-types``)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["preservation"]
    recipient: str = Field(min_length=3, max_length=3, description="ISO 3166 alpha-3 code of the requested State")


class DraftUpdateIn(Schema):
    model_config = ConfigDict(extra="allow")
    recipient: str | None = Field(default=None, min_length=3, max_length=3)


class ExecuteIn(Schema):
    preserved_until: date = Field(
        description="Date until which the data is preserved (at least 60 days ahead, Art. 42)"
    )
    note: str = ""


class RefuseIn(Schema):
    grounds: list[str] = Field(description="Codes from the request type's refusal grounds")
    reasons: str


class RequestOut(Schema):
    id: UUID
    reference: str
    type: str
    direction: str
    requesting_state: str
    requested_state: str
    status: str
    payload: dict[str, Any]
    created_at: datetime
    submitted_at: datetime | None
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    closed_at: datetime | None
    preserved_until: date | None
    refusal_grounds: list[str]
    refusal_reasons: str
    missing: list[MissingOut]


class EventOut(Schema):
    id: UUID
    kind: str
    at: datetime
    actor_name: str
    actor_role: str
    actor_state: str
    note: str
    data: dict[str, Any]


class RequestTypeOut(Schema):
    code: str
    title: str
    article: str
    version: int
    elements_schema: dict[str, Any]
    refusal_grounds: dict[str, str]


def _elements(request: HttpRequest, *reserved: str) -> dict[str, Any]:
    """The request elements: every top-level field of the JSON body but the reserved ones.
    (Ninja has already parsed and checked the body, so it is a JSON object.)"""
    data = json.loads(request.body or b"{}")
    return {k: v for k, v in data.items() if k not in reserved}


def _out(req: Request) -> dict[str, Any]:
    data = {f: getattr(req, f) for f in RequestOut.model_fields if f != "missing"}
    data["missing"] = [m.as_dict() for m in services.missing_elements(req)] if req.status == "draft" else []
    return data


def _fail(exc: services.WorkflowError) -> Status[dict[str, Any]]:
    return Status(422, {"detail": exc.message, "missing": [m.as_dict() for m in exc.missing]})


ERRORS = {404: ErrorOut, 422: ErrorOut}


@router.get("/request-types", response=list[RequestTypeOut])
def request_types(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": t.code,
            "title": str(t.title),
            "article": t.article,
            "version": t.version,
            "elements_schema": t.schema.model_json_schema(),
            "refusal_grounds": {k: str(v) for k, v in t.refusal_grounds.items()},
        }
        for t in REQUEST_TYPES.values()
    ]


@router.post("/requests", response={201: RequestOut, **ERRORS})
def create_request(request: HttpRequest, body: RequestIn) -> Any:
    """Create a draft. The draft must be complete: what is missing is named with its article."""
    if not services.is_local_case_handler(request.user):
        return Status(404, {"detail": "Not found"})
    payload = _elements(request, "type", "recipient")
    try:
        req = services.create_draft(
            acting_user(request),
            type=body.type,
            recipient=body.recipient.upper(),
            payload=payload,
            require_complete=True,
        )
    except services.WorkflowError as exc:
        return _fail(exc)
    return Status(201, _out(req))


@router.get("/requests", response=list[RequestOut])
def list_requests(
    request: HttpRequest, direction: Literal["outgoing", "incoming"] | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    qs = services.visible_requests(request.user)
    if direction:
        qs = qs.filter(direction=direction)
    if status:
        qs = qs.filter(status=status)
    shown = list(qs[:500])
    if shown:
        services.record_listing(acting_user(request), shown)
    return [_out(r) for r in shown]


@router.get("/requests/{request_id}", response={200: RequestOut, **ERRORS})
def get_request(request: HttpRequest, request_id: UUID) -> Any:
    req = services.get_request(acting_user(request), request_id)
    services.record_view(acting_user(request), req)
    return _out(req)


@router.patch("/requests/{request_id}", response={200: RequestOut, **ERRORS})
def update_request(request: HttpRequest, request_id: UUID, body: DraftUpdateIn) -> Any:
    req = services.get_request(acting_user(request), request_id)
    payload = {**req.payload, **_elements(request, "recipient")}
    try:
        services.update_draft(
            acting_user(request),
            req,
            payload=payload,
            recipient=body.recipient.upper() if body.recipient else None,
        )
    except services.WorkflowError as exc:
        return _fail(exc)
    return _out(req)


@router.get("/requests/{request_id}/events", response={200: list[EventOut], **ERRORS})
def request_events(request: HttpRequest, request_id: UUID) -> Any:
    req = services.get_request(acting_user(request), request_id)
    return list(RequestEvent.objects.filter(request=req))


def _action(request: HttpRequest, request_id: UUID, act: Any) -> Any:
    req = services.get_request(acting_user(request), request_id)
    try:
        return _out(act(req))
    except services.WorkflowError as exc:
        return _fail(exc)


@router.post("/requests/{request_id}/submit", response={200: RequestOut, **ERRORS})
def submit(request: HttpRequest, request_id: UUID) -> Any:
    return _action(request, request_id, lambda req: services.submit(acting_user(request), req))


@router.post("/requests/{request_id}/acknowledge", response={200: RequestOut, **ERRORS})
def acknowledge(request: HttpRequest, request_id: UUID) -> Any:
    return _action(request, request_id, lambda req: services.acknowledge(acting_user(request), req))


@router.post("/requests/{request_id}/execute", response={200: RequestOut, **ERRORS})
def execute(request: HttpRequest, request_id: UUID, body: ExecuteIn) -> Any:
    return _action(
        request,
        request_id,
        lambda req: services.execute(acting_user(request), req, preserved_until=body.preserved_until, note=body.note),
    )


@router.post("/requests/{request_id}/refuse", response={200: RequestOut, **ERRORS})
def refuse(request: HttpRequest, request_id: UUID, body: RefuseIn) -> Any:
    return _action(
        request,
        request_id,
        lambda req: services.refuse(acting_user(request), req, grounds=body.grounds, reasons=body.reasons),
    )


class NodeOut(Schema):
    state: str
    name: str
    base_url: str
    languages: list[str]
    time_zone: str


@router.get("/directory", response=list[NodeOut], tags=["directory"])
def directory_nodes(request: HttpRequest) -> list[dict[str, Any]]:
    found = directory.current()
    return list(found.nodes.values()) if found else []
