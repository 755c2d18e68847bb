"""The request workflow. Every change happens here, in one transaction that writes the
request, its event, the audit entry and any outgoing message (STYLE: one action function
per change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from hanoi247.accounts.models import User
from hanoi247.accounts.services import is_local_case_handler
from hanoi247.audit import services as audit
from hanoi247.cooperation.models import Direction, Request, RequestEvent, Status
from hanoi247.cooperation.schemas import REQUEST_TYPES, Missing, RequestType, clean, problems
from hanoi247.directory import services as directory
from hanoi247.federation import services as federation
from hanoi247.federation.envelope import EnvelopeError, iso, parse_time


class WorkflowError(Exception):
    """An action that cannot be taken, with what is wrong in words a user can act on."""

    def __init__(self, message: str, missing: list[Missing] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing or []


# -- who sees what ------------------------------------------------------------------------


def visible_requests(user: Any) -> QuerySet[Request]:
    """The one permission filter: only this node's own case handlers see its requests."""
    if not is_local_case_handler(user):
        return Request.objects.none()
    return Request.objects.all()


def get_request(user: Any, request_id: UUID | str) -> Request:
    """A request the user may see, or 404 — never a hint that it exists."""
    try:
        return visible_requests(user).get(pk=request_id)
    except (Request.DoesNotExist, ValueError, TypeError):
        raise Http404("No such request") from None


def record_view(user: User, req: Request) -> None:
    audit.record("request.viewed", actor=_actor_label(user), object_type="request", object_id=str(req.pk))


def record_listing(user: User, requests: list[Request]) -> None:
    """A list that shows requests' contents is a view of each (the API list does)."""
    if requests:
        audit.record(
            "request.listed",
            actor=_actor_label(user),
            object_type="request",
            data={"ids": [str(r.pk) for r in requests]},
        )


# -- helpers ------------------------------------------------------------------------------


def request_type(code: str) -> RequestType:
    try:
        return REQUEST_TYPES[code]
    except KeyError:
        raise WorkflowError(f"unknown request type {code!r}; known: {', '.join(REQUEST_TYPES)}") from None


def _actor_label(user: User) -> str:
    return f"{user.username} ({user.role}, {user.state})"


def _event(
    req: Request,
    kind: str,
    *,
    user: User | None = None,
    actor: dict[str, str] | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> RequestEvent:
    if user is not None:
        actor = {"name": user.display(), "role": user.role, "state": user.state}
    actor = actor or {"name": "", "role": "system", "state": settings.NODE.state}
    event = RequestEvent.objects.create(
        request=req,
        kind=kind,
        at=timezone.now(),
        actor_name=actor["name"],
        actor_role=actor["role"],
        actor_state=actor["state"],
        note=note,
        data=data or {},
    )
    audit.record(
        f"request.{kind}",
        actor=actor["name"] or actor["state"],
        object_type="request",
        object_id=str(req.pk),
        data={"status": req.status, "event": str(event.pk), "note": note, **(data or {})},
    )
    return event


def event_wire(event: RequestEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "kind": event.kind,
        "at": iso(event.at),
        "actor": {"name": event.actor_name, "role": event.actor_role, "state": event.actor_state},
        "note": event.note,
        "data": event.data,
    }


def _next_reference(state: str) -> str:
    year = timezone.now().year
    prefix = f"{state}-{year}-"
    count = Request.objects.filter(reference__startswith=prefix).count()
    return f"{prefix}{count + 1:05d}"


# -- the requesting side ------------------------------------------------------------------


def _check_recipient(recipient: str) -> None:
    if recipient == settings.NODE.state:
        raise WorkflowError("a State does not send a request to itself")
    dirs = directory.current()
    if dirs is None or dirs.node(recipient) is None:
        raise WorkflowError(f"{recipient!r} is not a node in the directory")


def create_draft(
    user: User, *, type: str, recipient: str, payload: dict[str, Any], require_complete: bool = False
) -> Request:
    """Start a request. The web form may keep an incomplete draft; the API asks for a
    complete one (``require_complete``)."""
    kind = request_type(type)
    _check_recipient(recipient)
    if require_complete and (missing := problems(kind, payload)):
        raise WorkflowError("the request is incomplete", missing)
    with transaction.atomic():
        req = Request.objects.create(
            reference=_next_reference(settings.NODE.state),
            type=kind.code,
            schema_version=kind.version,
            direction=Direction.OUTGOING,
            requesting_state=settings.NODE.state,
            requested_state=recipient,
            payload=payload,
            created_by=user,
        )
        _event(req, "created", user=user)
    return req


def update_draft(user: User, req: Request, *, payload: dict[str, Any], recipient: str | None = None) -> Request:
    _require(req, Direction.OUTGOING, {Status.DRAFT}, "edited")
    if recipient and recipient != req.requested_state:
        _check_recipient(recipient)
        req.requested_state = recipient
    with transaction.atomic():
        req.payload = payload
        req.save(update_fields=["payload", "requested_state", "updated_at"])
        _event(req, "edited", user=user)
    return req


def missing_elements(req: Request) -> list[Missing]:
    return problems(request_type(req.type), req.payload)


def submit(user: User, req: Request) -> Request:
    """Send a complete request to the requested State's node (Art. 42: via the 24/7 network)."""
    _require(req, Direction.OUTGOING, {Status.DRAFT}, "submitted")
    kind = request_type(req.type)
    if missing := problems(kind, req.payload):
        raise WorkflowError("the request is incomplete and cannot be submitted", missing)
    _check_recipient(req.requested_state)
    with transaction.atomic():
        req.payload = clean(kind, req.payload)
        req.status = Status.SUBMITTED
        req.submitted_at = timezone.now()
        req.save()
        event = _event(req, "submitted", user=user)
        federation.enqueue(
            type="request.submitted",
            recipient=req.requested_state,
            case_ref=str(req.pk),
            body={"request": _request_wire(req), "event": event_wire(event)},
        )
    return req


def _request_wire(req: Request) -> dict[str, Any]:
    assert req.submitted_at is not None
    return {
        "id": str(req.pk),
        "reference": req.reference,
        "type": req.type,
        "schema_version": req.schema_version,
        "requesting_state": req.requesting_state,
        "requested_state": req.requested_state,
        "payload": req.payload,
        "submitted_at": iso(req.submitted_at),
    }


@federation.on_delivered("request.submitted")
def _delivered(row: Any, receipt: dict[str, Any]) -> None:
    req = Request.objects.filter(pk=row.case_ref, direction=Direction.OUTGOING).first()
    if req is None:
        return
    at = parse_time(receipt["received_at"])
    if req.status == Status.SUBMITTED:
        req.status = Status.DELIVERED
    req.delivered_at = at
    req.save(update_fields=["status", "delivered_at", "updated_at"])
    event = _event(
        req,
        "delivered",
        actor={"name": "", "role": "system", "state": req.requested_state},
        data={"receipt_received_at": receipt["received_at"]},
    )
    RequestEvent.objects.filter(pk=event.pk).update(at=at)


# -- the requested side -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str
    to: Status
    allowed_from: frozenset[Status]


# The requested State's actions; each becomes an event that the requesting State receives.
OUTCOMES = {
    "acknowledged": Outcome("acknowledged", Status.ACKNOWLEDGED, frozenset({Status.DELIVERED})),
    "executed": Outcome("executed", Status.EXECUTED, frozenset({Status.ACKNOWLEDGED})),
    "refused": Outcome("refused", Status.REFUSED, frozenset({Status.DELIVERED, Status.ACKNOWLEDGED})),
}


def _require(req: Request, direction: str, states: set[Status] | frozenset[Status], done: str) -> None:
    """``done`` names the action as a participle: "submitted", "acknowledged"."""
    if req.direction != direction:
        side = "requested" if direction == Direction.INCOMING else "requesting"
        raise WorkflowError(f"only the {side} State's node can mark this request {done}")
    if req.status not in states:
        raise WorkflowError(f"this request is {req.status}: it cannot be {done} now")


def _answer(
    user: User,
    req: Request,
    outcome: Outcome,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> Request:
    with transaction.atomic():
        locked = Request.objects.select_for_update().get(pk=req.pk)
        _require(locked, Direction.INCOMING, outcome.allowed_from, outcome.kind)
        locked.status = outcome.to
        for field, value in (changes or {}).items():
            setattr(locked, field, value)
        locked.save()
        event = _event(locked, outcome.kind, user=user, note=note, data=data)
        federation.enqueue(
            type="request.event",
            recipient=locked.requesting_state,
            case_ref=str(locked.pk),
            body={"request_id": str(locked.pk), "event": event_wire(event)},
        )
    return locked


def acknowledge(user: User, req: Request) -> Request:
    """The requested State's 24/7 point of contact confirms it has the request (Art. 41)."""
    return _answer(user, req, OUTCOMES["acknowledged"], changes={"acknowledged_at": timezone.now()})


def execute(user: User, req: Request, *, preserved_until: date, note: str = "") -> Request:
    """Preservation is in place until ``preserved_until`` — at least 60 days (Art. 42)."""
    kind = request_type(req.type)
    earliest = timezone.localdate() + timedelta(days=kind.min_preservation_days)
    if preserved_until < earliest:
        raise WorkflowError(
            f"preservation must last at least {kind.min_preservation_days} days ({kind.article}): "
            f"until {earliest.isoformat()} or later"
        )
    return _answer(
        user,
        req,
        OUTCOMES["executed"],
        note=note,
        data={"preserved_until": preserved_until.isoformat()},
        changes={"preserved_until": preserved_until, "closed_at": timezone.now()},
    )


def refuse(user: User, req: Request, *, grounds: list[str], reasons: str) -> Request:
    """Refusal must cite grounds and give reasons (Art. 40), which the requesting State sees."""
    kind = request_type(req.type)
    unknown = [g for g in grounds if g not in kind.refusal_grounds]
    if not grounds or unknown:
        raise WorkflowError(
            "cite at least one ground for refusal from the list"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    if not reasons.strip():
        raise WorkflowError("give the reasons for the refusal: the requesting State must be told why (Art. 40)")
    return _answer(
        user,
        req,
        OUTCOMES["refused"],
        note=reasons.strip(),
        data={"grounds": grounds},
        changes={"refusal_grounds": grounds, "refusal_reasons": reasons.strip(), "closed_at": timezone.now()},
    )


# -- applying what the other node sends ---------------------------------------------------


def _event_from_wire(req: Request, wire: dict[str, Any]) -> RequestEvent:
    actor = wire["actor"]
    event = RequestEvent.objects.create(
        id=wire["id"],
        request=req,
        kind=wire["kind"],
        at=parse_time(wire["at"]),
        actor_name=str(actor.get("name", ""))[:200],
        actor_role=str(actor.get("role", ""))[:32],
        actor_state=str(actor.get("state", ""))[:3],
        note=str(wire.get("note", "")),
        data=wire.get("data") or {},
    )
    audit.record(
        f"request.{event.kind}",
        actor=f"{event.actor_name} ({event.actor_state})",
        object_type="request",
        object_id=str(req.pk),
        data={"status": req.status, "event": str(event.pk), "remote": True},
    )
    return event


@federation.on_receive("request.submitted")
def _receive_request(message: dict[str, Any]) -> None:
    """The requested node validates again before it stores anything."""
    try:
        wire, event = message["body"]["request"], message["body"]["event"]
        kind = REQUEST_TYPES.get(wire["type"])
        if kind is None:
            raise EnvelopeError(422, "invalid_request", f"request type {wire['type']!r} is not supported here")
        if wire["requesting_state"] != message["sender"] or wire["requested_state"] != settings.NODE.state:
            raise EnvelopeError(422, "invalid_request", "request parties do not match the envelope")
        if wire["id"] != message["case_ref"]:
            raise EnvelopeError(422, "invalid_request", "request id does not match the case reference")
        if missing := problems(kind, wire["payload"]):
            raise EnvelopeError(422, "incomplete_request", "; ".join(m.message for m in missing))
        if event.get("kind") != "submitted":
            raise EnvelopeError(422, "invalid_request", "a new request arrives with its submitted event")
        if Request.objects.filter(pk=wire["id"]).exists():
            raise EnvelopeError(422, "invalid_request", "a request with this id is already held")
        req = Request.objects.create(
            id=wire["id"],
            reference=str(wire["reference"])[:32],
            type=kind.code,
            schema_version=int(wire["schema_version"]),
            direction=Direction.INCOMING,
            requesting_state=message["sender"],
            requested_state=settings.NODE.state,
            status=Status.DELIVERED,
            payload=clean(kind, wire["payload"]),
            submitted_at=parse_time(wire["submitted_at"]),
            delivered_at=timezone.now(),
        )
        _event_from_wire(req, event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnvelopeError(422, "invalid_request", f"request body is malformed: {exc}") from None
    _event(req, "received", actor={"name": "", "role": "system", "state": settings.NODE.state})


@federation.on_receive("request.event")
def _receive_event(message: dict[str, Any]) -> None:
    try:
        body = message["body"]
        wire = body["event"]
        outcome = OUTCOMES.get(wire["kind"])
        req = Request.objects.filter(
            pk=body["request_id"], direction=Direction.OUTGOING, requested_state=message["sender"]
        ).first()
        if req is None or outcome is None or str(req.pk) != message["case_ref"]:
            raise EnvelopeError(422, "invalid_event", "no such outgoing request to the sender, or unknown event")
        if wire["actor"].get("state") != message["sender"]:
            raise EnvelopeError(422, "invalid_event", "the event's actor is not of the sending State")
        # The receipt and the first answer may cross: "submitted" counts as "delivered" here.
        current = Status.DELIVERED if req.status == Status.SUBMITTED else req.status
        if current not in outcome.allowed_from:
            raise EnvelopeError(422, "invalid_event", f"a request that is {req.status} cannot become {outcome.to}")
        req.status = outcome.to
        data = wire.get("data") or {}
        if outcome.kind == "acknowledged":
            req.acknowledged_at = parse_time(wire["at"])
        elif outcome.kind == "executed":
            req.preserved_until = date.fromisoformat(data["preserved_until"])
            req.closed_at = parse_time(wire["at"])
        elif outcome.kind == "refused":
            req.refusal_grounds = list(data.get("grounds", []))
            req.refusal_reasons = str(wire.get("note", ""))
            req.closed_at = parse_time(wire["at"])
        req.save()
        _event_from_wire(req, wire)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnvelopeError(422, "invalid_event", f"event body is malformed: {exc}") from None
