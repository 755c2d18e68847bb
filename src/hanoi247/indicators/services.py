"""Indicators attached to a case or a request, exported and imported as STIX 2.1 bundles,
and shared with chosen States (Arts. 54-56: information exchange and technical
assistance). The case's handling code travels as the matching TLP 2.0 marking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from hanoi247.accounts.models import User
from hanoi247.accounts.services import is_local_case_handler
from hanoi247.audit import services as audit
from hanoi247.cooperation.models import Case, Handling, Request
from hanoi247.directory import services as directory
from hanoi247.federation import services as federation
from hanoi247.federation.envelope import EnvelopeError
from hanoi247.indicators import stix
from hanoi247.indicators.models import Bundle, Indicator, Kind, new_stix_id

BUNDLE = "indicators.bundle"
MAX_INDICATORS = 2000  # one bundle must fit in one envelope (FEDERATION_MAX_ENVELOPE_BYTES)


class IndicatorError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _actor(user: User) -> str:
    return f"{user.username} ({user.role}, {user.state})"


def visible_indicators(user: Any) -> QuerySet[Indicator]:
    """The one permission filter: this node's case handlers, as for its cases and requests."""
    if not is_local_case_handler(user):
        return Indicator.objects.none()
    return Indicator.objects.all()


def visible_bundles(user: Any) -> QuerySet[Bundle]:
    if not is_local_case_handler(user):
        return Bundle.objects.none()
    return Bundle.objects.all()


def of(*, case: Case | None = None, request: Request | None = None) -> QuerySet[Indicator]:
    """The indicators of a case (its own and its requests') or of one request."""
    if request is not None:
        return Indicator.objects.filter(request=request)
    if case is not None:
        return Indicator.objects.filter(Q(case=case) | Q(request__case=case))
    return Indicator.objects.none()


def default_handling(*, case: Case | None, request: Request | None) -> str:
    """A request's own handling code; for a case, the strictest of its requests'."""
    if request is not None:
        return request.handling
    if case is not None:
        return stix.strictest(list(case.requests.values_list("handling", flat=True)))
    return Handling.AMBER_STRICT


def _owner(case: Case | None, request: Request | None) -> tuple[Case | None, Request | None]:
    if (case is None) == (request is None):
        raise IndicatorError("an indicator belongs to one case or one request")
    return case, request


def add(
    user: User,
    *,
    kind: str,
    value: str,
    case: Case | None = None,
    request: Request | None = None,
    description: str = "",
    currency: str = "",
    handling: str = "",
) -> Indicator:
    case, request = _owner(case, request)
    if kind not in Kind.values:
        raise IndicatorError(f"unknown kind {kind!r}; known: {', '.join(Kind.values)}")
    try:
        value = stix.clean_value(kind, value)
    except stix.StixError as exc:
        raise IndicatorError(str(exc)) from None
    handling = handling or default_handling(case=case, request=request)
    if handling not in Handling.values:
        raise IndicatorError(f"unknown handling code {handling!r}")
    with transaction.atomic():
        row = Indicator.objects.create(
            stix_id=new_stix_id(),
            kind=kind,
            value=value,
            currency=currency.strip().upper()[:16],
            description=description.strip(),
            case=case,
            request=request,
            handling=handling,
            source_state=settings.NODE.state,
            created_by=user,
        )
        audit.record(
            "indicator.added",
            actor=_actor(user),
            object_type="request" if request else "case",
            object_id=str((request or case).pk),  # type: ignore[union-attr]
            data={"indicator": str(row.pk), "kind": kind},
        )
    return row


def export(user: User, *, case: Case | None = None, request: Request | None = None) -> dict[str, Any]:
    """The indicators as a STIX 2.1 bundle, each marked with its TLP 2.0 marking."""
    rows = list(of(case=case, request=request))
    document = stix.bundle(rows, state=settings.NODE.state)
    audit.record(
        "indicator.exported",
        actor=_actor(user),
        object_type="request" if request else "case",
        object_id=str(owner.pk) if (owner := request or case) is not None else "",
        data={"bundle": document["id"], "count": len(rows)},
    )
    return document


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int
    skipped: list[str]


def _store(
    parsed: list[stix.Parsed], *, source: str, case: Case | None, request: Request | None, user: User | None
) -> Imported:
    created = updated = 0
    skipped: list[str] = []
    for item in parsed:
        held = Indicator.objects.filter(stix_id=item.stix_id).first()
        fields = {
            "kind": item.kind,
            "value": item.value,
            "currency": item.currency,
            "description": item.description,
            "handling": item.handling,
        }
        if held is None:
            Indicator.objects.create(
                stix_id=item.stix_id, case=case, request=request, source_state=source, created_by=user, **fields
            )
            created += 1
        elif held.source_state == source:
            Indicator.objects.filter(pk=held.pk).update(**fields)
            updated += 1
        else:
            skipped.append(f"{item.stix_id}: already held from {held.source_state}")
    return Imported(created, updated, skipped)


def import_bundle(
    user: User, document: dict[str, Any] | str, *, case: Case | None = None, request: Request | None = None
) -> Imported:
    """Validate with stix2-validator, then store the indicators under the case or request."""
    case, request = _owner(case, request)
    try:
        parsed, skipped = stix.parse(document)
    except stix.StixError as exc:
        raise IndicatorError(str(exc)) from None
    with transaction.atomic():
        result = _store(parsed, source=settings.NODE.state, case=case, request=request, user=user)
        audit.record(
            "indicator.imported",
            actor=_actor(user),
            object_type="request" if request else "case",
            object_id=str((request or case).pk),  # type: ignore[union-attr]
            data={"created": result.created, "updated": result.updated},
        )
    return Imported(result.created, result.updated, skipped + result.skipped)


def share(user: User, *, states: list[str], case: Case | None = None, request: Request | None = None) -> Bundle:
    """Send the bundle to each chosen State, under the strictest handling it holds."""
    case, request = _owner(case, request)
    rows = list(of(case=case, request=request))
    if not rows:
        raise IndicatorError("there are no indicators to share")
    if len(rows) > MAX_INDICATORS:
        raise IndicatorError(f"at most {MAX_INDICATORS} indicators travel in one bundle")
    dirs = directory.current()
    states = sorted({s.strip().upper() for s in states if s.strip()})
    if not states:
        raise IndicatorError("choose at least one State")
    for state in states:
        if state == settings.NODE.state or dirs is None or dirs.node(state) is None:
            raise IndicatorError(f"{state!r} is not another node in the directory")
    handling = stix.strictest([r.handling for r in rows])
    document = stix.bundle(rows, state=settings.NODE.state)
    owner_case = case or (request.case if request else None)
    with transaction.atomic():
        sent = Bundle.objects.create(
            direction=Bundle.Direction.SENT,
            states=states,
            handling=handling,
            document=document,
            case=owner_case,
            created_by=_actor(user),
        )
        body = {
            "bundle": document,
            "case_id": str(owner_case.pk) if owner_case else None,
            "request_id": str(request.pk) if request else None,
        }
        for state in states:
            federation.enqueue(type=BUNDLE, recipient=state, case_ref=str(sent.pk), body=body, handling=handling)
        audit.record(
            "indicator.shared",
            actor=_actor(user),
            object_type="stix_bundle",
            object_id=str(sent.pk),
            data={"states": states, "count": len(rows), "handling": handling},
        )
    return sent


@federation.on_receive(BUNDLE)
def _receive_bundle(message: dict[str, Any]) -> None:
    body, sender = message["body"], message["sender"]
    document = body.get("bundle") if isinstance(body, dict) else None
    if not isinstance(document, dict):
        raise EnvelopeError(422, "invalid_body", "indicators.bundle needs a STIX bundle")
    try:
        parsed, _ = stix.parse(document)
    except stix.StixError as exc:
        raise EnvelopeError(422, "invalid_body", str(exc)) from None
    # Cases and requests keep their ids on both nodes: link what this node knows of.
    case = _local(Case, body.get("case_id"))
    request = _local(Request, body.get("request_id"))
    handling = stix.strictest([p.handling for p in parsed] + [message["handling"]])
    received = Bundle.objects.create(
        direction=Bundle.Direction.RECEIVED,
        states=[sender],
        handling=handling,
        document=document,
        case=case,
        created_by=f"node {sender}",
    )
    result = _store(parsed, source=sender, case=None if request else case, request=request, user=None)
    audit.record(
        "indicator.received",
        actor=f"node {sender}",
        object_type="stix_bundle",
        object_id=str(received.pk),
        data={"created": result.created, "updated": result.updated},
    )


def _local(model: type[Case] | type[Request], value: Any) -> Any:
    try:
        return model.objects.filter(pk=UUID(str(value))).first() if value else None
    except ValueError:
        return None


def get_bundle(user: Any, bundle_id: UUID | str) -> Bundle:
    try:
        return visible_bundles(user).get(pk=bundle_id)
    except (Bundle.DoesNotExist, ValueError, TypeError):
        raise Http404("No such bundle") from None
