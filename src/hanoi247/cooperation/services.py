"""The request workflow. Every change happens here, in one transaction that writes the
request, its event, the audit entry and any outgoing message (STYLE: one action function
per change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import pycountry
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from hanoi247.accounts.models import User
from hanoi247.accounts.services import is_local_case_handler
from hanoi247.audit import services as audit
from hanoi247.cooperation.models import (
    FINAL,
    Case,
    Deadline,
    Direction,
    Handling,
    Request,
    RequestEvent,
    Status,
    TransferAuthorisation,
    Translation,
)
from hanoi247.cooperation.schemas import REQUEST_TYPES, Missing, RequestType, clean, problems
from hanoi247.directory import services as directory
from hanoi247.federation import services as federation
from hanoi247.federation.envelope import EnvelopeError, iso, parse_time, uuid7
from hanoi247.states import is_state_code


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
        raise WorkflowError(
            gettext("unknown request type %(code)s; known: %(known)s")
            % {"code": repr(code), "known": ", ".join(REQUEST_TYPES)}
        ) from None


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


# -- cases ---------------------------------------------------------------------------------


def _next_case_reference(state: str) -> str:
    prefix = f"{state}-C{timezone.now().year}-"
    return f"{prefix}{Case.objects.filter(reference__startswith=prefix).count() + 1:05d}"


def visible_cases(user: Any) -> QuerySet[Case]:
    if not is_local_case_handler(user):
        return Case.objects.none()
    return Case.objects.all()


def get_case(user: Any, case_id: UUID | str) -> Case:
    try:
        return visible_cases(user).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404("No such case") from None


def create_case(user: User, title: str) -> Case:
    title = title.strip()[:200]
    if not title:
        raise WorkflowError(gettext("give the case a title"))
    with transaction.atomic():
        case = Case.objects.create(
            reference=_next_case_reference(settings.NODE.state),
            title=title,
            origin_state=settings.NODE.state,
            created_by=user,
        )
        audit.record("case.created", actor=_actor_label(user), object_type="case", object_id=str(case.pk))
    return case


def case_timeline(case: Case) -> list[RequestEvent]:
    """Every event of every request of the case, both directions, in time order."""
    return list(RequestEvent.objects.filter(request__case=case).select_related("request").order_by("at", "id"))


# -- the requesting side ------------------------------------------------------------------


def _check_recipient(recipient: str) -> None:
    if recipient == settings.NODE.state:
        raise WorkflowError(gettext("a State does not send a request to itself"))
    dirs = directory.current()
    if dirs is None or dirs.node(recipient) is None:
        raise WorkflowError(gettext("%(state)s is not a node in the directory") % {"state": repr(recipient)})


@dataclass(frozen=True)
class Options:
    """What travels with a request besides its elements (all optional on a draft)."""

    case: Case | None = None
    case_title: str = ""
    language: str = ""
    handling: str = ""
    conditions: dict[str, Any] | None = None
    follows: UUID | str | None = None
    personal_data_from: tuple[UUID | str, ...] | None = None


CONDITION_KEYS = {"confidential": bool, "no_user_notification": bool, "use_limitation": str}


def clean_conditions(raw: Any) -> dict[str, Any]:
    """Conditions on a request or an answer: confidentiality and use limitation (Art. 40)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise WorkflowError(
            gettext("conditions must be an object with confidential, no_user_notification, use_limitation")
        )
    unknown = set(raw) - set(CONDITION_KEYS)
    if unknown:
        raise WorkflowError(gettext("unknown conditions: %(names)s") % {"names": ", ".join(sorted(unknown))})
    out: dict[str, Any] = {}
    for key, kind in CONDITION_KEYS.items():
        value = raw.get(key)
        if value in (None, "", False):
            continue
        if not isinstance(value, kind):
            raise WorkflowError(
                (
                    gettext("condition %(key)s must be a yes/no value")
                    if kind is bool
                    else gettext("condition %(key)s must be a text")
                )
                % {"key": key}
            )
        out[key] = value.strip()[:2000] if isinstance(value, str) else value
    return out


def _apply_options(req: Request, kind: RequestType, options: Options) -> None:
    if options.language:
        if options.language not in LANGUAGES:
            raise WorkflowError(
                gettext("%(code)s is not a language code this node knows") % {"code": repr(options.language)}
            )
        req.language = options.language
    if options.handling:
        if options.handling not in Handling.values:
            raise WorkflowError(gettext("handling must be one of %(codes)s") % {"codes": ", ".join(Handling.values)})
        req.handling = options.handling
    if options.conditions is not None:
        req.conditions = clean_conditions(options.conditions)
    if options.follows is not None:
        req.follows = _followed(kind, req.requested_state, options.follows) if options.follows else None


def _followed(kind: RequestType, recipient: str, ref: UUID | str) -> Request:
    """The earlier request this one follows up: of a type it can follow, with the same State."""
    earlier = Request.objects.filter(pk=ref).first() if _is_uuid(ref) else None
    if earlier is None:
        raise WorkflowError(gettext("the request it follows up is not held here"))
    if earlier.type not in kind.follows:
        raise WorkflowError(
            gettext("a %(type)s request cannot follow up a %(earlier)s request")
            % {"type": kind.code, "earlier": earlier.type}
        )
    if earlier.counterpart != recipient:
        raise WorkflowError(
            gettext("the request it follows up was exchanged with %(state)s, not %(recipient)s")
            % {"state": earlier.counterpart, "recipient": recipient}
        )
    return earlier


def _is_uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def _set_sources(req: Request, sources: tuple[UUID | str, ...] | None) -> None:
    if sources is None:
        return
    found = list(Request.objects.filter(pk__in=[s for s in sources if _is_uuid(s)]).exclude(status=Status.DRAFT))
    if len(found) != len(set(map(str, sources))):
        raise WorkflowError(gettext("personal data can only come from requests exchanged through this node"))
    req.personal_data_from.set(found)


def create_draft(
    user: User,
    *,
    type: str,
    recipient: str,
    payload: dict[str, Any],
    require_complete: bool = False,
    options: Options | None = None,
) -> Request:
    """Start a request. The web form may keep an incomplete draft; the API asks for a
    complete one (``require_complete``). Without a case, the request opens a new one."""
    kind = request_type(type)
    options = options or Options()
    _check_recipient(recipient)
    if require_complete and (missing := problems(kind, payload)):
        raise WorkflowError(gettext("the request is incomplete"), missing)
    with transaction.atomic():
        case = options.case or create_case(user, options.case_title or f"{kind.title} — {recipient}")
        req = Request(
            reference=_next_reference(settings.NODE.state),
            type=kind.code,
            schema_version=kind.version,
            direction=Direction.OUTGOING,
            requesting_state=settings.NODE.state,
            requested_state=recipient,
            payload=payload,
            created_by=user,
            case=case,
            urgent=kind.urgent,
            language=_default_language(recipient),
        )
        _apply_options(req, kind, options)
        req.save()
        _set_sources(req, options.personal_data_from)
        _event(req, "created", user=user)
    return req


def update_draft(
    user: User, req: Request, *, payload: dict[str, Any], recipient: str | None = None, options: Options | None = None
) -> Request:
    _require(req, Direction.OUTGOING, {Status.DRAFT}, "edited")
    kind = request_type(req.type)
    with transaction.atomic():
        if recipient and recipient != req.requested_state:
            _check_recipient(recipient)
            req.requested_state = recipient
        req.payload = payload
        if options is not None and options.case is not None:
            req.case = options.case
        _apply_options(req, kind, options or Options())
        req.save()
        _set_sources(req, (options or Options()).personal_data_from)
        _event(req, "edited", user=user)
    return req


def missing_elements(req: Request) -> list[Missing]:
    return problems(request_type(req.type), req.payload)


# -- languages ----------------------------------------------------------------------------

# A request may be in any ISO 639-1 language; each State lists those it accepts (Art. 40).
LANGUAGES = {lang.alpha_2: lang.name for lang in pycountry.languages if hasattr(lang, "alpha_2")}


def accepted_languages(state: str) -> list[str]:
    dirs = directory.current()
    node = dirs.node(state) if dirs else None
    return list(node.get("languages") or []) if node else []


def _default_language(recipient: str) -> str:
    accepted = accepted_languages(recipient)
    return accepted[0] if accepted and accepted[0] in LANGUAGES else "en"


def language_warning(req: Request) -> str:
    """Why the requested State may not read this request, or "" (Art. 40: a language it accepts)."""
    accepted = accepted_languages(req.requested_state)
    if not accepted or req.language in accepted:
        return ""
    if req.translations.filter(language__in=accepted).exists():
        return ""
    names = ", ".join(str(LANGUAGES.get(code, code)) for code in accepted)
    return (
        f"{req.requested_state} accepts requests in {names}; this one is in "
        f"{LANGUAGES.get(req.language, req.language)}. Attach a translation before sending (Art. 40)."
    )


def add_translation(user: User, req: Request, *, language: str, text: str, translator: str = "") -> Translation:
    _require(req, Direction.OUTGOING, {Status.DRAFT}, "given a translation")
    if language not in LANGUAGES:
        raise WorkflowError(gettext("%(code)s is not a language code this node knows") % {"code": repr(language)})
    if language == req.language:
        raise WorkflowError(gettext("the request is already in this language"))
    if not text.strip():
        raise WorkflowError(gettext("the translation is empty"))
    with transaction.atomic():
        translation, _created = Translation.objects.update_or_create(
            request=req, language=language, defaults={"text": text.strip()[:100_000], "translator": translator[:200]}
        )
        _event(req, "translation_attached", user=user, data={"language": language})
    return translation


# -- Art. 36: onward transfer of personal data --------------------------------------------


def transfer_blockers(req: Request) -> list[Request]:
    """Sources of personal data in ``req`` whose originating State has not authorised passing
    it on to ``req.requested_state``."""
    blocked = []
    for source in req.personal_data_from.all():
        if source.counterpart == req.requested_state:
            continue
        granted = TransferAuthorisation.objects.filter(
            source=source, third_state=req.requested_state, decision=TransferAuthorisation.Decision.GRANTED
        ).exists()
        if not granted:
            blocked.append(source)
    return blocked


def ask_transfer_authorisation(user: User, source: Request, *, third_state: str, purpose: str) -> TransferAuthorisation:
    """Ask the State that sent personal data in ``source`` to let it go on to ``third_state``."""
    if source.status == Status.DRAFT:
        raise WorkflowError(gettext("a draft holds no data received from another State"))
    if third_state == source.counterpart or third_state == settings.NODE.state:
        raise WorkflowError(gettext("no authorisation is needed to send data back to the State it came from"))
    _check_recipient(third_state)
    if not purpose.strip():
        raise WorkflowError(
            gettext("say why the data is to be passed on: the originating State decides on it (Art. 36)")
        )
    with transaction.atomic():
        row = TransferAuthorisation.objects.create(
            source=source,
            originating_state=source.counterpart,
            asking_state=settings.NODE.state,
            third_state=third_state,
            purpose=purpose.strip()[:5000],
            asked_at=timezone.now(),
            asked_by=user.display(),
        )
        audit.record(
            "transfer.asked",
            actor=_actor_label(user),
            object_type="request",
            object_id=str(source.pk),
            data={"authorisation": str(row.pk), "third_state": third_state},
        )
        federation.enqueue(
            type="transfer.asked",
            recipient=row.originating_state,
            case_ref=str(source.pk),
            handling=source.handling,
            body={
                "id": str(row.pk),
                "source_request_id": str(source.pk),
                "third_state": third_state,
                "purpose": row.purpose,
                "asked_by": row.asked_by,
                "asked_at": iso(row.asked_at),
            },
        )
    return row


def decide_transfer(
    user: User, row: TransferAuthorisation, *, granted: bool, conditions: str = ""
) -> TransferAuthorisation:
    """The originating State's answer, recorded on both nodes."""
    if row.originating_state != settings.NODE.state:
        raise WorkflowError(gettext("only the State that sent the data decides on passing it on"))
    if row.decision != TransferAuthorisation.Decision.ASKED:
        raise WorkflowError(
            gettext("this authorisation was already %(decision)s")
            % {"decision": str(row.get_decision_display()).lower()}
        )
    with transaction.atomic():
        row.decision = TransferAuthorisation.Decision.GRANTED if granted else TransferAuthorisation.Decision.REFUSED
        row.conditions = conditions.strip()[:5000]
        row.decided_at = timezone.now()
        row.decided_by = user.display()
        row.save()
        audit.record(
            f"transfer.{row.decision}",
            actor=_actor_label(user),
            object_type="request",
            object_id=str(row.source_id),
            data={"authorisation": str(row.pk), "third_state": row.third_state},
        )
        federation.enqueue(
            type="transfer.decided",
            recipient=row.asking_state,
            case_ref=str(row.source_id),
            handling=row.source.handling,
            body={
                "id": str(row.pk),
                "decision": row.decision,
                "conditions": row.conditions,
                "decided_by": row.decided_by,
                "decided_at": iso(row.decided_at),
            },
        )
    return row


@federation.on_receive("transfer.asked")
def _receive_transfer_asked(message: dict[str, Any]) -> None:
    try:
        body = message["body"]
        source = (
            Request.objects.filter(pk=body["source_request_id"]).first()
            if _is_uuid(body["source_request_id"])
            else None
        )
        if source is None or source.counterpart != message["sender"] or str(source.pk) != message["case_ref"]:
            raise EnvelopeError(422, "invalid_transfer", "no request exchanged with the sender under this id")
        if not is_state_code(str(body["third_state"])) or body["third_state"] in {
            settings.NODE.state,
            message["sender"],
        }:
            raise EnvelopeError(422, "invalid_transfer", "the third State is not a third State")
        TransferAuthorisation.objects.create(
            id=UUID(str(body["id"])),
            source=source,
            originating_state=settings.NODE.state,
            asking_state=message["sender"],
            third_state=str(body["third_state"]),
            purpose=str(body["purpose"])[:5000],
            asked_at=parse_time(body["asked_at"]),
            asked_by=str(body["asked_by"])[:200],
        )
    except (KeyError, TypeError, ValueError, AttributeError, IntegrityError) as exc:
        raise EnvelopeError(422, "invalid_transfer", f"authorisation request is malformed: {exc}") from None
    audit.record(
        "transfer.asked",
        actor=message["sender"],
        object_type="request",
        object_id=str(source.pk),
        data={"authorisation": str(body["id"]), "remote": True},
    )


@federation.on_receive("transfer.decided")
def _receive_transfer_decided(message: dict[str, Any]) -> None:
    try:
        body = message["body"]
        row = TransferAuthorisation.objects.filter(
            pk=str(body["id"]) if _is_uuid(body["id"]) else uuid7(),
            originating_state=message["sender"],
            asking_state=settings.NODE.state,
            decision=TransferAuthorisation.Decision.ASKED,
        ).first()
        if row is None or body["decision"] not in {"granted", "refused"}:
            raise EnvelopeError(422, "invalid_transfer", "no open authorisation request to the sender under this id")
        row.decision = body["decision"]
        row.conditions = str(body.get("conditions", ""))[:5000]
        row.decided_by = str(body["decided_by"])[:200]
        row.decided_at = parse_time(body["decided_at"])
        row.save()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnvelopeError(422, "invalid_transfer", f"authorisation decision is malformed: {exc}") from None
    audit.record(
        f"transfer.{row.decision}",
        actor=message["sender"],
        object_type="request",
        object_id=str(row.source_id),
        data={"authorisation": str(row.pk), "remote": True},
    )


# -- submitting ---------------------------------------------------------------------------


def submit(user: User, req: Request) -> Request:
    """Send a complete request to the requested State's node, with its case, language,
    conditions and handling code, and any translations."""
    _require(req, Direction.OUTGOING, {Status.DRAFT}, "submitted")
    kind = request_type(req.type)
    if missing := problems(kind, req.payload):
        raise WorkflowError(gettext("the request is incomplete and cannot be submitted"), missing)
    _check_recipient(req.requested_state)
    if blocked := transfer_blockers(req):
        sources = ", ".join(
            gettext("%(state)s (in %(reference)s)") % {"state": s.counterpart, "reference": s.reference}
            for s in blocked
        )
        raise WorkflowError(
            gettext(
                "this request passes on personal data received from %(sources)s; "
                "that State has not authorised passing it on to %(state)s (Art. 36)"
            )
            % {"sources": sources, "state": req.requested_state}
        )
    with transaction.atomic():
        req.payload = clean(kind, req.payload)
        req.status = Status.SUBMITTED
        req.submitted_at = timezone.now()
        req.save()
        event = _event(req, "submitted", user=user)
        if req.follows is not None:
            _meet(req.follows, Deadline.Kind.FOLLOW_UP, at=req.submitted_at)
        federation.enqueue(
            type="request.submitted",
            recipient=req.requested_state,
            case_ref=str(req.pk),
            handling=req.handling,
            body={"request": _request_wire(req), "event": event_wire(event)},
        )
    return req


def _request_wire(req: Request) -> dict[str, Any]:
    assert req.submitted_at is not None and req.case is not None
    return {
        "id": str(req.pk),
        "reference": req.reference,
        "type": req.type,
        "schema_version": req.schema_version,
        "requesting_state": req.requesting_state,
        "requested_state": req.requested_state,
        "payload": req.payload,
        "submitted_at": iso(req.submitted_at),
        "case": {"id": str(req.case.pk), "reference": req.case.reference, "title": req.case.title},
        "language": req.language,
        "handling": req.handling,
        "conditions": req.conditions,
        "follows": str(req.follows_id) if req.follows_id else None,
        "translations": [
            {"language": t.language, "text": t.text, "translator": t.translator} for t in req.translations.all()
        ],
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
    if req.acknowledged_at is None and req.status == Status.DELIVERED:
        _set_deadline(req, Deadline.Kind.ACKNOWLEDGEMENT, at + timing(req)[0])


# -- deadlines ----------------------------------------------------------------------------


def timing(req: Request) -> tuple[timedelta, timedelta]:
    """(acknowledge within, execute within) for this request: the type's defaults, or what
    the requested State set for the type in its directory entry."""
    kind = request_type(req.type)
    ack, execute = kind.acknowledge_within, kind.execute_within
    dirs = directory.current()
    node = dirs.node(req.requested_state) if dirs else None
    own = ((node or {}).get("deadlines") or {}).get(kind.code) or {}
    if isinstance(own.get("acknowledge_minutes"), int) and 0 < own["acknowledge_minutes"] <= 60 * 24 * 30:
        ack = timedelta(minutes=own["acknowledge_minutes"])
    if isinstance(own.get("execute_days"), int) and 0 < own["execute_days"] <= 3650:
        execute = timedelta(days=own["execute_days"])
    return ack, execute


def _set_deadline(req: Request, kind: str, due_at: datetime, owner: str = "requested") -> None:
    Deadline.objects.update_or_create(
        request=req, kind=kind, defaults={"due_at": due_at, "met_at": None, "owner": owner}
    )


def _meet(req: Request, *kinds: str, at: datetime) -> None:
    Deadline.objects.filter(request=req, kind__in=kinds, met_at__isnull=True).update(met_at=at)


def _day_end(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def open_deadlines(user: Any, *, within: timedelta = timedelta(days=7)) -> QuerySet[Deadline]:
    """Deadlines not met that are past or fall within ``within``, most pressing first."""
    if not is_local_case_handler(user):
        return Deadline.objects.none()
    horizon = timezone.now() + within
    return (
        Deadline.objects.filter(met_at__isnull=True, due_at__lte=horizon)
        .exclude(request__status__in=[Status.REFUSED, Status.WITHDRAWN, Status.LAPSED])
        .select_related("request", "request__case")
        .order_by("due_at")
    )


@federation.periodic(every_seconds=60)
def check_deadlines(moment: datetime | None = None) -> list[Request]:
    """Lapse the preservations whose term has passed with no follow-up request (Art. 42:
    preservation continues once the follow-up request arrives). Each node does this for its
    own copy; nothing is sent. Returns the requests that lapsed now."""
    moment = moment or timezone.now()
    lapsed = []
    due = Request.objects.filter(status=Status.EXECUTED, preserved_until__lt=moment.date())
    for req in due.exclude(follow_ups__status__in=_FOLLOWED_UP):
        with transaction.atomic():
            locked = Request.objects.select_for_update().get(pk=req.pk)
            if locked.status != Status.EXECUTED:
                continue
            locked.status = Status.LAPSED
            locked.save(update_fields=["status", "updated_at"])
            _event(locked, "lapsed", note=f"preservation ended on {locked.preserved_until} with no follow-up request")
        lapsed.append(locked)
    return lapsed


# A follow-up counts once it has left the requesting node.
_FOLLOWED_UP = [s for s in Status.values if s != Status.DRAFT]


# -- the steps after submission -----------------------------------------------------------


REQUESTED, REQUESTING, EITHER = "requested", "requesting", "either"
OPEN = frozenset(
    {
        Status.DELIVERED,
        Status.ACKNOWLEDGED,
        Status.INFO_REQUESTED,
        Status.CONSULTATION,
        Status.POSTPONED,
        Status.PARTIALLY_EXECUTED,
    }
)


@dataclass(frozen=True)
class Step:
    """One move in the state machine: who makes it, from where, to where (None: stays)."""

    kind: str
    side: str
    allowed_from: frozenset[str]
    to: Status | None
    label: Any
    preservation_only: bool = False
    system_only: bool = False


STEPS: dict[str, Step] = {
    s.kind: s
    for s in [
        Step("acknowledged", REQUESTED, frozenset({Status.DELIVERED}), Status.ACKNOWLEDGED, _("Acknowledge")),
        Step(
            "info_requested",
            REQUESTED,
            frozenset({Status.DELIVERED, Status.ACKNOWLEDGED}),
            Status.INFO_REQUESTED,
            _("Ask for additional information"),
        ),
        Step(
            "info_provided",
            REQUESTING,
            frozenset({Status.INFO_REQUESTED}),
            Status.ACKNOWLEDGED,
            _("Provide the information asked for"),
        ),
        Step(
            "consultation_opened",
            REQUESTED,
            frozenset({Status.DELIVERED, Status.ACKNOWLEDGED, Status.INFO_REQUESTED, Status.POSTPONED}),
            Status.CONSULTATION,
            _("Consult before refusing or postponing"),
        ),
        Step("consultation_reply", REQUESTING, frozenset({Status.CONSULTATION}), None, _("Reply to the consultation")),
        Step(
            "postponed",
            REQUESTED,
            frozenset({Status.ACKNOWLEDGED, Status.CONSULTATION}),
            Status.POSTPONED,
            _("Postpone"),
        ),
        Step(
            "resumed",
            REQUESTED,
            frozenset({Status.CONSULTATION, Status.POSTPONED}),
            Status.ACKNOWLEDGED,
            _("Resume execution"),
        ),
        Step(
            "partially_executed",
            REQUESTED,
            frozenset({Status.ACKNOWLEDGED, Status.PARTIALLY_EXECUTED}),
            Status.PARTIALLY_EXECUTED,
            _("Report partial execution"),
        ),
        Step(
            "executed",
            REQUESTED,
            frozenset({Status.ACKNOWLEDGED, Status.PARTIALLY_EXECUTED}),
            Status.EXECUTED,
            _("Mark executed"),
        ),
        Step("refused", REQUESTED, OPEN, Status.REFUSED, _("Refuse")),
        Step("withdrawn", REQUESTING, OPEN, Status.WITHDRAWN, _("Withdraw: assistance no longer needed")),
        Step(
            "extension_requested",
            REQUESTING,
            frozenset({Status.EXECUTED}),
            None,
            _("Ask for an extension"),
            preservation_only=True,
        ),
        Step(
            "extended", REQUESTED, frozenset({Status.EXECUTED}), None, _("Extend preservation"), preservation_only=True
        ),
        Step("message", EITHER, OPEN | {Status.EXECUTED}, None, _("Send a message")),
        # Made by the requested node itself when a deadline passes (issue #6): the requesting
        # State sees that its request is escalated, not silent. Not offered as a button.
        Step("escalated", REQUESTED, OPEN, None, _("Escalated"), system_only=True),
    ]
}

# Kept for callers of the first release.
OUTCOMES = {k: STEPS[k] for k in ("acknowledged", "executed", "refused")}


def _require(req: Request, direction: str, states: set[Status] | frozenset[str], done: str) -> None:
    """``done`` names the action as a participle: "submitted", "acknowledged"."""
    if req.direction != direction:
        message = (
            gettext("only the requested State's node can mark this request %(done)s")
            if direction == Direction.INCOMING
            else gettext("only the requesting State's node can mark this request %(done)s")
        )
        raise WorkflowError(message % {"done": gettext(done)})
    if req.status not in states:
        raise WorkflowError(
            gettext("this request is %(status)s: it cannot be %(done)s now")
            % {"status": req.get_status_display().lower(), "done": gettext(done)}
        )


def _side_of(req: Request) -> str:
    return REQUESTED if req.direction == Direction.INCOMING else REQUESTING


def available_steps(req: Request) -> list[Step]:
    """The moves this node may make on the request now (for the page's buttons)."""
    status = Status.DELIVERED if req.status == Status.SUBMITTED and req.direction == Direction.OUTGOING else req.status
    kind = request_type(req.type)
    return [
        s
        for s in STEPS.values()
        if s.side in {_side_of(req), EITHER}
        and status in s.allowed_from
        and (not s.preservation_only or kind.min_preservation_days > 0)
        and not s.system_only
    ]


def _text(value: Any, limit: int = 20000) -> str:
    return str(value or "").strip()[:limit]


def _date(value: Any, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise WorkflowError(gettext("give %(what)s as a date (YYYY-MM-DD)") % {"what": gettext(what)}) from None


def _consulted(req: Request) -> bool:
    return req.events.filter(kind="consultation_opened").exists()


def validate_step(req: Request, step: Step, note: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The rules of each move, the same on the node that makes it and on the node that
    receives it. Returns the data to record; raises WorkflowError in words a user can act on."""
    kind = request_type(req.type)
    note = _text(note)
    if step.preservation_only and kind.min_preservation_days <= 0:
        raise WorkflowError(gettext("only a preservation request is extended"))
    needs_note = {
        "info_requested": gettext("say what additional information is needed"),
        "info_provided": gettext("give the information asked for"),
        "consultation_opened": gettext(
            "say why refusal or postponement is considered and under what conditions "
            "assistance could still be given (Art. 40)"
        ),
        "consultation_reply": gettext("give the requesting State's answer"),
        "postponed": gettext("give the reason for postponing (e.g. it would interfere with an ongoing investigation)"),
        "partially_executed": gettext("say what was done and what remains"),
        "refused": gettext("give the reasons for the refusal: the requesting State must be told why (Art. 40)"),
        "withdrawn": gettext("say why the assistance is no longer needed"),
        "message": gettext("write the message"),
    }
    if step.kind in needs_note and not note:
        raise WorkflowError(needs_note[step.kind])
    out: dict[str, Any] = {}
    if step.kind == "info_provided" and data.get("elements"):
        elements = data["elements"]
        if not isinstance(elements, dict) or set(elements) - set(kind.schema.model_fields):
            raise WorkflowError(gettext("additional elements must be elements of this request type"))
        merged = {**req.payload, **elements}
        if missing := problems(kind, merged):
            raise WorkflowError(gettext("with these changes the request is incomplete"), missing)
        out["elements"] = {k: v for k, v in clean(kind, merged).items() if k in elements}
    elif step.kind == "consultation_opened":
        contemplating = data.get("contemplating")
        if contemplating not in {"refusal", "postponement"}:
            raise WorkflowError(gettext("say whether refusal or postponement is considered"))
        out["contemplating"] = contemplating
        out["grounds"] = _grounds(kind, data.get("grounds") or [], required=contemplating == "refusal")
    elif step.kind == "consultation_reply":
        out["accepts_conditions"] = bool(data.get("accepts_conditions"))
    elif step.kind == "postponed":
        if kind.consult_before_refusal and not _consulted(req):
            raise WorkflowError(
                gettext("consult the requesting State before postponing (%(article)s; Art. 40)")
                % {"article": kind.article}
            )
        until = _date(data.get("until"), gettext_noop("the date until which execution is postponed"))
        if until <= at.date():
            raise WorkflowError(gettext("a postponement ends on a later date"))
        out["until"] = until.isoformat()
    elif step.kind in {"executed", "partially_executed"}:
        out["conditions"] = clean_conditions(data.get("conditions"))
        if step.kind == "executed" and kind.min_preservation_days:
            until = _date(data.get("preserved_until"), gettext_noop("the date until which the data is preserved"))
            earliest = at.date() + timedelta(days=kind.min_preservation_days)
            if until < earliest:
                raise WorkflowError(
                    gettext("preservation must last at least %(days)s days (%(article)s): until %(date)s or later")
                    % {"days": kind.min_preservation_days, "article": kind.article, "date": earliest.isoformat()}
                )
            out["preserved_until"] = until.isoformat()
    elif step.kind == "refused":
        if kind.consult_before_refusal and not _consulted(req):
            raise WorkflowError(
                gettext("consult the requesting State before refusing (%(article)s; Art. 40)")
                % {"article": kind.article}
            )
        out["grounds"] = _grounds(kind, data.get("grounds") or [], required=True)
    elif step.kind == "escalated":
        level = _text(data.get("level"), 100)
        if not level:
            raise WorkflowError(gettext("say to whom the request is escalated"))
        out["level"] = level
    elif step.kind in {"extension_requested", "extended"}:
        key = "until" if step.kind == "extension_requested" else "preserved_until"
        until = _date(data.get(key), gettext_noop("the new end of preservation"))
        # A request for an extension may cross the extension itself: the receiving node
        # takes it as it comes (the requested State may have extended already).
        crossed = step.kind == "extension_requested" and req.direction == Direction.INCOMING
        if req.preserved_until and until <= req.preserved_until and not crossed:
            raise WorkflowError(
                gettext("an extension ends after the current end of preservation (%(date)s)")
                % {"date": req.preserved_until}
            )
        out[key] = until.isoformat()
    return out


def _grounds(kind: RequestType, grounds: Any, *, required: bool) -> list[str]:
    if not isinstance(grounds, list) or not all(isinstance(g, str) for g in grounds):
        raise WorkflowError(gettext("grounds must be a list of codes"))
    unknown = [g for g in grounds if g not in kind.refusal_grounds]
    if unknown or (required and not grounds):
        raise WorkflowError(
            gettext("cite at least one ground for refusal from the list for %(article)s") % {"article": kind.article}
            + (gettext(" (unknown: %(codes)s)") % {"codes": ", ".join(unknown)} if unknown else "")
        )
    return list(dict.fromkeys(grounds))


def _apply(req: Request, step: Step, note: str, data: dict[str, Any], at: datetime) -> None:
    """What a move changes, the same on both nodes (the caller saves)."""
    if step.to is not None:
        req.status = step.to
    execute = timing(req)[1]
    if step.kind in {"acknowledged", "info_requested", "consultation_opened", "refused"}:
        req.acknowledged_at = req.acknowledged_at or at
        _meet(req, Deadline.Kind.ACKNOWLEDGEMENT, at=at)
    if step.kind == "acknowledged":
        _set_deadline(req, Deadline.Kind.EXECUTION, at + execute)
    elif step.kind == "info_requested":
        _set_deadline(req, Deadline.Kind.INFORMATION, at + timedelta(days=14), owner=REQUESTING)
    elif step.kind == "info_provided":
        _meet(req, Deadline.Kind.INFORMATION, at=at)
        req.payload = {**req.payload, **data.get("elements", {})}
        if not Deadline.objects.filter(request=req, kind=Deadline.Kind.EXECUTION).exists():
            _set_deadline(req, Deadline.Kind.EXECUTION, at + execute)
    elif step.kind == "postponed":
        req.postponed_until = date.fromisoformat(data["until"])
        _set_deadline(req, Deadline.Kind.POSTPONEMENT, _day_end(req.postponed_until))
    elif step.kind == "resumed":
        req.postponed_until = None
        _meet(req, Deadline.Kind.POSTPONEMENT, at=at)
    elif step.kind in {"executed", "partially_executed"}:
        req.answer_conditions = data.get("conditions") or {}
    if step.kind == "executed":
        _meet(req, Deadline.Kind.EXECUTION, at=at)
        req.closed_at = at
        if "preserved_until" in data:
            _preserve_until(req, date.fromisoformat(data["preserved_until"]))
    elif step.kind == "extended":
        _preserve_until(req, date.fromisoformat(data["preserved_until"]))
    elif step.kind == "refused":
        req.refusal_grounds = data["grounds"]
        req.refusal_reasons = note
    if step.kind in {"refused", "withdrawn"}:
        req.closed_at = at
        Deadline.objects.filter(request=req, met_at__isnull=True).delete()


def _preserve_until(req: Request, until: date) -> None:
    req.preserved_until = until
    _set_deadline(req, Deadline.Kind.PRESERVATION_EXPIRY, _day_end(until))
    if not req.follow_ups.exclude(status=Status.DRAFT).exists():
        _set_deadline(req, Deadline.Kind.FOLLOW_UP, _day_end(until), owner=REQUESTING)


def act(user: User | None, req: Request, kind: str, *, note: str = "", data: dict[str, Any] | None = None) -> Request:
    """Make one move on a request and tell the other State's node. ``user`` is None only for
    the moves the node makes itself (``escalated``)."""
    step = STEPS.get(kind)
    if step is None or (step.system_only and user is not None) or (user is None and not step.system_only):
        raise WorkflowError(gettext("unknown action %(kind)s") % {"kind": repr(kind)})
    with transaction.atomic():
        locked = Request.objects.select_for_update().get(pk=req.pk)
        if step.side != EITHER:
            direction = Direction.INCOMING if step.side == REQUESTED else Direction.OUTGOING
            _require(locked, direction, _crossing(locked, step.allowed_from), _participle(step))
        elif locked.status not in _crossing(locked, step.allowed_from):
            raise WorkflowError(
                gettext("this request is %(status)s: no more messages")
                % {"status": locked.get_status_display().lower()}
            )
        moment = timezone.now()
        clean_data = validate_step(locked, step, note, data or {}, moment)
        _apply(locked, step, _text(note), clean_data, moment)
        locked.save()
        event = _event(locked, step.kind, user=user, note=_text(note), data=clean_data)
        federation.enqueue(
            type="request.event",
            recipient=locked.counterpart,
            case_ref=str(locked.pk),
            handling=locked.handling,
            body={"request_id": str(locked.pk), "event": event_wire(event)},
        )
    return locked


def _crossing(req: Request, allowed: frozenset[str]) -> frozenset[str]:
    """A receipt and the first answer may cross: "submitted" counts as "delivered"."""
    if req.direction == Direction.OUTGOING and req.status == Status.SUBMITTED and Status.DELIVERED in allowed:
        return allowed | {Status.SUBMITTED}
    return allowed


# The participles of the moves, for "this request is …: it cannot be … now" (translated where it is said).
PARTICIPLES = [
    gettext_noop("edited"),
    gettext_noop("given a translation"),
    gettext_noop("submitted"),
    gettext_noop("acknowledged"),
    gettext_noop("info requested"),
    gettext_noop("info provided"),
    gettext_noop("consultation opened"),
    gettext_noop("consultation reply"),
    gettext_noop("postponed"),
    gettext_noop("resumed"),
    gettext_noop("partially executed"),
    gettext_noop("executed"),
    gettext_noop("refused"),
    gettext_noop("withdrawn"),
    gettext_noop("extension requested"),
    gettext_noop("extended"),
    gettext_noop("lapsed"),
    gettext_noop("message"),
    gettext_noop("escalated"),
]


def _participle(step: Step) -> str:
    return step.kind.replace("_", " ")


def acknowledge(user: User, req: Request) -> Request:
    """The requested State's 24/7 point of contact confirms it has the request (Art. 41)."""
    return act(user, req, "acknowledged")


def execute(
    user: User,
    req: Request,
    *,
    preserved_until: date | None = None,
    note: str = "",
    conditions: dict[str, Any] | None = None,
) -> Request:
    data: dict[str, Any] = {"conditions": conditions or {}}
    if preserved_until is not None:
        data["preserved_until"] = preserved_until.isoformat()
    return act(user, req, "executed", note=note, data=data)


def refuse(user: User, req: Request, *, grounds: list[str], reasons: str) -> Request:
    """Refusal must cite grounds and give reasons (Art. 40), which the requesting State sees."""
    return act(user, req, "refused", note=reasons, data={"grounds": grounds})


def escalate(req: Request, *, level: str, note: str = "") -> Request:
    """The requested node raises an unacknowledged or overdue incoming request to the next
    rung of its ladder (issue #6); the requesting State is told, so it sees the request is
    being handled, not ignored."""
    return act(None, req, "escalated", note=note, data={"level": level})


def message_joint_investigation(user: User, case: Case, note: str) -> int:
    """The shared workspace of a joint investigation (Art. 48): a message to every party
    with whom the case has an open joint-investigation request. Returns how many got it."""
    open_jits = case.requests.filter(type="joint_investigation").exclude(status__in=[Status.DRAFT, *FINAL])
    sent = 0
    for req in open_jits:
        act(user, req, "message", note=note)
        sent += 1
    if not sent:
        raise WorkflowError(gettext("this case has no open joint investigation"))
    return sent


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
        note=str(wire.get("note", ""))[:20000],
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


def _case_from_wire(wire: Any, sender: str) -> Case:
    if not isinstance(wire, dict) or not _is_uuid(wire.get("id")):
        raise EnvelopeError(422, "invalid_request", "a request arrives with its case")
    case = Case.objects.filter(pk=wire["id"]).first()
    if case is None:
        case = Case.objects.create(
            id=UUID(str(wire["id"])),
            reference=str(wire.get("reference", ""))[:40],
            title=str(wire.get("title", ""))[:200] or "—",
            origin_state=sender,
        )
    return case


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
        if Request.objects.filter(reference=str(wire["reference"])[:32]).exists():
            raise EnvelopeError(422, "invalid_request", "a request with this reference is already held")
        if wire["handling"] != message["handling"] or wire["handling"] not in Handling.values:
            raise EnvelopeError(422, "invalid_request", "the request's handling code differs from the envelope's")
        try:
            conditions = clean_conditions(wire.get("conditions"))
        except WorkflowError as exc:
            raise EnvelopeError(422, "invalid_request", exc.message) from None
        language = str(wire.get("language") or "en")
        if language not in LANGUAGES:
            raise EnvelopeError(422, "invalid_request", f"language {language!r} is not known")
        follows = None
        if wire.get("follows"):
            follows = Request.objects.filter(
                pk=str(wire["follows"]) if _is_uuid(wire["follows"]) else uuid7(),
                direction=Direction.INCOMING,
                requesting_state=message["sender"],
                type__in=kind.follows,
            ).first()
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
            case=_case_from_wire(wire.get("case"), message["sender"]),
            urgent=kind.urgent,
            language=language,
            handling=wire["handling"],
            conditions=conditions,
            follows=follows,
        )
        for t in wire.get("translations") or []:
            if str(t["language"]) in LANGUAGES and str(t["language"]) != language:
                Translation.objects.get_or_create(
                    request=req,
                    language=str(t["language"]),
                    defaults={"text": str(t["text"])[:100_000], "translator": str(t.get("translator", ""))[:200]},
                )
        _event_from_wire(req, event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnvelopeError(422, "invalid_request", f"request body is malformed: {exc}") from None
    _event(req, "received", actor={"name": "", "role": "system", "state": settings.NODE.state})
    arrived = req.delivered_at or timezone.now()
    _set_deadline(req, Deadline.Kind.ACKNOWLEDGEMENT, arrived + timing(req)[0])
    if follows is not None:
        _meet(follows, Deadline.Kind.FOLLOW_UP, at=arrived)


@federation.on_receive("request.event")
def _receive_event(message: dict[str, Any]) -> None:
    try:
        body = message["body"]
        wire = body["event"]
        step = STEPS.get(wire["kind"])
        req = Request.objects.filter(pk=body["request_id"]).first() if _is_uuid(body["request_id"]) else None
        if req is None or step is None or str(req.pk) != message["case_ref"] or req.counterpart != message["sender"]:
            raise EnvelopeError(422, "invalid_event", "no such request exchanged with the sender, or unknown event")
        # The sender acts on the other side of the request from this node.
        their_side = REQUESTING if req.direction == Direction.INCOMING else REQUESTED
        if step.side not in {their_side, EITHER}:
            raise EnvelopeError(422, "invalid_event", f"the {their_side} State cannot make the move {step.kind}")
        if wire["actor"].get("state") != message["sender"]:
            raise EnvelopeError(422, "invalid_event", "the event's actor is not of the sending State")
        if req.status not in _crossing(req, step.allowed_from):
            raise EnvelopeError(422, "invalid_event", f"a request that is {req.status} cannot take {step.kind}")
        at = parse_time(wire["at"])
        try:
            data = validate_step(req, step, str(wire.get("note", "")), wire.get("data") or {}, at)
        except WorkflowError as exc:
            raise EnvelopeError(422, "invalid_event", exc.message) from None
        _apply(req, step, _text(wire.get("note", "")), data, at)
        req.save()
        _event_from_wire(req, {**wire, "data": data})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnvelopeError(422, "invalid_event", f"event body is malformed: {exc}") from None
