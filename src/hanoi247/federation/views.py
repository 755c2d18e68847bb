from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.models import CASE_ROLES, Role
from hanoi247.federation import services
from hanoi247.federation.envelope import iso
from hanoi247.federation.models import DeliveryAlert, OutboxMessage


@csrf_exempt
@require_POST
def inbox(request: HttpRequest) -> HttpResponse:
    """POST /federation/v1/inbox — one compact JWE envelope as the body."""
    try:
        token = request.body.decode("ascii").strip()
    except RequestDataTooBig:
        # Django refuses to read a body this large at all; answer like any other refusal.
        token = "x" * (settings.FEDERATION_MAX_ENVELOPE_BYTES + 1)
    except UnicodeDecodeError:
        token = "\x00"  # noqa: S105 — not ASCII, so not a compact JWE: refused as malformed below
    status, answer = services.receive(token, remote_addr=request.META.get("REMOTE_ADDR", ""))
    return JsonResponse(answer, status=status)


@csrf_exempt
@require_POST
def ping(request: HttpRequest) -> HttpResponse:
    """A raw POST that reads its body and does nothing else: the baseline the delivery
    benchmark compares a full federation round trip with."""
    return JsonResponse({"bytes": len(request.body)})


def _watches_the_outbox(user: Any) -> bool:
    """This node's node administrators and case handlers (and, at the secretariat, its
    staff): the undelivered list names cases and peers, never a message's content."""
    allowed = {*CASE_ROLES, Role.NODE_ADMIN, Role.SECRETARIAT}
    return bool(user.role in allowed and user.state == settings.NODE.state)


def _row(row: OutboxMessage) -> dict[str, Any]:
    alert = getattr(row, "alert", None)
    return {
        "message_id": str(row.message_id),
        "type": row.type,
        "recipient": row.recipient,
        "case_ref": row.case_ref,
        "seq": row.seq,
        "queued_at": iso(row.created_at),
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at),
        "last_error": row.last_error,
        "max_wait_seconds": int(services.allowed_wait(row.type).total_seconds()),
        "alert": {"raised_at": iso(alert.raised_at), "waited_seconds": alert.waited_seconds} if alert else None,
    }


@only_for(_watches_the_outbox)
def outbox(request: HttpRequest) -> HttpResponse:
    """GET /network/outbox/ — messages that have not reached their recipient yet."""
    rows = [_row(r) for r in services.undelivered()]
    alerts = DeliveryAlert.objects.filter(resolved_at__isnull=True).count()
    return render(request, "federation/outbox.html", {"rows": rows, "open_alerts": alerts})


@only_for(_watches_the_outbox)
def outbox_json(request: HttpRequest) -> HttpResponse:
    """GET /network/outbox/undelivered.json — the same list for scripts and monitoring."""
    return JsonResponse({"undelivered": [_row(r) for r in services.undelivered()]})
