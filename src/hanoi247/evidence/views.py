"""Evidence pages (officers) and the node-to-node transfer endpoint. Views parse and
render; services change state."""

from __future__ import annotations

import json
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.services import acting_user, is_local_case_handler
from hanoi247.evidence import case, services, transfer
from hanoi247.evidence.models import Transfer
from hanoi247.evidence.services import EvidenceError

# Signed in with the second factor, and a case handler of this node's State — or 404.
case_handler = only_for(is_local_case_handler)


def _error(exc: EvidenceError) -> JsonResponse:
    return JsonResponse({"detail": exc.reason, **exc.extra}, status=exc.status)


@case_handler
def evidence_list(request: HttpRequest) -> HttpResponse:
    items = list(services.visible_items(request.user)[:200])
    return render(
        request,
        "evidence/list.html",
        {"items": items, "recipient": services.node_recipient().encode(), "request_id": request.GET.get("request", "")},
    )


@case_handler
def detail(request: HttpRequest, item_id: UUID) -> HttpResponse:
    item = services.get_item(request.user, item_id)
    transfers = Transfer.objects.filter(item=item).order_by("-created_at")
    return render(
        request,
        "evidence/detail.html",
        {"item": item, "custody": services.custody(item), "transfers": transfers},
    )


@case_handler
def download(request: HttpRequest, item_id: UUID) -> HttpResponse:
    """The decrypted file (custody: exported), or shown in the browser (custody: opened)."""
    item = services.get_item(request.user, item_id)
    if not item.intact:
        raise Http404("This evidence failed its integrity check")
    inline = request.GET.get("inline") == "1"
    stream = services.content(acting_user(request), item, purpose="opened" if inline else "exported")
    response = StreamingHttpResponse(stream, content_type="text/plain" if inline else "application/octet-stream")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{item.filename}"'
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return cast(HttpResponse, response)  # only_for types views as returning HttpResponse


@case_handler
def case_export(request: HttpRequest, item_id: UUID) -> HttpResponse:
    item = services.get_item(request.user, item_id)
    response = JsonResponse(case.export(acting_user(request), item), json_dumps_params={"indent": 2})
    response["Content-Type"] = "application/ld+json"
    response["Content-Disposition"] = f'attachment; filename="{item.pk}.case.jsonld"'
    return response


@case_handler
@require_POST
def send(request: HttpRequest, item_id: UUID) -> HttpResponse:
    item = services.get_item(request.user, item_id)
    try:
        transfer.start(acting_user(request), item, request.POST.get("request_id", "").strip())
        messages.success(request, gettext("Transfer started."))
    except EvidenceError as exc:
        messages.error(request, exc.reason)
    return redirect("evidence:detail", item_id=item.pk)


# -- the browser's chunked upload (static/hanoi247/evidence-upload.js) ---------------------------


@case_handler
@require_POST
def upload_start(request: HttpRequest) -> HttpResponse:
    try:
        data: dict[str, Any] = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("not an object")
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            raise ValueError("size must be an integer")
        session = services.start_upload(
            acting_user(request),
            title=str(data.get("title") or data.get("filename") or ""),
            filename=str(data.get("filename") or ""),
            size=size,
            media_type=str(data.get("media_type") or "application/octet-stream"),
            description=str(data.get("description") or ""),
            request_id=str(data.get("request_id") or ""),
            format=str(data.get("format") or "plain"),
        )
    except ValueError as exc:
        return JsonResponse({"detail": f"bad upload: {exc}"}, status=400)
    except EvidenceError as exc:
        return _error(exc)
    return JsonResponse({"id": str(session.pk), "offset": 0, "chunk_size": 8 << 20}, status=201)


@case_handler
@require_http_methods(["GET", "PUT"])
def upload_chunk(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    session = services.get_upload(request.user, upload_id)
    if request.method == "PUT":
        try:
            offset = int(request.GET.get("offset", ""))
            length = int(request.META.get("CONTENT_LENGTH") or "")
            services.append_chunk(acting_user(request), session, offset=offset, stream=request, length=length)  # type: ignore[arg-type]
        except ValueError:
            return JsonResponse({"detail": "offset and Content-Length must be integers"}, status=400)
        except EvidenceError as exc:
            return _error(exc)
    return JsonResponse({"id": str(session.pk), "offset": session.received, "size": session.size})


@case_handler
@require_POST
def upload_finish(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    session = services.get_upload(request.user, upload_id)
    try:
        item = services.finish_upload(acting_user(request), session)
    except EvidenceError as exc:
        return _error(exc)
    return JsonResponse({"id": str(item.pk), "url": item_url(item.pk)}, status=201)


def item_url(item_id: Any) -> str:
    from django.urls import reverse

    return reverse("evidence:detail", args=[item_id])


# -- node to node ------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["HEAD", "GET", "PUT"])
def federation_transfer(request: HttpRequest, transfer_id: UUID) -> HttpResponse:
    """/federation/v1/evidence/<transfer_id>: another node uploading evidence to this one,
    authorised by its signed manifest (see evidence/transfer.py)."""
    try:
        found = transfer.accept_manifest(str(transfer_id), request.headers.get("Authorization", ""))
        if request.method == "PUT":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or "0")
            except ValueError:
                raise EvidenceError(411, "Content-Length is required") from None
            status, answer = transfer.receive_range(found, request.headers.get("Content-Range", ""), request, length)  # type: ignore[arg-type]
        else:
            status, answer = 200, transfer.status(found)
    except EvidenceError as exc:
        status, answer = exc.status, {"detail": exc.reason, **exc.extra}
    response = JsonResponse(answer, status=status)
    if "offset" in answer:
        response["Upload-Offset"] = str(answer["offset"])
    return response
