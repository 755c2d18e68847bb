"""JSON API for evidence: ``/api/v1/evidence`` (issue #4). Thin: every action is a call to
``services`` or ``transfer``; every refusal is a 4xx with a ``detail``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponseBase, StreamingHttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from hanoi247.accounts.services import acting_user, is_local_case_handler
from hanoi247.evidence import age, case, services, transfer
from hanoi247.evidence.models import EvidenceItem, Transfer, UploadSession
from hanoi247.evidence.services import EvidenceError

router = Router(tags=["evidence"])


class ErrorOut(Schema):
    detail: str
    offset: int | None = None


class UploadIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0, description="Total size in bytes of what will be uploaded")
    media_type: str = "application/octet-stream"
    description: str = ""
    request_id: str = Field(default="", description="The cooperation request this evidence belongs to")
    format: str = Field(default="plain", description="'plain', or 'age' for a file encrypted to this node")


class UploadOut(Schema):
    id: UUID
    status: str
    size: int
    offset: int = Field(description="Bytes held: the next chunk starts here")
    chunk_size: int = Field(description="Suggested chunk size in bytes")
    item_id: UUID | None = None


class CustodyOut(Schema):
    action: str
    at: datetime | str | None
    actor: str
    state: str
    audit_seq: int | None
    audit_hash: str


class EvidenceOut(Schema):
    id: UUID
    title: str
    description: str
    filename: str
    media_type: str
    sha256: str
    size: int
    origin: str
    request_id: str
    source_state: str
    created_at: datetime
    intact: bool
    last_checked_at: datetime | None


class TransferIn(Schema):
    request_id: str = Field(min_length=1, max_length=64)


class TransferOut(Schema):
    id: UUID
    direction: str
    peer: str
    request_id: str
    evidence_id: UUID | None
    status: str
    transferred: int
    blob_size: int
    receipt: str
    error: str


class RecipientOut(Schema):
    recipient: str = Field(description="This node's age recipient (age1…): encrypt files to it to import them")


ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 416: ErrorOut, 422: ErrorOut}

View = Callable[..., Any]


def guarded(view: View) -> View:
    """Case handlers of this node only (anyone else: 404); refusals as 4xx answers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not is_local_case_handler(request.user):
            return Status(404, {"detail": "Not found"})
        try:
            return view(request, *args, **kwargs)
        except EvidenceError as exc:
            return Status(exc.status, {"detail": exc.reason, **exc.extra})
        except Http404:
            return Status(404, {"detail": "Not found"})

    return wrapper


def _upload_out(session: UploadSession) -> dict[str, Any]:
    from django.conf import settings

    return {
        "id": session.pk,
        "status": session.status,
        "size": session.size,
        "offset": session.received,
        "chunk_size": settings.EVIDENCE_CHUNK_BYTES,
        "item_id": session.item_id,
    }


def _transfer_out(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.pk,
        "direction": t.direction,
        "peer": t.peer,
        "request_id": t.request_id,
        "evidence_id": t.item_id,
        "status": t.status,
        "transferred": t.transferred,
        "blob_size": t.blob_size,
        "receipt": t.receipt,
        "error": t.error,
    }


@router.get("/recipient", response={200: RecipientOut, **ERRORS})
@guarded
def recipient(request: HttpRequest) -> Any:
    return {"recipient": services.node_recipient().encode()}


@router.post("/uploads", response={201: UploadOut, **ERRORS})
@guarded
def start_upload(request: HttpRequest, body: UploadIn) -> Any:
    """Open a resumable upload. Then PUT the bytes in chunks, and finish."""
    session = services.start_upload(acting_user(request), **body.dict())
    return Status(201, _upload_out(session))


@router.get("/uploads/{upload_id}", response={200: UploadOut, **ERRORS})
@guarded
def upload_status(request: HttpRequest, upload_id: UUID) -> Any:
    """Where an upload stands: resume by sending the chunk that starts at ``offset``."""
    return _upload_out(services.get_upload(request.user, upload_id))


@router.put("/uploads/{upload_id}", response={200: UploadOut, **ERRORS})
@guarded
def upload_chunk(request: HttpRequest, upload_id: UUID, offset: int) -> Any:
    """One chunk, as the raw request body (``Content-Type: application/octet-stream``),
    starting at byte ``offset``, which must be what the node holds."""
    session = services.get_upload(request.user, upload_id)
    length = _content_length(request)
    services.append_chunk(acting_user(request), session, offset=offset, stream=request, length=length)  # type: ignore[arg-type]
    return _upload_out(session)


def _content_length(request: HttpRequest) -> int:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        raise EvidenceError(411, "Content-Length is required") from None
    if length < 0:
        raise EvidenceError(400, "Content-Length must not be negative")
    return length


@router.post("/uploads/{upload_id}/finish", response={201: EvidenceOut, **ERRORS})
@guarded
def finish_upload(request: HttpRequest, upload_id: UUID) -> Any:
    """Seal the upload: hash and encrypt it in one pass; returns the evidence item."""
    session = services.get_upload(request.user, upload_id)
    return Status(201, services.finish_upload(acting_user(request), session))


@router.delete("/uploads/{upload_id}", response={204: None, **ERRORS})
@guarded
def abort_upload(request: HttpRequest, upload_id: UUID) -> Any:
    services.abort_upload(acting_user(request), services.get_upload(request.user, upload_id))
    return Status(204, None)


@router.get("", response={200: list[EvidenceOut], **ERRORS})
@guarded
def list_evidence(request: HttpRequest, request_id: str | None = None) -> Any:
    qs = services.visible_items(request.user)
    if "\x00" in (request_id or ""):
        return []  # no request id holds a NUL (and PostgreSQL refuses one in a query)
    if request_id:
        qs = qs.filter(request_id=request_id)
    return list(qs[:500])


@router.get("/transfers/{transfer_id}", response={200: TransferOut, **ERRORS})
@guarded
def transfer_status(request: HttpRequest, transfer_id: UUID) -> Any:
    found = Transfer.objects.filter(pk=transfer_id).first()
    if found is None:
        raise Http404
    return _transfer_out(found)


@router.post("/transfers/{transfer_id}/resume", response={202: TransferOut, **ERRORS})
@guarded
def resume_transfer(request: HttpRequest, transfer_id: UUID) -> Any:
    found = Transfer.objects.filter(pk=transfer_id).first()
    if found is None:
        raise Http404
    return Status(202, _transfer_out(transfer.resume(found)))


@router.get("/{item_id}", response={200: EvidenceOut, **ERRORS})
@guarded
def get_evidence(request: HttpRequest, item_id: UUID) -> Any:
    return services.get_item(request.user, item_id)


@router.get("/{item_id}/custody", response={200: list[CustodyOut], **ERRORS})
@guarded
def custody(request: HttpRequest, item_id: UUID) -> Any:
    """The chain of custody, oldest first (the sender's events first for received evidence)."""
    return services.custody(services.get_item(request.user, item_id))


def _download(item: EvidenceItem, stream: Any, *, filename: str, inline: bool = False) -> HttpResponseBase:
    response = StreamingHttpResponse(stream, content_type="application/octet-stream")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response["X-Content-SHA256"] = item.sha256
    # Evidence is never run by the browser, whatever it contains.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@router.get("/{item_id}/content", response={200: None, **ERRORS})
@guarded
def content(request: HttpRequest, item_id: UUID) -> Any:
    """The decrypted evidence (custody: exported). Every chunk is authenticated as it is
    read; a failed check cuts the download short and marks the item corrupt."""
    item = services.get_item(request.user, item_id)
    if not item.intact:
        raise EvidenceError(409, "this evidence failed its integrity check")
    stream = services.content(acting_user(request), item, purpose="exported")
    return _download(item, stream, filename=item.filename)


@router.get("/{item_id}/age", response={200: None, **ERRORS})
@guarded
def export_age(request: HttpRequest, item_id: UUID, recipient: str) -> Any:
    """The evidence as an age file for ``recipient`` (``age1…``): decrypt it with ``age -d``."""
    item = services.get_item(request.user, item_id)
    try:
        to = age.Recipient.parse(recipient)
    except (age.AgeError, ValueError) as exc:
        raise EvidenceError(400, f"recipient: {exc}") from None
    stream = services.export_age(acting_user(request), item, [to])
    return _download(item, stream, filename=item.filename + ".age")


@router.get("/{item_id}/case", response={200: dict[str, Any], **ERRORS})
@guarded
def export_case(request: HttpRequest, item_id: UUID) -> Any:
    """The item and its chain of custody as CASE/UCO JSON-LD (validates with case_validate)."""
    return case.export(acting_user(request), services.get_item(request.user, item_id))


@router.post("/{item_id}/transfers", response={202: TransferOut, **ERRORS})
@guarded
def start_transfer(request: HttpRequest, item_id: UUID, body: TransferIn) -> Any:
    """Send the evidence to the State that made the request, as its answer."""
    item = services.get_item(request.user, item_id)
    return Status(202, _transfer_out(transfer.start(acting_user(request), item, body.request_id)))
