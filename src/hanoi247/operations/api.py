"""The desk over the API: the dashboard's counts, who is on call, and a request's timed
steps (the emergency path). Only this node's case handlers; everyone else gets 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from hanoi247.accounts.services import is_local_case_handler
from hanoi247.cooperation import services as cooperation
from hanoi247.operations import services

router = Router(tags=["operations"])


def _gate(request: HttpRequest) -> None:
    if not is_local_case_handler(request.user):
        raise HttpError(404, "Not found")


class RequestRef(Schema):
    id: UUID
    reference: str
    type: str
    requesting_state: str
    status: str
    emergency: bool
    acknowledge_by: datetime | None


class DashboardOut(Schema):
    counts: dict[str, int]
    emergencies: list[RequestRef]
    unacknowledged: list[RequestRef]


class ShiftOut(Schema):
    id: UUID
    user: str
    name: str
    starts_at: datetime
    ends_at: datetime
    public_channel: str
    private_phone: str


class StepOut(Schema):
    kind: str
    at: datetime
    seconds_after_submission: float | None
    actor: str


class TimelineOut(Schema):
    id: UUID
    reference: str
    emergency: bool
    acknowledged_by: str | None
    steps: list[StepOut]


def _ref(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "reference": r.reference,
        "type": r.type,
        "requesting_state": r.requesting_state,
        "status": r.status,
        "emergency": services.is_emergency(r),
        "acknowledge_by": getattr(r, "ack_due", None),
    }


@router.get("/dashboard", response={200: DashboardOut, 404: dict[str, str]})
def dashboard(request: HttpRequest) -> Any:
    _gate(request)
    board = services.dashboard(request.user)
    return {
        "counts": board.counts,
        "emergencies": [_ref(r) for r in board.emergencies],
        "unacknowledged": [_ref(r) for r in board.unacknowledged],
    }


@router.get("/on-call", response={200: list[ShiftOut], 404: dict[str, str]})
def on_call(request: HttpRequest) -> Any:
    _gate(request)
    return [
        {
            "id": s.pk,
            "user": s.user.username,
            "name": s.user.display(),
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "public_channel": s.public_channel,
            "private_phone": s.private_phone,
        }
        for s in services.covering(services.timezone.now())
    ]


@router.get("/requests/{request_id}/timeline", response={200: TimelineOut, 404: dict[str, str]})
def timeline(request: HttpRequest, request_id: UUID) -> Any:
    _gate(request)
    req = cooperation.get_request(request.user, request_id)
    ack = services.acknowledged_by(req)
    return {
        "id": req.pk,
        "reference": req.reference,
        "emergency": services.is_emergency(req),
        "acknowledged_by": f"{ack.actor_name} ({ack.actor_state})" if ack else None,
        "steps": [
            {
                "kind": s.kind,
                "at": s.at,
                "seconds_after_submission": s.after.total_seconds() if s.after is not None else None,
                "actor": s.actor,
            }
            for s in services.timeline(req)
        ],
    }
