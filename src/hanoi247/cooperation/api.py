"""JSON API for requests: ``/api/v1/requests`` (contract in issue #2; OpenAPI at
``/api/v1/openapi.json``). Thin: every action is a call to ``services``."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from hanoi247.accounts.services import acting_user
from hanoi247.cooperation import services
from hanoi247.cooperation.models import Request, RequestEvent, TransferAuthorisation
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


class ConditionsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    confidential: bool = False
    no_user_notification: bool = False
    use_limitation: str = Field(default="", max_length=2000)


class OptionsIn(Schema):
    """What travels with a request besides its elements."""

    case_id: UUID | None = Field(default=None, description="An existing case; without it a new case is opened")
    case_title: str = Field(default="", max_length=200, description="Title of the new case")
    language: str = Field(default="", max_length=8, description="ISO 639-1 code of the request's language")
    handling: Literal["", "TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR"] = ""
    conditions: ConditionsIn | None = None
    follows: UUID | None = Field(default=None, description="The earlier request this one follows up")
    personal_data_from: list[UUID] | None = Field(
        default=None, description="Requests through which personal data in this one was received (Art. 36)"
    )


RESERVED = ("type", "recipient", *OptionsIn.model_fields)


class RequestIn(OptionsIn):
    """A new request: its type (see ``GET /api/v1/request-types``), the requested State, how it
    travels, and the elements its article requires as further top-level fields."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(max_length=40, description="A request type code, e.g. preservation, mla_stored_data")
    recipient: str = Field(min_length=3, max_length=3, description="ISO 3166 alpha-3 code of the requested State")


class DraftUpdateIn(OptionsIn):
    model_config = ConfigDict(extra="allow")
    recipient: str | None = Field(default=None, min_length=3, max_length=3)


class ActionIn(Schema):
    note: str = Field(default="", max_length=20000)
    data: dict[str, Any] = Field(default_factory=dict, description="What the action needs; see the action list")


class TranslationIn(Schema):
    language: str = Field(min_length=2, max_length=8)
    text: str = Field(min_length=1, max_length=100_000)
    translator: str = Field(default="", max_length=200)


class TransferAskIn(Schema):
    third_state: str = Field(min_length=3, max_length=3)
    purpose: str = Field(min_length=1, max_length=5000)


class TransferDecideIn(Schema):
    granted: bool
    conditions: str = Field(default="", max_length=5000)


class ExecuteIn(Schema):
    preserved_until: date | None = Field(
        default=None, description="For preservation: the date until which the data is preserved (≥ 60 days, Art. 42)"
    )
    note: str = ""
    conditions: ConditionsIn | None = None


class RefuseIn(Schema):
    grounds: list[str] = Field(description="Codes from the request type's refusal grounds")
    reasons: str


class DeadlineOut(Schema):
    kind: str
    due_at: datetime
    met_at: datetime | None
    owner: str


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
    case_id: UUID | None
    urgent: bool
    language: str
    handling: str
    conditions: dict[str, Any]
    answer_conditions: dict[str, Any]
    follows_id: UUID | None
    postponed_until: date | None
    deadlines: list[DeadlineOut]
    language_warning: str
    actions: list[str]


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
    family: str
    version: int
    urgent: bool
    acknowledge_within_minutes: int
    execute_within_days: float
    follows: list[str]
    elements_schema: dict[str, Any]
    refusal_grounds: dict[str, str]


def _elements(request: HttpRequest, *reserved: str) -> dict[str, Any]:
    """The request elements: every top-level field of the JSON body but the reserved ones.
    (Ninja has already parsed and checked the body, so it is a JSON object.)"""
    data = json.loads(request.body or b"{}")
    return {k: v for k, v in data.items() if k not in reserved}


COMPUTED = {"missing", "deadlines", "language_warning", "actions"}


def _out(req: Request) -> dict[str, Any]:
    data = {f: getattr(req, f) for f in RequestOut.model_fields if f not in COMPUTED}
    draft = req.status == "draft"
    data["missing"] = [m.as_dict() for m in services.missing_elements(req)] if draft else []
    data["deadlines"] = list(req.deadlines.all())
    data["language_warning"] = services.language_warning(req) if draft else ""
    data["actions"] = [s.kind for s in services.available_steps(req)]
    return data


def _options(request: HttpRequest, body: OptionsIn) -> services.Options:
    """Only the options the body names: a PATCH leaves the others as they are."""
    given = set(json.loads(request.body or b"{}"))
    case = None
    if body.case_id is not None:
        case = services.get_case(acting_user(request), body.case_id)
    return services.Options(
        case=case,
        case_title=body.case_title,
        language=body.language,
        handling=body.handling,
        conditions=body.conditions.model_dump() if body.conditions is not None else None,
        follows=(str(body.follows) if body.follows else "") if "follows" in given else None,
        personal_data_from=tuple(str(i) for i in body.personal_data_from)
        if body.personal_data_from is not None
        else None,
    )


def _fail(exc: services.WorkflowError) -> Status[dict[str, Any]]:
    return Status(422, {"detail": exc.message, "missing": [m.as_dict() for m in exc.missing]})


ERRORS = {404: ErrorOut, 422: ErrorOut}


@router.post("/requests/{request_id}/actions/{action}", response={200: RequestOut, **ERRORS})
def request_action(request: HttpRequest, request_id: UUID, action: str, body: ActionIn) -> Any:
    """Any move of the state machine: ``acknowledged``, ``info_requested``, ``info_provided``
    (data.elements: changed elements), ``consultation_opened`` (data.contemplating: refusal or
    postponement, data.grounds), ``consultation_reply`` (data.accepts_conditions),
    ``postponed`` (data.until), ``resumed``, ``partially_executed`` and ``executed``
    (data.conditions; data.preserved_until for preservation), ``refused`` (data.grounds; the
    note gives the reasons), ``withdrawn``, ``extension_requested`` (data.until), ``extended``
    (data.preserved_until), ``message``. The request's ``actions`` lists those open now."""
    return _action(
        request, request_id, lambda req: services.act(acting_user(request), req, action, note=body.note, data=body.data)
    )


@router.post("/requests/{request_id}/translations", response={200: RequestOut, **ERRORS})
def add_translation(request: HttpRequest, request_id: UUID, body: TranslationIn) -> Any:
    def attach(req: Request) -> Request:
        services.add_translation(acting_user(request), req, **body.model_dump())
        return req

    return _action(request, request_id, attach)


class TransferOut(Schema):
    id: UUID
    source_id: UUID
    originating_state: str
    asking_state: str
    third_state: str
    purpose: str
    decision: str
    conditions: str
    asked_at: datetime
    decided_at: datetime | None


@router.post("/requests/{request_id}/transfer-authorisations", response={201: TransferOut, **ERRORS})
def ask_transfer(request: HttpRequest, request_id: UUID, body: TransferAskIn) -> Any:
    """Ask the State that sent personal data in this request to let it go on to a third State (Art. 36)."""
    source = services.get_request(acting_user(request), request_id)
    try:
        row = services.ask_transfer_authorisation(
            acting_user(request), source, third_state=body.third_state.upper(), purpose=body.purpose
        )
    except services.WorkflowError as exc:
        return _fail(exc)
    return Status(201, row)


@router.get("/transfer-authorisations", response=list[TransferOut])
def list_transfers(request: HttpRequest) -> Any:
    if not services.is_local_case_handler(request.user):
        return []
    return list(TransferAuthorisation.objects.all()[:500])


@router.post("/transfer-authorisations/{authorisation_id}/decide", response={200: TransferOut, **ERRORS})
def decide_transfer(request: HttpRequest, authorisation_id: UUID, body: TransferDecideIn) -> Any:
    row = TransferAuthorisation.objects.filter(pk=authorisation_id).first()
    if row is None or not services.is_local_case_handler(request.user):
        return Status(404, {"detail": "Not found"})
    try:
        return services.decide_transfer(acting_user(request), row, granted=body.granted, conditions=body.conditions)
    except services.WorkflowError as exc:
        return _fail(exc)


class CaseOut(Schema):
    id: UUID
    reference: str
    title: str
    origin_state: str
    created_at: datetime


class CaseDetailOut(CaseOut):
    requests: list[RequestOut]
    timeline: list[EventOut]


@router.get("/cases", response=list[CaseOut], tags=["cases"])
def list_cases(request: HttpRequest) -> Any:
    return list(services.visible_cases(request.user)[:500])


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **ERRORS}, tags=["cases"])
def get_case(request: HttpRequest, case_id: UUID) -> Any:
    case = services.get_case(acting_user(request), case_id)
    requests = list(case.requests.prefetch_related("deadlines"))  # _out lists each one's deadlines
    services.record_listing(acting_user(request), requests)
    return {
        **{f: getattr(case, f) for f in CaseOut.model_fields},
        "requests": [_out(r) for r in requests],
        "timeline": services.case_timeline(case),
    }


class DueOut(Schema):
    request_id: UUID
    reference: str
    kind: str
    due_at: datetime
    owner: str
    overdue: bool


@router.get("/deadlines", response=list[DueOut], tags=["cases"])
def deadlines(request: HttpRequest, days: int = 7) -> Any:
    """Deadlines not met that are overdue or due within ``days`` days."""
    from datetime import timedelta

    from django.utils import timezone

    rows = services.open_deadlines(request.user, within=timedelta(days=max(0, min(days, 365))))
    now = timezone.now()
    return [
        {
            "request_id": d.request_id,
            "reference": d.request.reference,
            "kind": d.kind,
            "due_at": d.due_at,
            "owner": d.owner,
            "overdue": d.due_at < now,
        }
        for d in rows
    ]


@router.get("/request-types", response=list[RequestTypeOut])
def request_types(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": t.code,
            "title": str(t.title),
            "article": t.article,
            "family": t.family,
            "version": t.version,
            "urgent": t.urgent,
            "acknowledge_within_minutes": int(t.acknowledge_within.total_seconds() // 60),
            "execute_within_days": round(t.execute_within.total_seconds() / 86400, 3),
            "follows": list(t.follows),
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
    payload = _elements(request, *RESERVED)
    try:
        req = services.create_draft(
            acting_user(request),
            type=body.type,
            recipient=body.recipient.upper(),
            payload=payload,
            require_complete=True,
            options=_options(request, body),
        )
    except services.WorkflowError as exc:
        return _fail(exc)
    return Status(201, _out(req))


@router.get("/requests", response=list[RequestOut])
def list_requests(
    request: HttpRequest,
    direction: Literal["outgoing", "incoming"] | None = None,
    status: str | None = None,
    q: str | None = Query(default=None, max_length=32, description="Search: references that start with this"),
    limit: int = Query(default=100, ge=1, le=500, description="At most this many, newest first"),
    offset: int = Query(default=0, ge=0, le=1_000_000, description="Skip this many (the next page)"),
) -> list[dict[str, Any]]:
    qs = services.visible_requests(request.user)
    if "\x00" in (status or "") + (q or ""):
        return []  # no status or reference holds a NUL (and PostgreSQL refuses one in a query)
    if direction:
        qs = qs.filter(direction=direction)
    if status:
        qs = qs.filter(status=status)
    if q and q.strip():
        # A prefix, as typed: the unique index on reference serves it (and its _like index on PostgreSQL).
        qs = qs.filter(reference__startswith=q.strip().upper())
    shown = list(qs.prefetch_related("deadlines")[offset : offset + limit])  # _out lists each one's deadlines
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
    payload = {**req.payload, **_elements(request, "recipient", *RESERVED)}
    try:
        services.update_draft(
            acting_user(request),
            req,
            payload=payload,
            recipient=body.recipient.upper() if body.recipient else None,
            options=_options(request, body),
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
        lambda req: services.execute(
            acting_user(request),
            req,
            preserved_until=body.preserved_until,
            note=body.note,
            conditions=body.conditions.model_dump() if body.conditions else None,
        ),
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
