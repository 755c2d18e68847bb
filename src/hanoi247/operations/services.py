"""The 24/7 desk (issue #6, Art. 41: a point of contact available 24 hours a day, 7 days a
week): rosters, the officer-on-duty dashboard, alerts, escalation along the node's ladder.

Every change happens here. Alerts are written as ``Notification`` rows in the transaction
that decides them and sent afterwards by the worker (``send_pending``), never inside a web
request's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from joserfc import jws
from joserfc.errors import JoseError

from hanoi247.accounts.models import CASE_ROLES, Role, User
from hanoi247.accounts.services import is_local_case_handler
from hanoi247.audit import services as audit
from hanoi247.cooperation import services as cooperation
from hanoi247.cooperation.models import FINAL, Deadline, Direction, Request, RequestEvent, Status
from hanoi247.cooperation.schemas import REQUEST_TYPES
from hanoi247.directory import services as directory
from hanoi247.federation import keys
from hanoi247.federation.envelope import JWS_REGISTRY, SIGN_ALG, canonical, iso, parse_time
from hanoi247.operations.models import (
    ON_CALL,
    Alert,
    CalendarToken,
    Escalation,
    EscalationRung,
    Notification,
    PeerOnCall,
    Preference,
    Shift,
    WebhookEndpoint,
)
from hanoi247.states import STATE_DEFAULTS

log = logging.getLogger("hanoi247.operations")

# Risk to the life or safety of a person (Art. 41, providing data to avert an emergency).
EMERGENCY_TYPES = frozenset({"assistance_emergency"})
ON_CALL_PATH = "/directory/v1/on-call"
ON_CALL_TYP = "hanoi247-on-call+jws"
SIGNATURE_HEADER = "X-Hanoi247-Signature"
MAX_ATTEMPTS = 5


class OperationsError(Exception):
    """An action that cannot be taken, in words the user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_emergency(req: Request) -> bool:
    return req.type in EMERGENCY_TYPES


def node_zone() -> ZoneInfo:
    """The node's time zone, as its directory entry publishes it: rosters are planned in it."""
    dirs = directory.current()
    entry = dirs.node(settings.NODE.state) if dirs else None
    name = (entry or {}).get("time_zone") or STATE_DEFAULTS.get(settings.NODE.state, (["en"], "UTC"))[1]
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _actor(user: User) -> str:
    return f"{user.username} ({user.role}, {user.state})"


def local_case_handlers() -> QuerySet[User]:
    return User.objects.filter(is_active=True, state=settings.NODE.state, role__in=CASE_ROLES)


# -- rosters ------------------------------------------------------------------------------


def visible_shifts(user: Any) -> QuerySet[Shift]:
    """The one permission filter for rosters: this node's case handlers, or nothing."""
    if not is_local_case_handler(user):
        return Shift.objects.none()
    return Shift.objects.select_related("user", "handed_over_from__user")


def get_shift(user: Any, shift_id: UUID | str) -> Shift:
    try:
        return visible_shifts(user).get(pk=shift_id)
    except (Shift.DoesNotExist, ValueError, TypeError):
        raise Http404("No such shift") from None


def covering(at: datetime) -> QuerySet[Shift]:
    return Shift.objects.filter(starts_at__lte=at, ends_at__gt=at, user__is_active=True).select_related("user")


def on_call_users(at: datetime | None = None) -> list[User]:
    return list(dict.fromkeys(s.user for s in covering(at or timezone.now())))


def _may_plan(actor: User, user: User) -> bool:
    """An officer plans and hands over their own shifts; a supervisor anyone's."""
    return actor.pk == user.pk or actor.role == Role.SUPERVISOR


def add_shift(
    actor: User,
    *,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    public_channel: str = "",
    private_phone: str = "",
) -> Shift:
    if not is_local_case_handler(user):
        raise OperationsError("only this node's case handlers can be on call")
    if not _may_plan(actor, user):
        raise OperationsError("only a supervisor plans shifts for someone else")
    if ends_at <= starts_at:
        raise OperationsError("a shift ends after it starts")
    if ends_at - starts_at > timedelta(days=7):
        raise OperationsError("a shift lasts at most 7 days")
    with transaction.atomic():
        shift = Shift.objects.create(
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
            public_channel=public_channel.strip()[:200],
            private_phone=private_phone.strip()[:40],
        )
        audit.record(
            "shift.planned",
            actor=_actor(actor),
            object_type="shift",
            object_id=str(shift.pk),
            data={"user": user.username, "starts_at": iso(starts_at), "ends_at": iso(ends_at)},
        )
    return shift


def hand_over(actor: User, shift: Shift, *, to: User, at: datetime | None = None, note: str = "") -> Shift:
    """The officer on a shift hands the rest of it to a colleague, with a note of what is
    open. Returns the colleague's shift (the rest of the window)."""
    at = at or timezone.now()
    if not _may_plan(actor, shift.user):
        raise OperationsError("only the officer on the shift or a supervisor hands it over")
    if not is_local_case_handler(to) or to.pk == shift.user_id:
        raise OperationsError("hand over to another of this node's case handlers")
    if at >= shift.ends_at:
        raise OperationsError("this shift is over")
    with transaction.atomic():
        if at <= shift.starts_at:
            # Before it starts, the whole window changes hands.
            taken = Shift.objects.create(
                user=to,
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                public_channel=shift.public_channel,
                handed_over_from=shift,
                handover_note=note.strip()[:5000],
            )
            shift.ends_at = shift.starts_at + timedelta(microseconds=1)
        else:
            taken = Shift.objects.create(
                user=to,
                starts_at=at,
                ends_at=shift.ends_at,
                public_channel=shift.public_channel,
                handed_over_from=shift,
                handover_note=note.strip()[:5000],
            )
            shift.ends_at = at
        shift.save(update_fields=["ends_at"])
        audit.record(
            "shift.handed_over",
            actor=_actor(actor),
            object_type="shift",
            object_id=str(shift.pk),
            data={"to": to.username, "at": iso(at), "new_shift": str(taken.pk)},
        )
    return taken


# -- what the network sees: who is reachable now (ADR 0015) -------------------------------


def _published_contact() -> str:
    dirs = directory.current()
    entry = dirs.node(settings.NODE.state) if dirs else None
    parts = []
    for contact in ((entry or {}).get("contacts") or {}).values():
        if isinstance(contact, dict):
            parts += [str(contact[k]) for k in ("name", "email", "phone") if contact.get(k)]
    return " · ".join(parts)


def on_call_document(at: datetime | None = None, *, days: int = 7) -> dict[str, Any]:
    """The public part of the roster: windows and the channel the State publishes for them,
    never who is on call or their private number."""
    at = at or timezone.now()
    fallback = _published_contact()
    shifts = Shift.objects.filter(ends_at__gt=at, starts_at__lt=at + timedelta(days=days), user__is_active=True)
    windows = [
        {"starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at), "channel": s.public_channel or fallback}
        for s in shifts.order_by("starts_at")
    ]
    now_channels = sorted({w["channel"] for w in windows if parse_time(w["starts_at"]) <= at})
    return {
        "state": settings.NODE.state,
        "issued_at": iso(at),
        "time_zone": str(node_zone()),
        "reachable_now": bool(now_channels),
        "channels_now": now_channels,
        "directory_contact": fallback,
        "windows": windows,
    }


def signed_on_call(at: datetime | None = None) -> str:
    key = keys.signing_key()
    return jws.serialize_compact(
        {"alg": SIGN_ALG, "kid": key.kid, "typ": ON_CALL_TYP},
        canonical(on_call_document(at)),
        key,
        registry=JWS_REGISTRY,
    )


def verify_on_call(state: str, signed: str) -> dict[str, Any]:
    """A peer's on-call document, verified with the key the signed directory gives for it."""
    dirs = directory.current()
    if dirs is None:
        raise OperationsError("this node holds no directory to verify the document")
    try:
        obj = jws.extract_compact(signed.strip().encode())
        kid = str(obj.protected.get("kid", ""))
        key = dirs.key(state, kid)
        if key is None:
            raise OperationsError(f"{state}'s key {kid!r} is not in the directory")
        verified = jws.deserialize_compact(signed.strip(), key, registry=JWS_REGISTRY)
        document: dict[str, Any] = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise OperationsError(f"{state}'s on-call document does not verify: {exc}") from None
    if verified.protected.get("typ") != ON_CALL_TYP or document.get("state") != state:
        raise OperationsError(f"the document is not {state}'s on-call document")
    return document


def fetch_on_call(state: str, *, timeout: float = 5.0) -> dict[str, Any]:
    dirs = directory.current()
    entry = dirs.node(state) if dirs else None
    if not entry:
        raise OperationsError(f"{state} is not a node in the directory")
    try:
        response = httpx.get(str(entry["base_url"]).rstrip("/") + ON_CALL_PATH, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise OperationsError(f"{state}'s on-call document could not be fetched: {exc}") from None
    return verify_on_call(state, response.text)


# -- preferences, webhooks, calendar tokens -----------------------------------------------


def preference(user: User) -> Preference:
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def set_preference(user: User, *, email: bool, webhook: bool, quiet_off_duty: bool) -> Preference:
    pref, _ = Preference.objects.update_or_create(
        user=user, defaults={"email": email, "webhook": webhook, "quiet_off_duty": quiet_off_duty}
    )
    return pref


def add_webhook(user: User, url: str) -> WebhookEndpoint:
    if not url.startswith(("https://", "http://")):
        raise OperationsError("a webhook URL starts with https://")
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(user=user, url=url[:500])
        audit.record("webhook.added", actor=_actor(user), object_type="webhook", object_id=str(endpoint.pk))
    return endpoint


def remove_webhook(user: User, endpoint_id: UUID | str) -> None:
    with transaction.atomic():
        deleted, _ = WebhookEndpoint.objects.filter(user=user, pk=endpoint_id).delete()
        if not deleted:
            raise Http404("No such webhook")
        audit.record("webhook.removed", actor=_actor(user), object_type="webhook", object_id=str(endpoint_id))


def issue_calendar_token(user: User) -> str:
    """A new secret for the user's calendar feeds; the previous one stops working."""
    token = "h247cal_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarToken.objects.update_or_create(user=user, defaults={"digest": CalendarToken.hash(token)})
        audit.record("calendar.token_issued", actor=_actor(user), object_type="user", object_id=str(user.pk))
    return token


def calendar_user(token: str) -> User:
    found = CalendarToken.objects.select_related("user").filter(digest=CalendarToken.hash(token)).first()
    if found is None or not is_local_case_handler(found.user):
        raise Http404("No such calendar")
    return found.user


# -- alerts -------------------------------------------------------------------------------


def _request_summary(req: Request) -> dict[str, Any]:
    """What an alert says of a request: enough to act on, none of its contents (an e-mail or
    a chat channel is not the place for a case's facts or personal data)."""
    kind = REQUEST_TYPES.get(req.type)
    return {
        "id": str(req.pk),
        "reference": req.reference,
        "type": req.type,
        "title": str(kind.title) if kind else req.type,
        "article": kind.article if kind else "",
        "requesting_state": req.requesting_state,
        "requested_state": req.requested_state,
        "urgent": req.urgent,
        "emergency": is_emergency(req),
        "handling": req.handling,
        "url": f"{settings.NODE.base_url.rstrip('/')}/requests/{req.pk}/",
    }


def _notify(
    users: list[User],
    *,
    req: Request,
    reason: str,
    subject: str,
    body: dict[str, Any],
    urgent: bool,
    moment: datetime,
) -> list[Notification]:
    """One notification per user and channel. Off duty, a user who asked for quiet gets only
    urgent ones (emergencies, escalations); the others are kept, marked held."""
    users = list(dict.fromkeys(users))
    if not users:
        return []
    prefs = {p.user_id: p for p in Preference.objects.filter(user__in=users)}
    on_duty = {s.user_id for s in covering(moment)}
    hooks: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(user__in=users, active=True):
        hooks.setdefault(endpoint.user_id, []).append(endpoint)
    rows = []
    for user in users:
        pref = prefs.get(user.pk) or Preference(user=user)
        held = pref.quiet_off_duty and user.pk not in on_duty and not urgent
        status = Notification.Status.QUIET if held else Notification.Status.PENDING
        targets: list[tuple[str, WebhookEndpoint | None]] = []
        if pref.email and user.email and settings.EMAIL_HOST:
            targets.append((Notification.Channel.EMAIL, None))
        if pref.webhook:
            targets += [(Notification.Channel.WEBHOOK, h) for h in hooks.get(user.pk, [])]
        for channel, hook in targets:
            rows.append(
                Notification(
                    user=user,
                    request=req,
                    reason=reason,
                    channel=channel,
                    webhook=hook,
                    subject=subject[:200],
                    body=body,
                    status=status,
                    created_at=moment,
                    next_attempt_at=moment,
                    key=f"{user.pk}:{req.pk}:{reason}:{channel}:{hook.pk if hook else ''}",
                )
            )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def _local(dt: datetime) -> str:
    return f"{timezone.localtime(dt, node_zone()):%Y-%m-%d %H:%M} ({node_zone()})"


def alert_new_requests(moment: datetime | None = None) -> list[Alert]:
    """Tell the desk about requests that arrived since the last look: the officers on call
    (everyone in the officer role when the roster is empty), and for an emergency the
    supervisors too, whatever their hours."""
    moment = moment or timezone.now()
    fresh = (
        Request.objects.filter(direction=Direction.INCOMING, status=Status.DELIVERED, acknowledged_at__isnull=True)
        .exclude(alerts__reason=Alert.NEW)
        .prefetch_related(Prefetch("deadlines", queryset=Deadline.objects.filter(kind=Deadline.Kind.ACKNOWLEDGEMENT)))
        .order_by("delivered_at")
    )
    sent = []
    on_call = on_call_users(moment)
    for req in fresh[:200]:
        people = list(on_call)
        if not people:
            people = list(local_case_handlers().filter(role=Role.OFFICER))
            log.warning("nobody on call: alerting every officer", extra={"request": req.reference})
        emergency = is_emergency(req)
        if emergency:
            people += list(local_case_handlers().filter(role=Role.SUPERVISOR))
        due = next((d.due_at for d in req.deadlines.all()), None)
        summary = _request_summary(req)
        kind = "EMERGENCY" if emergency else ("Urgent" if req.urgent else "New")
        subject = f"[{kind}] {req.reference} from {req.requesting_state}: {summary['title']}"
        event = "emergency" if emergency else "new_request"
        body = {
            "event": event,
            "request": summary,
            "acknowledge_by": iso(due) if due else None,
            "acknowledge_by_local": _local(due) if due else None,
            "node": settings.NODE.state,
            "at": iso(moment),
        }
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    request=req, reason=Alert.NEW, at=moment, recipients=[u.username for u in dict.fromkeys(people)]
                )
                _notify(people, req=req, reason=event, subject=subject, body=body, urgent=emergency, moment=moment)
        except IntegrityError:  # another worker got there first
            continue
        log.info(
            "desk alerted",
            extra={"request": req.reference, "emergency": emergency, "recipients": alert.recipients},
        )
        sent.append(alert)
    return sent


# -- escalation ---------------------------------------------------------------------------


def rung_people(rung: EscalationRung, moment: datetime) -> list[User]:
    if rung.user_id is not None:
        return [rung.user] if rung.user and rung.user.is_active else []
    if rung.role == ON_CALL:
        return on_call_users(moment) or list(local_case_handlers().filter(role=Role.OFFICER))
    return list(local_case_handlers().filter(role=rung.role))


def escalate_overdue(moment: datetime | None = None) -> list[Escalation]:
    """Incoming requests not acknowledged by their deadline climb the node's ladder: each
    rung fires once, ``after_minutes`` past the deadline, records an ``escalated`` event that
    the requesting State sees (its request is being handled, not ignored; Art. 41), and
    alerts that rung's people."""
    moment = moment or timezone.now()
    rungs = list(EscalationRung.objects.select_related("user").order_by("order"))
    if not rungs:
        return []
    overdue = list(
        Deadline.objects.filter(
            kind=Deadline.Kind.ACKNOWLEDGEMENT,
            met_at__isnull=True,
            due_at__lt=moment,
            request__direction=Direction.INCOMING,
            request__status=Status.DELIVERED,
        ).select_related("request")
    )
    fired = set(
        Escalation.objects.filter(request__in=[d.request_id for d in overdue]).values_list("request_id", "rung_id")
    )
    done = []
    for deadline in overdue:
        for rung in rungs:
            if (deadline.request_id, rung.pk) in fired:
                continue
            if deadline.due_at + timedelta(minutes=rung.after_minutes) > moment:
                continue
            escalation = _fire(deadline, rung, moment)
            if escalation is not None:
                done.append(escalation)
    return done


def _fire(deadline: Deadline, rung: EscalationRung, moment: datetime) -> Escalation | None:
    req = deadline.request
    late = int((moment - deadline.due_at).total_seconds() // 60)
    note = (
        f"Not acknowledged by {iso(deadline.due_at)} (acknowledgement deadline); "
        f"{late} min later the request is raised to: {rung.label}."
    )
    people = rung_people(rung, moment)
    summary = _request_summary(req)
    body = {
        "event": "escalated",
        "level": rung.label,
        "rung": rung.order,
        "request": summary,
        "acknowledge_by": iso(deadline.due_at),
        "acknowledge_by_local": _local(deadline.due_at),
        "minutes_late": late,
        "node": settings.NODE.state,
        "at": iso(moment),
    }
    subject = f"[ESCALATED: {rung.label}] {req.reference} from {req.requesting_state} not acknowledged"
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(request=req, rung=rung, label=rung.label, fired_at=moment)
            cooperation.escalate(req, level=rung.label, note=note)
            _notify(
                people,
                req=req,
                reason=f"escalated:{rung.order}",
                subject=subject,
                body=body,
                urgent=True,
                moment=moment,
            )
    except IntegrityError:  # fired by another worker meanwhile
        return None
    except cooperation.WorkflowError as exc:  # acknowledged (or closed) meanwhile
        log.info("no escalation: %s", exc.message, extra={"request": req.reference})
        return None
    log.warning(
        "request escalated",
        extra={
            "request": req.reference,
            "rung": rung.order,
            "level": rung.label,
            "minutes_late": late,
            "recipients": [u.username for u in people],
        },
    )
    return escalation


# -- sending ------------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`` under the endpoint's secret;
    the receiver recomputes it and refuses old timestamps (replay)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def email_text(n: Notification) -> str:
    body = n.body
    req = body.get("request", {})
    lines = [n.subject, ""]
    if body.get("event") == "escalated":
        lines.append(
            f"It was not acknowledged by {body.get('acknowledge_by_local')} and is now "
            f"{body.get('minutes_late')} min late. You are on the ladder as: {body.get('level')}."
        )
    else:
        lines.append(f"Acknowledge by {body.get('acknowledge_by_local') or '—'}.")
    lines += [
        "",
        f"Reference:  {req.get('reference')}",
        f"Type:       {req.get('title')} ({req.get('article')})",
        f"From:       {req.get('requesting_state')}",
        f"Handling:   {req.get('handling')}",
        f"Open it:    {req.get('url')}",
        "",
        "The request's contents are on the node only; this message carries none of them.",
    ]
    return "\n".join(lines)


def _send_one(n: Notification) -> None:
    if n.channel == Notification.Channel.EMAIL:
        message = EmailMessage(
            subject=n.subject, body=email_text(n), from_email=settings.DEFAULT_FROM_EMAIL, to=[n.user.email]
        )
        message.extra_headers = {"X-Hanoi247-Event": str(n.body.get("event", "")), "X-Hanoi247-Id": str(n.pk)}
        message.send(fail_silently=False)
        return
    assert n.webhook is not None
    payload = json.dumps({"id": str(n.pk), "subject": n.subject, **n.body}, separators=(",", ":")).encode()
    timestamp = int(time.time())
    response = httpx.post(
        n.webhook.url,
        content=payload,
        timeout=5.0,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: webhook_signature(n.webhook.secret, timestamp, payload),
            "X-Hanoi247-Event": str(n.body.get("event", "")),
            "X-Hanoi247-Delivery": str(n.pk),
        },
    )
    if response.status_code >= 300:
        raise OSError(f"webhook answered {response.status_code}")


def send_pending(moment: datetime | None = None) -> int:
    """Send what is due; a failure is retried with back-off, then given up (and logged)."""
    moment = moment or timezone.now()
    due = Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=moment).select_related(
        "user", "webhook"
    )
    sent = 0
    for n in due[:100]:
        # Claim it (a lease), so that a second worker does not send it again.
        claimed = Notification.objects.filter(pk=n.pk, next_attempt_at=n.next_attempt_at).update(
            next_attempt_at=moment + timedelta(seconds=60)
        )
        if not claimed:
            continue
        started = time.monotonic()
        try:
            _send_one(n)
        except Exception as exc:  # SMTP, HTTP and socket errors alike
            attempts = n.attempts + 1
            failed = attempts >= MAX_ATTEMPTS
            Notification.objects.filter(pk=n.pk).update(
                attempts=attempts,
                last_error=str(exc)[:2000],
                status=Notification.Status.FAILED if failed else Notification.Status.PENDING,
                next_attempt_at=moment + timedelta(seconds=5 * 2**attempts),
            )
            log.warning(
                "notification not sent",
                extra={"notification": str(n.pk), "channel": n.channel, "error": str(exc)[:200], "final": failed},
            )
            continue
        Notification.objects.filter(pk=n.pk).update(
            status=Notification.Status.SENT, sent_at=timezone.now(), attempts=n.attempts + 1
        )
        sent += 1
        log.info(
            "notification sent",
            extra={
                "notification": str(n.pk),
                "channel": n.channel,
                "reason": n.reason,
                "user": n.user.username,
                "ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
    return sent


# -- the officer on duty's dashboard ------------------------------------------------------


@dataclass
class Timed:
    """One step of a request's life and how long after submission it came."""

    kind: str
    at: datetime
    after: timedelta | None
    actor: str


def timeline(req: Request, events: list[RequestEvent] | None = None) -> list[Timed]:
    """Every step timed from submission (the emergency path, issue #6 item 5)."""
    events = list(req.events.all()) if events is None else events
    start = req.submitted_at
    out = []
    for e in events:
        if e.kind in {"created", "edited"}:
            continue
        actor = f"{e.actor_name} ({e.actor_role}, {e.actor_state})" if e.actor_name else e.actor_state
        out.append(Timed(e.kind, e.at, e.at - start if start else None, actor))
    return out


def acknowledged_by(req: Request) -> RequestEvent | None:
    return next((e for e in req.events.all() if e.kind == "acknowledged"), None)


@dataclass
class Dashboard:
    emergencies: list[Request] = field(default_factory=list)
    unacknowledged: list[Request] = field(default_factory=list)
    overdue: list[Deadline] = field(default_factory=list)
    due_soon: list[Deadline] = field(default_factory=list)
    our_emergencies: list[Request] = field(default_factory=list)
    on_call: list[Shift] = field(default_factory=list)
    next_shift: Shift | None = None
    zone: str = "UTC"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "emergencies": len(self.emergencies),
            "unacknowledged": len(self.unacknowledged),
            "overdue": len(self.overdue),
            "due_soon": len(self.due_soon),
            "on_call": len(self.on_call),
        }


LIMIT = 100


def dashboard(user: Any, moment: datetime | None = None) -> Dashboard:
    """What the officer on duty must see first: emergencies, then what waits for an
    acknowledgement (most pressing first), overdue deadlines, preservations about to
    expire, and who is on call. A fixed number of queries, however long the lists."""
    if not is_local_case_handler(user):
        return Dashboard()
    moment = moment or timezone.now()
    requests = cooperation.visible_requests(user)
    timed_events = Prefetch(
        "events", queryset=RequestEvent.objects.exclude(kind__in=["created", "edited", "translation_attached"])
    )
    ack = Prefetch(
        "deadlines", queryset=Deadline.objects.filter(kind=Deadline.Kind.ACKNOWLEDGEMENT), to_attr="ack_deadlines"
    )
    open_statuses = [s for s in Status.values if s not in FINAL and s != Status.DRAFT]
    incoming: list[Request] = list(
        requests.filter(direction=Direction.INCOMING, status__in=open_statuses)
        .filter(Q(status=Status.DELIVERED) | Q(type__in=EMERGENCY_TYPES))
        .prefetch_related(ack, "escalations", timed_events)
        .order_by("-submitted_at")[:LIMIT]
    )
    for r in incoming:
        acks = r.ack_deadlines  # type: ignore[attr-defined]
        due = acks[0].due_at if acks else None
        r.ack_due = due  # type: ignore[attr-defined]
        r.ack_overdue = bool(due and due < moment and r.status == Status.DELIVERED)  # type: ignore[attr-defined]
        r.kind = REQUEST_TYPES.get(r.type)  # type: ignore[attr-defined]
        r.steps = timeline(r, list(r.events.all()))  # type: ignore[attr-defined]
    far = moment + timedelta(days=3650)
    emergencies = [r for r in incoming if is_emergency(r)]
    unacknowledged = sorted(
        (r for r in incoming if r.status == Status.DELIVERED),
        key=lambda r: (not is_emergency(r), not r.urgent, r.ack_due or far),  # type: ignore[attr-defined]
    )
    deadlines = list(
        cooperation.open_deadlines(user, within=timedelta(days=7)).exclude(
            kind=Deadline.Kind.ACKNOWLEDGEMENT, request__status=Status.DELIVERED
        )[:LIMIT]
    )
    ours = list(
        requests.filter(
            direction=Direction.OUTGOING, type__in=EMERGENCY_TYPES, submitted_at__gte=moment - timedelta(days=7)
        )
        .prefetch_related(timed_events)
        .order_by("-submitted_at")[:20]
    )
    for r in ours:
        r.steps = timeline(r, list(r.events.all()))  # type: ignore[attr-defined]
        r.ack_event = acknowledged_by(r)  # type: ignore[attr-defined]
    on_call = list(covering(moment))
    next_shift = Shift.objects.filter(starts_at__gt=moment).select_related("user").order_by("starts_at").first()
    return Dashboard(
        emergencies=emergencies,
        unacknowledged=unacknowledged,
        overdue=[d for d in deadlines if d.due_at < moment],
        due_soon=[d for d in deadlines if d.due_at >= moment],
        our_emergencies=ours,
        on_call=on_call,
        next_shift=next_shift,
        zone=str(node_zone()),
    )


# -- calendars (RFC 5545) -----------------------------------------------------------------


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def _ics_time(dt: datetime) -> str:
    return timezone.localtime(dt, ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _calendar(name: str, events: list[dict[str, str]], moment: datetime) -> str:
    host = f"{settings.NODE.state.lower()}.hanoi247"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hanoi 24/7//operations//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event['uid']}@{host}",
            f"DTSTAMP:{_ics_time(moment)}",
            f"DTSTART:{event['start']}",
            f"DTEND:{event['end']}",
            f"SUMMARY:{_ics_text(event['summary'])}",
            f"DESCRIPTION:{_ics_text(event.get('description', ''))}",
        ]
        if event.get("url"):
            lines.append(f"URL:{event['url']}")
        if event.get("alarm"):
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"TRIGGER:{event['alarm']}",
                f"DESCRIPTION:{_ics_text(event['summary'])}",
                "END:VALARM",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def roster_calendar(user: User, moment: datetime | None = None) -> str:
    """The user's own shifts, from 30 days back on."""
    moment = moment or timezone.now()
    shifts = Shift.objects.filter(user=user, ends_at__gte=moment - timedelta(days=30)).order_by("starts_at")
    events = [
        {
            "uid": f"shift-{s.pk}",
            "start": _ics_time(s.starts_at),
            "end": _ics_time(s.ends_at),
            "summary": f"On call: 24/7 point of contact {settings.NODE.state}",
            "description": (f"Handed over: {s.handover_note}" if s.handover_note else "")
            + (f" Channel: {s.public_channel}" if s.public_channel else ""),
            "alarm": "-PT30M",
        }
        for s in shifts
    ]
    return _calendar(f"On call — {user.display()}", events, moment)


def deadline_calendar(user: User, moment: datetime | None = None) -> str:
    """Open deadlines of the node's requests (preservation expiry, follow-up due, ...): the
    reference and the kind, never the contents."""
    moment = moment or timezone.now()
    deadlines = cooperation.open_deadlines(user, within=timedelta(days=400))
    base = settings.NODE.base_url.rstrip("/")
    events = []
    for d in deadlines:
        alarm = "-P7D" if d.kind in {Deadline.Kind.PRESERVATION_EXPIRY, Deadline.Kind.FOLLOW_UP} else "-PT1H"
        events.append(
            {
                "uid": f"deadline-{d.pk}",
                "start": _ics_time(d.due_at),
                "end": _ics_time(d.due_at + timedelta(minutes=15)),
                "summary": f"{d.get_kind_display()}: {d.request.reference} ({d.request.counterpart})",
                "description": f"Whose move: the {d.owner} State.",
                "url": f"{base}/requests/{d.request_id}/",
                "alarm": alarm,
            }
        )
    return _calendar(f"Deadlines — {settings.NODE.state}", events, moment)


# -- metrics (Prometheus text format): counts only, never case data ------------------------


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics(moment: datetime | None = None) -> str:
    from django.db.models import Count, F

    from hanoi247.federation.models import OutboxMessage

    moment = moment or timezone.now()
    out: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, Any], float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            out.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")

    by_status = Request.objects.values("direction", "status").annotate(n=Count("id")).order_by("direction", "status")
    family(
        "hanoi247_requests",
        "gauge",
        "Requests held by this node, by direction and state.",
        [({"direction": r["direction"], "status": r["status"]}, r["n"]) for r in by_status],
    )
    missed = (
        Deadline.objects.filter(Q(met_at__isnull=True, due_at__lt=moment) | Q(met_at__gt=F("due_at")))
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    family(
        "hanoi247_deadlines_missed",
        "gauge",
        "Deadlines met late or still open past their due time, by kind.",
        [({"kind": r["kind"]}, r["n"]) for r in missed],
    )
    overdue = Deadline.objects.filter(met_at__isnull=True, due_at__lt=moment).count()
    family("hanoi247_deadlines_overdue", "gauge", "Deadlines open past their due time.", [({}, overdue)])
    family("hanoi247_escalations_total", "counter", "Escalation rungs fired.", [({}, Escalation.objects.count())])
    pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    oldest = pending.order_by("created_at").values_list("created_at", flat=True).first()
    family("hanoi247_outbox_depth", "gauge", "Messages waiting in the outbox.", [({}, pending.count())])
    family(
        "hanoi247_outbox_oldest_pending_seconds",
        "gauge",
        "Age of the oldest undelivered message.",
        [({}, (moment - oldest).total_seconds() if oldest else 0)],
    )
    delivered = OutboxMessage.objects.filter(status=OutboxMessage.Status.DELIVERED, delivered_at__isnull=False)
    recent = list(delivered.order_by("-delivered_at").values_list("created_at", "delivered_at")[:1000])
    family(
        "hanoi247_delivery_latency_seconds",
        "gauge",
        "Enqueue to receipt of the last 1000 delivered messages, by quantile.",
        [
            ({"quantile": q}, _quantile([(b - a).total_seconds() for a, b in recent if a and b], q))
            for q in (0.5, 0.9, 0.99)
        ],
    )
    family("hanoi247_messages_delivered_total", "counter", "Messages delivered.", [({}, delivered.count())])
    acks = list(
        Request.objects.filter(
            direction=Direction.INCOMING, type__in=EMERGENCY_TYPES, acknowledged_at__isnull=False
        ).values_list("delivered_at", "acknowledged_at")[:1000]
    )
    family(
        "hanoi247_emergency_acknowledgement_seconds",
        "gauge",
        "Arrival to acknowledgement of incoming emergency requests, by quantile.",
        [({"quantile": q}, _quantile([(b - a).total_seconds() for a, b in acks if a and b], q)) for q in (0.5, 0.9)],
    )
    notes = Notification.objects.values("channel", "status").annotate(n=Count("id")).order_by("channel", "status")
    family(
        "hanoi247_notifications",
        "gauge",
        "Notifications by channel and state.",
        [({"channel": r["channel"], "status": r["status"]}, r["n"]) for r in notes],
    )
    family("hanoi247_on_call_now", "gauge", "People on call now.", [({}, len(on_call_users(moment)))])
    return "\n".join(out) + "\n"


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def refresh_peer_on_call(moment: datetime | None = None) -> int:
    """Fetch and verify every peer's on-call document; keep the last good one, and why the
    latest attempt failed. Returns how many were refreshed."""
    moment = moment or timezone.now()
    refreshed = 0
    for peer in directory.peers():
        state = str(peer["state"])
        try:
            document = fetch_on_call(state, timeout=3.0)
        except OperationsError as exc:
            PeerOnCall.objects.update_or_create(state=state, defaults={"checked_at": moment, "error": exc.message})
            continue
        PeerOnCall.objects.update_or_create(
            state=state, defaults={"document": document, "fetched_at": moment, "checked_at": moment, "error": ""}
        )
        refreshed += 1
    return refreshed


def channels_now(document: dict[str, Any], moment: datetime | None = None) -> list[str]:
    """The channels of the windows that cover ``moment`` in a verified on-call document."""
    moment = moment or timezone.now()
    found = set()
    for window in document.get("windows") or []:
        try:
            if parse_time(window["starts_at"]) <= moment < parse_time(window["ends_at"]):
                found.add(str(window["channel"]))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(found)
