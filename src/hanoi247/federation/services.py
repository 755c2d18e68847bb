"""Sending and receiving federation messages (DESIGN §5, docs/protocol.md)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, close_old_connections, connection, transaction
from django.db.models import Exists, Max, Q
from django.utils import timezone

from hanoi247.directory import services as directory
from hanoi247.federation import keys
from hanoi247.federation.envelope import (
    EnvelopeError,
    Opened,
    new_message,
    open_envelope,
    routing_header,
    seal,
    sign_receipt,
    verify_receipt,
)
from hanoi247.federation.models import InboxMessage, OutboxMessage, RefusedEnvelope

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


def _heads() -> list[OutboxMessage]:
    """The first undelivered message of each (recipient, case): order is kept per case."""
    seen: set[tuple[str, str]] = set()
    heads = []
    pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).order_by("recipient", "case_ref", "seq")
    for row in pending.only("id", "recipient", "case_ref", "seq", "next_attempt_at", "lease_until"):
        if (row.recipient, row.case_ref) in seen:
            continue
        seen.add((row.recipient, row.case_ref))
        heads.append(row)
    return heads


def deliver_due() -> int:
    """Deliver every message whose turn has come. Returns how many were delivered."""
    delivered = 0
    while True:
        moment = timezone.now()
        progress = False
        for head in _heads():
            if head.next_attempt_at > moment or (head.lease_until and head.lease_until > moment):
                continue
            if not _claim(head):
                continue
            progress = True
            if deliver_one(OutboxMessage.objects.get(pk=head.pk)):
                delivered += 1
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
            .update(lease_until=moment + LEASE)
        )


def deliver_one(row: OutboxMessage) -> bool:
    """One delivery attempt of a claimed message."""
    try:
        dirs = directory.require_current()
        entry = dirs.node(row.recipient)
        enc = dirs.encryption_jwk(row.recipient)
        if entry is None or enc is None:
            raise EnvelopeError(0, "unknown_recipient", f"{row.recipient} is not in the directory")
        token = seal(row.message, signing_key=keys.signing_key(), recipient_key=enc)
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
            last_error="",
        )
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
        enc = keys.encryption_key()
        opened = open_envelope(
            token,
            me=settings.NODE.state,
            my_keys={str(enc.kid): enc},
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
