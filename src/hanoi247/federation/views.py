from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hanoi247.federation import services


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
