"""Sending and receiving federation messages (DESIGN §5, docs/protocol.md)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, close_old_connections, connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from hanoi247.directory import services as directory
from hanoi247.federation import keys
from hanoi247.federation.envelope import (
    EnvelopeError,
    Opened,
    iso,
    new_message,
    open_envelope,
    parse_time,
    routing_header,
    seal,
    sign_receipt,
    verify_receipt,
)
from hanoi247.federation.models import DeliveryAlert, InboxMessage, OutboxMessage, RefusedEnvelope

log = logging.getLogger("hanoi247.federation")

INBOX_PATH = "/federation/v1/inbox"
LEASE = timedelta(seconds=60)

# Message type -> function applying a received message to this node's records. It runs in
# the transaction that stores the message; raising EnvelopeError refuses the message.
Handler = Callable[[dict[str, Any]], None]
RECEIVE_HANDLERS: dict[str, Handler] = {}
# Message type -> function run (in a transaction) once the recipient's receipt is verified.
DeliveredHook = Callable[[OutboxMessage, dict[str, Any]], None]
DELIVERED_HOOKS: dict[str, DeliveredHook] = {}


def on_receive(message_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        RECEIVE_HANDLERS[message_type] = fn
        return fn

    return register


PERIODIC: dict[str, tuple[float, Callable[[], Any]]] = {}


def periodic(every_seconds: float) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a task the worker runs every ``every_seconds`` (e.g. lapsing preservations)."""

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        PERIODIC[f"{fn.__module__}.{fn.__qualname__}"] = (every_seconds, fn)
        return fn

    return register


def on_delivered(message_type: str) -> Callable[[DeliveredHook], DeliveredHook]:
    def register(fn: DeliveredHook) -> DeliveredHook:
        DELIVERED_HOOKS[message_type] = fn
        return fn

    return register


# How long a message of each type may wait undelivered before an alert is raised (DESIGN
# §5). Other apps add their types with ``max_wait()``; ``DEFAULT_MAX_WAIT`` covers the rest.
DEFAULT_MAX_WAIT = timedelta(hours=1)
MAX_WAIT: dict[str, timedelta] = {
    "request.submitted": timedelta(minutes=15),  # a 24/7 request: minutes count (Art. 41)
    "request.event": timedelta(minutes=30),
    "transfer.asked": timedelta(hours=1),
    "transfer.decided": timedelta(hours=1),
    "statistics.report": timedelta(days=1),
    "federation.probe": timedelta(minutes=5),
}


def max_wait(message_type: str, wait: timedelta) -> None:
    """Say how long a message of ``message_type`` may stay undelivered before an alert."""
    MAX_WAIT[message_type] = wait


def allowed_wait(message_type: str) -> timedelta:
    return MAX_WAIT.get(message_type, DEFAULT_MAX_WAIT)


# Functions told of every alert raised, after its transaction commits (e-mail: issue #6).
AlertHook = Callable[[DeliveryAlert], None]
ALERT_HOOKS: list[AlertHook] = []


def on_alert(fn: AlertHook) -> AlertHook:
    ALERT_HOOKS.append(fn)
    return fn


# -- sending ------------------------------------------------------------------------------


def enqueue(*, type: str, recipient: str, case_ref: str, body: dict[str, Any], handling: str) -> OutboxMessage:
    """Queue a message in the caller's transaction; it leaves only if that commits.
    ``handling`` is the message's TLP 2.0 code (``envelope.HANDLING_CODES``).

    When it is the only undelivered message of its case, it is leased to this process at
    once and delivered right after commit (the "kick"); the worker steps in only if that
    fails (the lease then runs out). Otherwise the worker delivers the case in order."""
    with transaction.atomic():
        pending = OutboxMessage.objects.filter(recipient=recipient, case_ref=case_ref)
        last = pending.aggregate(m=Max("seq"))["m"]
        seq = (last or 0) + 1
        first_in_line = last is None or not pending.filter(status=OutboxMessage.Status.PENDING).exists()
        message = new_message(
            type=type,
            sender=settings.NODE.state,
            recipient=recipient,
            body=body,
            case_ref=case_ref,
            seq=seq,
            ttl=timedelta(seconds=settings.FEDERATION_MESSAGE_TTL_SECONDS),
            handling=handling,
        )
        moment = timezone.now()
        row = OutboxMessage.objects.create(
            message_id=message["id"],
            type=type,
            recipient=recipient,
            case_ref=case_ref,
            seq=seq,
            message=message,
            next_attempt_at=moment,
            lease_until=moment + LEASE if first_in_line else None,
            lease_owner=lease_owner() if first_in_line else "",
        )
        if first_in_line:
            transaction.on_commit(lambda: kick(row))
    return row


_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="h247-deliver")


def kick(row: OutboxMessage) -> None:
    """Deliver a message leased to this process now, in its background, instead of
    waiting for the worker's next poll."""
    _executor.submit(_deliver_now, row)


def _deliver_now(row: OutboxMessage) -> None:
    close_old_connections()
    try:
        deliver_one(row)
    except Exception:  # the worker will retry; a kick must never take the process down
        log.exception("immediate delivery failed")
    finally:
        close_old_connections()


_client: httpx.Client | None = None


def client() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
    return _client


def lease_owner() -> str:
    """Who holds a lease: this host and process (see ``release_dead_leases``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


_PENDING = OutboxMessage.Status.PENDING
_HEAD_FIELDS = ("id", "recipient", "case_ref", "seq", "next_attempt_at", "lease_until")


def _heads() -> list[OutboxMessage]:
    """The first undelivered message of each (recipient, case): order is kept per case."""
    earlier = OutboxMessage.objects.filter(
        recipient=OuterRef("recipient"), case_ref=OuterRef("case_ref"), seq__lt=OuterRef("seq"), status=_PENDING
    )
    heads = OutboxMessage.objects.filter(status=_PENDING).filter(~Exists(earlier)).order_by("next_attempt_at")
    return list(heads.only(*_HEAD_FIELDS))


def _due(row: OutboxMessage, moment: datetime) -> bool:
    return row.next_attempt_at <= moment and not (row.lease_until and row.lease_until > moment)


def deliver_due(*, burst: int = 32) -> int:
    """Deliver every message whose turn has come. Returns how many were delivered.

    Cases take turns: each gets up to ``burst`` messages in a row, then the next case."""
    delivered = 0
    while True:
        progress = False
        for head in _heads():
            row: OutboxMessage | None = head
            for _ in range(burst):
                if row is None or not _due(row, timezone.now()) or not _claim(row):
                    break
                progress = True
                if not deliver_one(OutboxMessage.objects.get(pk=row.pk)):
                    break
                delivered += 1
                row = (
                    OutboxMessage.objects.filter(recipient=row.recipient, case_ref=row.case_ref, status=_PENDING)
                    .order_by("seq")
                    .only(*_HEAD_FIELDS)
                    .first()
                )
        if not progress:
            return delivered


def _claim(row: OutboxMessage) -> bool:
    """Take a lease on ``row`` if it is pending, not leased, and first in its case."""
    moment = timezone.now()
    earlier = OutboxMessage.objects.filter(
        recipient=row.recipient, case_ref=row.case_ref, seq__lt=row.seq, status=OutboxMessage.Status.PENDING
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A lease lost in a crash only expires; it need not wait for the disk. (The
            # message itself was committed durably with the change that queued it.)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return bool(
            OutboxMessage.objects.filter(pk=row.pk, status=OutboxMessage.Status.PENDING)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=moment))
            .filter(~Exists(earlier))
            .update(lease_until=moment + LEASE, lease_owner=lease_owner())
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    return True


def release_dead_leases() -> int:
    """Take back at once the leases held by processes of this host that no longer run
    (killed, crashed): their messages need not wait for the lease to run out. Leases of
    other hosts (several web hosts on one PostgreSQL) only expire."""
    host = socket.gethostname() + ":"
    owners = (
        OutboxMessage.objects.filter(status=_PENDING, lease_until__gt=timezone.now(), lease_owner__startswith=host)
        .values_list("lease_owner", flat=True)
        .distinct()
    )
    released = 0
    for owner in list(owners):
        pid = owner.rsplit(":", 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            count = OutboxMessage.objects.filter(status=_PENDING, lease_owner=owner).update(
                lease_until=None, lease_owner=""
            )
            log.warning("took back %d message(s) leased by %s, which no longer runs", count, owner)
            released += count
    return released


@periodic(every_seconds=5)
def _release_dead_leases() -> None:
    release_dead_leases()


def _fresh(row: OutboxMessage) -> dict[str, Any]:
    """The message to seal now. ``expires_at`` bounds how long an envelope can be replayed;
    a message still pending when little of it is left gets a later one, signed anew, so
    that it is never refused as expired and never blocks its case (ADR 0011). Its id,
    seq, created_at and body never change."""
    ttl = timedelta(seconds=settings.FEDERATION_MESSAGE_TTL_SECONDS)
    moment = timezone.now()
    try:
        left = parse_time(row.message["expires_at"]) - moment
    except (KeyError, ValueError):
        left = timedelta(0)
    if left >= max(ttl / 2, timedelta(seconds=60)):
        return row.message
    message = dict(row.message, expires_at=iso(moment + ttl))
    OutboxMessage.objects.filter(pk=row.pk, status=_PENDING).update(message=message)
    log.info("message %s to %s: expiry renewed to %s", row.message_id, row.recipient, message["expires_at"])
    row.message = message
    return message


def deliver_one(row: OutboxMessage) -> bool:
    """One delivery attempt of a claimed message."""
    try:
        dirs = directory.require_current()
        entry = dirs.node(row.recipient)
        enc = dirs.encryption_jwk(row.recipient)
        if entry is None or enc is None:
            raise EnvelopeError(0, "unknown_recipient", f"{row.recipient} is not in the directory")
        token = seal(_fresh(row), signing_key=keys.signing_key(), recipient_key=enc)
        response = client().post(
            entry["base_url"].rstrip("/") + INBOX_PATH,
            content=token,
            headers={"Content-Type": "application/jose"},
        )
        answer = _json(response)
        if response.status_code == 200 or (response.status_code == 409 and answer.get("error") == "duplicate"):
            receipt = str(answer.get("receipt", ""))
            body = verify_receipt(
                receipt, recipient_key=dirs.key, recipient=row.recipient, message_id=str(row.message_id)
            )
            _mark_delivered(row, receipt, body)
            return True
        raise EnvelopeError(
            response.status_code,
            str(answer.get("error", "http")),
            f"HTTP {response.status_code}: {answer.get('reason', response.text[:200])}",
        )
    except (EnvelopeError, directory.DirectoryError, httpx.HTTPError) as exc:
        _retry_later(row, f"{type(exc).__name__}: {exc}")
        return False


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _mark_delivered(row: OutboxMessage, receipt: str, body: dict[str, Any]) -> None:
    with transaction.atomic():
        # Only the first of two senders (a late kick and the worker) records the delivery.
        first = OutboxMessage.objects.filter(pk=row.pk, status=OutboxMessage.Status.PENDING).update(
            status=OutboxMessage.Status.DELIVERED,
            delivered_at=timezone.now(),
            receipt=receipt,
            attempts=row.attempts + 1,
            lease_until=None,
            lease_owner="",
            last_error="",
        )
        if first:
            DeliveryAlert.objects.filter(message_id=row.pk, resolved_at__isnull=True).update(resolved_at=timezone.now())
        hook = DELIVERED_HOOKS.get(row.type)
        if first and hook:
            hook(row, body)


def _retry_later(row: OutboxMessage, error: str) -> None:
    attempts = row.attempts + 1
    delay = min(settings.FEDERATION_RETRY_BASE_SECONDS * 2 ** (attempts - 1), settings.FEDERATION_RETRY_MAX_SECONDS)
    log.warning(
        "delivery of %s to %s failed (attempt %d, next in %.0fs): %s",
        row.message_id,
        row.recipient,
        attempts,
        delay,
        error,
    )
    OutboxMessage.objects.filter(pk=row.pk).update(
        attempts=attempts,
        last_error=error[:2000],
        lease_until=None,
        lease_owner="",
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )


# -- receiving ----------------------------------------------------------------------------


def _sender_key(state: str, kid: str) -> Any:
    dirs = directory.current()
    if dirs is None or dirs.stale:
        # Our problem, not the sender's: say so, so that it retries instead of giving up.
        raise EnvelopeError(503, "directory_stale", "this node holds no current directory to verify senders")
    return dirs.key(state, kid)


def receive(token: str, *, remote_addr: str = "") -> tuple[int, dict[str, Any]]:
    """Verify, check, store and apply one envelope; answer with a signed receipt or a
    refusal. Nothing refused is stored; every refusal is logged with its reason."""
    digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    claimed = message_id = ""
    with contextlib.suppress(EnvelopeError):
        claimed = str(routing_header(token).get("h247_sender", ""))
    try:
        if len(token) > settings.FEDERATION_MAX_ENVELOPE_BYTES:
            raise EnvelopeError(413, "too_large", "envelope exceeds the size limit")
        opened = open_envelope(
            token,
            me=settings.NODE.state,
            my_keys=keys.decryption_keys(),
            sender_key=_sender_key,
            skew=timedelta(seconds=settings.FEDERATION_CLOCK_SKEW_SECONDS),
        )
        claimed, message_id = opened.message["sender"], opened.message["id"]
        return 200, {"receipt": _store(opened)}
    except EnvelopeError as exc:
        answer: dict[str, Any] = {"error": exc.code, "reason": exc.reason}
        if exc.code == "duplicate":
            answer["receipt"] = (
                InboxMessage.objects.filter(message_id=message_id).values_list("receipt", flat=True).first()
            )
            if answer["receipt"] is None:  # a conflict on something else than this message
                answer["error"] = "conflict"
        log.warning(
            "refused envelope %s from %s: %s (%s)", digest[:16], claimed or remote_addr, answer["error"], exc.reason
        )
        RefusedEnvelope.objects.create(
            code=answer["error"],
            reason=exc.reason[:2000],
            claimed_sender=claimed[:16],
            envelope_sha256=digest,
            remote_addr=remote_addr[:64],
        )
        return exc.status, answer


def _store(opened: Opened) -> str:
    message = opened.message
    handler = RECEIVE_HANDLERS.get(message["type"])
    if handler is None:
        raise EnvelopeError(422, "unknown_type", f"message type {message['type']!r} is not understood")
    try:
        with transaction.atomic():
            last = (
                InboxMessage.objects.filter(sender=message["sender"], case_ref=message["case_ref"]).aggregate(
                    m=Max("seq")
                )["m"]
                or 0
            )
            if message["seq"] <= last:
                # A retransmission of what we hold (its receipt was lost), or a replay.
                if InboxMessage.objects.filter(message_id=message["id"]).exists():
                    raise EnvelopeError(409, "duplicate", f"message {message['id']} was already received")
                raise EnvelopeError(
                    409, "replay", f"sequence {message['seq']} of case {message['case_ref']} was already used"
                )
            if message["seq"] != last + 1:
                raise EnvelopeError(409, "out_of_order", f"expected sequence {last + 1}, got {message['seq']}")
            received_at = timezone.now()
            receipt = sign_receipt(opened, signing_key=keys.signing_key(), received_at=received_at)
            InboxMessage.objects.create(
                message_id=message["id"],
                type=message["type"],
                sender=message["sender"],
                case_ref=message["case_ref"],
                seq=message["seq"],
                message=message,
                signed=opened.signed,
                envelope_sha256=opened.digest,
                received_at=received_at,
                receipt=receipt,
            )
            handler(message)
    except (ValidationError, DataError) as exc:
        # What the ORM refuses (a malformed id, a value too long for its column) is the
        # sender's error, and the transaction has rolled back: nothing is stored.
        raise EnvelopeError(422, "invalid_body", f"message body does not fit: {exc}") from None
    except IntegrityError:
        raise EnvelopeError(409, "duplicate", f"message {message['id']} was already received") from None
    log.info(
        "received %s %s from %s (case %s, seq %d)",
        message["type"],
        message["id"],
        message["sender"],
        message["case_ref"],
        message["seq"],
    )
    return receipt


# -- watching the outbox ------------------------------------------------------------------


def undelivered() -> list[OutboxMessage]:
    """Every message still waiting, oldest first, with the reason its last attempt failed
    and its alert if one was raised. Routing data only: no body."""
    rows = OutboxMessage.objects.filter(status=_PENDING).select_related("alert").order_by("created_at", "seq")
    return list(rows.defer("message", "receipt"))


def raise_alerts(*, at: datetime | None = None, limit: int = 1000) -> list[DeliveryAlert]:
    """Raise one alert for each pending message that has waited longer than its type
    allows (``MAX_WAIT``): recorded, logged at ERROR, and passed to the ``on_alert`` hooks
    after commit."""
    moment = at or timezone.now()
    raised: list[DeliveryAlert] = []
    types = set(OutboxMessage.objects.filter(status=_PENDING).values_list("type", flat=True).distinct())
    for message_type in sorted(types):
        allowed = allowed_wait(message_type)
        overdue = OutboxMessage.objects.filter(
            status=_PENDING, type=message_type, created_at__lte=moment - allowed, alert__isnull=True
        ).defer("message", "receipt")
        for row in overdue[: limit - len(raised)]:
            with transaction.atomic():
                alert, made = DeliveryAlert.objects.get_or_create(
                    message=row,
                    defaults={
                        "raised_at": moment,
                        "waited_seconds": int((moment - row.created_at).total_seconds()),
                        "allowed_seconds": int(allowed.total_seconds()),
                        "last_error": row.last_error,
                    },
                )
                if made:
                    transaction.on_commit(functools.partial(_tell, alert))
            if made:
                log.error(
                    "undelivered: %s %s to %s (case %s, seq %d) has waited %ds, more than the %ds allowed; "
                    "last attempt: %s",
                    row.type,
                    row.message_id,
                    row.recipient,
                    row.case_ref,
                    row.seq,
                    alert.waited_seconds,
                    alert.allowed_seconds,
                    row.last_error or "none yet",
                )
                raised.append(alert)
        if len(raised) >= limit:
            break
    return raised


def _tell(alert: DeliveryAlert) -> None:
    for hook in ALERT_HOOKS:
        try:
            hook(alert)
        except Exception:  # one broken hook must not hide the alert from the others
            log.exception("alert hook %s failed", getattr(hook, "__qualname__", hook))


@periodic(every_seconds=15)
def _raise_alerts() -> None:
    raise_alerts()


# -- federation.probe: a message that only tests the path -----------------------------------

PROBE = "federation.probe"


def send_probe(*, recipient: str, case_ref: str, n: int, note: str = "") -> OutboxMessage:
    """Queue a probe: a message that does nothing but travel, to check the path to a peer
    (operators, the fault tests and bench/soak.py). It goes through the outbox like any
    other message."""
    return enqueue(
        type=PROBE, recipient=recipient, case_ref=case_ref, body={"n": n, "note": note}, handling="TLP:CLEAR"
    )


@on_receive(PROBE)
def _receive_probe(message: dict[str, Any]) -> None:
    body = message["body"]
    if set(body) != {"n", "note"} or not isinstance(body["n"], int) or not isinstance(body["note"], str):
        raise EnvelopeError(422, "invalid_body", "a probe body is {n: integer, note: string}")
    if len(body["note"]) > 200:
        raise EnvelopeError(422, "invalid_body", "a probe note is at most 200 characters")
