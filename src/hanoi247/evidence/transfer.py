"""Evidence between States: resumable chunked upload to the recipient node, bound by a
manifest the sender signs (DESIGN §5, docs/evidence.md).

    PUT  /federation/v1/evidence/<transfer_id>   Content-Range: bytes a-b/total
    HEAD /federation/v1/evidence/<transfer_id>   → Upload-Offset: n (resume from there)
    Authorization: H247-Manifest <compact JWS of the manifest>

The payload is the sender's age file with a new header for the recipient's X25519 key (the
file key re-wrapped; the payload is not re-encrypted). The recipient accepts bytes only at
the offset it holds; when the last byte arrives it decrypts everything with its own
identity, checks size and SHA-256 against the manifest, and only then records the evidence
as received and verified and answers with a signed receipt. Anything else is refused.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import IO, Any

import httpx
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from joserfc import jws
from joserfc.errors import JoseError

from hanoi247.accounts.models import User
from hanoi247.directory import services as directory
from hanoi247.evidence import age, services
from hanoi247.evidence.models import EvidenceItem, Origin, Transfer
from hanoi247.evidence.services import EvidenceError
from hanoi247.federation import keys
from hanoi247.federation.envelope import JWS_REGISTRY, SIGN_ALG, canonical, iso, parse_time

log = logging.getLogger("hanoi247.evidence")

PATH = "/federation/v1/evidence/"
MANIFEST_TYP = "hanoi247-evidence-manifest+jws"
RECEIPT_TYP = "hanoi247-evidence-receipt+jws"
MANIFEST_FIELDS = {
    "v",
    "transfer_id",
    "evidence_id",
    "request_id",
    "sender",
    "recipient",
    "title",
    "filename",
    "media_type",
    "size",
    "sha256",
    "blob_size",
    "created_at",
    "expires_at",
    "custody",
}
MANIFEST_TTL = timedelta(days=7)


def _sign(body: dict[str, Any], typ: str) -> str:
    key = keys.signing_key()
    return jws.serialize_compact(
        {"alg": SIGN_ALG, "kid": key.kid, "typ": typ}, canonical(body), key, registry=JWS_REGISTRY
    )


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        head, payload, _ = token.split(".")
        decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
        header, body = decode(head), decode(payload)
    except (ValueError, UnicodeDecodeError):
        raise EvidenceError(400, "not a compact JWS") from None
    if not isinstance(header, dict) or not isinstance(body, dict):
        raise EvidenceError(400, "not a compact JWS")
    return header, body


def verify_signed(token: str, *, typ: str, signer: str) -> dict[str, Any]:
    """The body of a JWS signed by ``signer``'s key as the directory gives it."""
    header, _ = _unverified(token)
    if header.get("typ") != typ:
        raise EvidenceError(400, f"expected a {typ}")
    dirs = directory.current()
    if dirs is None or dirs.stale:
        raise EvidenceError(503, "this node holds no current directory to verify the signature")
    key = dirs.key(signer, str(header.get("kid")))
    if key is None:
        raise EvidenceError(403, f"no directory key {header.get('kid')!r} for {signer!r}")
    try:
        body: dict[str, Any] = json.loads(jws.deserialize_compact(token, key, registry=JWS_REGISTRY).payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise EvidenceError(403, f"signature does not verify: {exc}") from None
    return body


# -- sending ---------------------------------------------------------------------------------


def start(user: User, item: EvidenceItem, request_id: str) -> Transfer:
    """Send ``item`` to the State that made request ``request_id``, as (part of) the answer.
    The transfer runs in the background; it resumes where it stopped (``resume``)."""
    req = services.find_request(user, request_id)
    recipient = str(req.requesting_state)
    if recipient == settings.NODE.state:
        raise EvidenceError(409, "this node made that request: evidence goes to the State that requested it")
    if not item.intact:
        raise EvidenceError(409, "this evidence failed its integrity check and cannot be sent")
    dirs = directory.require_current()
    enc = dirs.encryption_jwk(recipient)
    if enc is None or dirs.node(recipient) is None:
        raise EvidenceError(409, f"{recipient} is not in the directory")
    raw = enc["x"]
    to = age.Recipient(X25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))))
    with services.storage().open(item.blob_name, "rb") as src:
        old, _ = age.read_header(src)  # type: ignore[arg-type]
    header = age.rewrap(old, services.node_identities(), [to])
    transfer_id = age_uuid()
    created = timezone.now()
    blob_size = len(header) + item.blob_size - len(old.raw)
    manifest: dict[str, Any] = {
        "v": 1,
        "transfer_id": transfer_id,
        "evidence_id": str(item.pk),
        "request_id": str(req.pk),
        "sender": settings.NODE.state,
        "recipient": recipient,
        "title": item.title,
        "filename": item.filename,
        "media_type": item.media_type,
        "size": item.size,
        "sha256": item.sha256,
        "blob_size": blob_size,
        "created_at": iso(created),
        "expires_at": iso(created + MANIFEST_TTL),
        "custody": [
            {"action": e.action, "at": iso(e.at), "actor": e.actor, "sha256": item.sha256, "audit_hash": e.audit_hash}
            for e in services.custody(item)
            if e.audit_seq is not None
        ],
    }
    with transaction.atomic():
        transfer = Transfer.objects.create(
            id=transfer_id,
            direction=Transfer.Direction.OUTGOING,
            peer=recipient,
            request_id=str(req.pk),
            item=item,
            manifest=_sign(manifest, MANIFEST_TYP),
            blob_size=blob_size,
            status=Transfer.Status.SENDING,
            created_by=user,
        )
        _header_path(transfer).write_bytes(header)
        transaction.on_commit(lambda: kick(transfer))
    return transfer


def age_uuid() -> str:
    from hanoi247.federation.envelope import uuid7

    return str(uuid7())


def _header_path(transfer: Transfer) -> Any:
    return services.staging_path(f"out-{transfer.pk}.hdr")


_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="h247-evidence")


def kick(transfer: Transfer) -> None:
    _executor.submit(_send_in_background, transfer.pk)


def _send_in_background(transfer_id: Any) -> None:
    close_old_connections()
    try:
        send(Transfer.objects.get(pk=transfer_id))
    except Exception:
        log.exception("evidence transfer %s failed", transfer_id)
    finally:
        close_old_connections()


def resume(transfer: Transfer) -> Transfer:
    if transfer.direction != Transfer.Direction.OUTGOING or transfer.status not in {
        Transfer.Status.SENDING,
        Transfer.Status.FAILED,
    }:
        raise EvidenceError(409, f"transfer is {transfer.status}")
    Transfer.objects.filter(pk=transfer.pk).update(status=Transfer.Status.SENDING, error="")
    kick(transfer)
    return transfer


class _Source:
    """The bytes the recipient gets: the new header, then the stored payload."""

    def __init__(self, transfer: Transfer, item: EvidenceItem) -> None:
        self.header = _header_path(transfer).read_bytes()
        self.blob = services.storage().open(item.blob_name, "rb")
        old, _ = age.read_header(self.blob)  # type: ignore[arg-type]
        self.skip = len(old.raw)
        self.buffer = bytearray(0)

    def read_at(self, offset: int, n: int) -> memoryview:
        """``n`` bytes from ``offset``, in one buffer that is reused: no large allocation
        per chunk, so the sender's memory stays flat."""
        if len(self.buffer) < n:
            self.buffer = bytearray(n)
        view = memoryview(self.buffer)[:n]
        done = 0
        if offset < len(self.header):
            head = self.header[offset : offset + n]
            view[: len(head)] = head
            done = len(head)
        if done < n:
            self.blob.seek(self.skip + max(0, offset + done - len(self.header)))
            while done < n:
                got = self.blob.readinto(view[done:])
                if not got:
                    raise EvidenceError(500, "the stored blob is shorter than its record")
                done += got
        return view

    def close(self) -> None:
        self.blob.close()


def send(transfer: Transfer, *, attempts: int = 5, client: httpx.Client | None = None) -> Transfer:
    """Upload what the recipient does not hold yet, chunk by chunk, until it answers with a
    signed receipt; on a network failure, ask it where it stands and go on from there."""
    assert transfer.item is not None
    dirs = directory.require_current()
    entry = dirs.node(transfer.peer)
    if entry is None:
        raise EvidenceError(409, f"{transfer.peer} is not in the directory")
    url = entry["base_url"].rstrip("/") + PATH + str(transfer.pk)
    auth = {"Authorization": f"H247-Manifest {transfer.manifest}"}
    http = client or httpx.Client(timeout=httpx.Timeout(120.0, connect=5.0))
    source = _Source(transfer, transfer.item)
    chunk = settings.EVIDENCE_CHUNK_BYTES
    failures = 0
    try:
        offset = _remote_offset(http, url, auth)
        while True:
            if offset >= transfer.blob_size:
                data, end = memoryview(b""), transfer.blob_size - 1  # nothing left: ask for the verdict
                offset = transfer.blob_size
            else:
                data = source.read_at(offset, min(chunk, transfer.blob_size - offset))
                end = offset + len(data) - 1
            try:
                response = http.put(
                    url,
                    content=_pieces(data),
                    headers={
                        **auth,
                        "Content-Range": f"bytes {offset}-{end}/{transfer.blob_size}",
                        "Content-Length": str(len(data)),
                    },
                )
            except httpx.HTTPError as exc:
                failures += 1
                if failures >= attempts:
                    return _failed(transfer, f"{type(exc).__name__}: {exc}")
                time.sleep(min(2**failures * 0.2, 5))
                offset = _remote_offset(http, url, auth)
                continue
            answer = _json(response)
            if response.status_code == 200 and answer.get("status") == Transfer.Status.VERIFIED:
                return _delivered(transfer, str(answer.get("receipt", "")))
            if response.status_code in (200, 202):
                offset = int(answer.get("offset", end + 1))
                Transfer.objects.filter(pk=transfer.pk).update(transferred=offset)
                continue
            if response.status_code == 409 and isinstance(answer.get("offset"), int):
                offset = answer["offset"]
                continue
            if response.status_code == 422 or answer.get("status") == Transfer.Status.REFUSED:
                Transfer.objects.filter(pk=transfer.pk).update(
                    status=Transfer.Status.REFUSED, error=str(answer.get("detail", response.text[:500]))
                )
                transfer.refresh_from_db()
                return transfer
            failures += 1
            if failures >= attempts:
                return _failed(transfer, f"HTTP {response.status_code}: {answer.get('detail', response.text[:200])}")
            time.sleep(min(2**failures * 0.2, 5))
            offset = _remote_offset(http, url, auth)
    except (httpx.HTTPError, EvidenceError) as exc:
        return _failed(transfer, f"{type(exc).__name__}: {exc}")
    finally:
        source.close()
        if client is None:
            http.close()


def _pieces(view: memoryview, size: int = 1 << 20) -> Iterator[bytes]:
    for start in range(0, len(view), size):
        yield view[start : start + size]  # type: ignore[misc]


def _remote_offset(http: httpx.Client, url: str, auth: dict[str, str]) -> int:
    response = http.head(url, headers=auth)
    if response.status_code == 404:
        return 0
    if response.status_code != 200:
        raise EvidenceError(502, f"recipient answered HTTP {response.status_code} to a status query")
    return int(response.headers.get("Upload-Offset", "0"))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _failed(transfer: Transfer, error: str) -> Transfer:
    log.warning("evidence transfer %s to %s stopped: %s", transfer.pk, transfer.peer, error)
    Transfer.objects.filter(pk=transfer.pk).update(status=Transfer.Status.FAILED, error=error[:2000])
    transfer.refresh_from_db()
    return transfer


def _delivered(transfer: Transfer, receipt: str) -> Transfer:
    body = verify_signed(receipt, typ=RECEIPT_TYP, signer=transfer.peer)
    item = transfer.item
    assert item is not None
    if body.get("transfer_id") != str(transfer.pk) or body.get("sha256") != item.sha256:
        return _failed(transfer, "the recipient's receipt is for other evidence")
    with transaction.atomic():
        Transfer.objects.filter(pk=transfer.pk).update(
            status=Transfer.Status.VERIFIED, receipt=receipt, transferred=transfer.blob_size, error=""
        )
        services.record(
            "transferred",
            item,
            actor=f"node {settings.NODE.state}",
            recipient=transfer.peer,
            request_id=transfer.request_id,
            transfer_id=str(transfer.pk),
            receipt=receipt,
            by=services.actor_label(transfer.created_by) if transfer.created_by else "",
        )
    _header_path(transfer).unlink(missing_ok=True)
    transfer.refresh_from_db()
    return transfer


# -- receiving -------------------------------------------------------------------------------

_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def accept_manifest(transfer_id: str, authorization: str) -> Transfer:
    """The incoming transfer this manifest opens, or the one it already opened."""
    scheme, _, token = authorization.partition(" ")
    if scheme != "H247-Manifest" or not token:
        raise EvidenceError(401, "a signed manifest is required (Authorization: H247-Manifest <JWS>)")
    existing = Transfer.objects.filter(pk=transfer_id, direction=Transfer.Direction.INCOMING).first()
    if existing is not None:
        if existing.manifest != token.strip():
            raise EvidenceError(409, "another manifest holds this transfer id")
        return existing
    _, claimed = _unverified(token)
    manifest = verify_signed(token, typ=MANIFEST_TYP, signer=str(claimed.get("sender")))
    _check_manifest(manifest, transfer_id)
    try:
        with transaction.atomic():
            return Transfer.objects.create(
                id=transfer_id,
                direction=Transfer.Direction.INCOMING,
                peer=manifest["sender"],
                request_id=manifest["request_id"],
                manifest=token.strip(),
                blob_size=manifest["blob_size"],
                status=Transfer.Status.RECEIVING,
            )
    except IntegrityError:  # the same manifest's first two calls, at once
        return accept_manifest(transfer_id, authorization)


def _check_manifest(m: dict[str, Any], transfer_id: str) -> None:
    if set(m) != MANIFEST_FIELDS or m.get("v") != 1:
        raise EvidenceError(400, "manifest does not have the v1 fields")
    if m["transfer_id"] != transfer_id:
        raise EvidenceError(400, "manifest is for another transfer")
    if m["recipient"] != settings.NODE.state:
        raise EvidenceError(421, f"manifest is addressed to {m['recipient']!r}, not {settings.NODE.state}")
    ints = (m["size"], m["blob_size"])
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints):
        raise EvidenceError(400, "manifest sizes must be non-negative integers")
    if m["blob_size"] > settings.EVIDENCE_MAX_BYTES * 2 or m["blob_size"] < age.sealed_size(m["size"], 0):
        raise EvidenceError(413, "manifest sizes are impossible or too large")
    if not isinstance(m["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", m["sha256"]):
        raise EvidenceError(400, "manifest sha256 must be 64 lowercase hex digits")
    if not all(isinstance(m[k], str) and len(m[k]) <= 255 for k in ("title", "filename", "media_type", "request_id")):
        raise EvidenceError(400, "manifest text fields are malformed")
    if not isinstance(m["custody"], list):
        raise EvidenceError(400, "manifest custody must be a list")
    try:
        expires = parse_time(m["expires_at"])
    except ValueError:
        raise EvidenceError(400, "manifest expires_at is malformed") from None
    if expires < timezone.now():
        raise EvidenceError(410, "manifest has expired")


def status(transfer: Transfer) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": transfer.status, "offset": transfer.transferred}
    if transfer.receipt:
        answer["receipt"] = transfer.receipt
    if transfer.error:
        answer["detail"] = transfer.error
    return answer


def receive_range(transfer: Transfer, content_range: str, stream: IO[bytes], length: int) -> tuple[int, dict[str, Any]]:
    """One PUT of an incoming transfer."""
    if transfer.status == Transfer.Status.VERIFIED:
        return 200, status(transfer)
    if transfer.status == Transfer.Status.REFUSED:
        return 422, status(transfer)
    match = _RANGE.fullmatch(content_range.strip())
    if not match:
        raise EvidenceError(400, "Content-Range must be 'bytes first-last/total'")
    first, last, total = (int(g) for g in match.groups())
    if total != transfer.blob_size:
        raise EvidenceError(400, f"total {total} differs from the manifest's blob_size {transfer.blob_size}")
    if length == 0 and first == transfer.transferred == transfer.blob_size:
        return _complete(transfer)
    if last - first + 1 != length:
        raise EvidenceError(400, "Content-Range and Content-Length disagree")
    path = services.staging_path(f"in-{transfer.pk}.age")
    path.touch(mode=0o600, exist_ok=True)
    held = services.receive_chunk(
        path, offset=first, expected=transfer.transferred, stream=stream, length=length, total=transfer.blob_size
    )
    Transfer.objects.filter(pk=transfer.pk).update(transferred=held)
    transfer.transferred = held
    if held < first + length:
        raise EvidenceError(400, f"chunk cut short at {held}", offset=held)
    if held == transfer.blob_size:
        return _complete(transfer)
    return 202, status(transfer)


def _complete(transfer: Transfer) -> tuple[int, dict[str, Any]]:
    """All bytes are here: decrypt with this node's identity, check against the manifest."""
    manifest = _unverified(transfer.manifest)[1]
    path = services.staging_path(f"in-{transfer.pk}.age")
    started = time.perf_counter()
    try:
        with open(path, "rb") as src:
            _, reader = age.open_file(src, services.node_identities())
            sha256, size = age.hash_blocks(reader.blocks())
        if (sha256, size) != (manifest["sha256"], manifest["size"]):
            raise age.AgeError(f"plaintext SHA-256 {sha256} / {size} bytes differs from the manifest")
    except (age.AgeError, OSError) as exc:
        reason = f"transfer refused: {exc}"
        log.warning("evidence transfer %s from %s refused: %s", transfer.pk, transfer.peer, exc)
        Transfer.objects.filter(pk=transfer.pk).update(status=Transfer.Status.REFUSED, error=reason)
        path.unlink(missing_ok=True)
        transfer.refresh_from_db()
        return 422, status(transfer)
    log.info("evidence transfer %s verified in %.2fs (%d bytes)", transfer.pk, time.perf_counter() - started, size)
    item_id = services.uuid.uuid4()
    name = services.new_blob_name(item_id)
    _store(path, name)
    actor = f"node {transfer.peer} → node {settings.NODE.state}"
    received_at = timezone.now()
    try:
        with transaction.atomic():
            item = EvidenceItem.objects.create(
                id=item_id,
                title=manifest["title"] or manifest["filename"],
                filename=services.clean_filename(manifest["filename"]),
                media_type=manifest["media_type"][:127],
                sha256=sha256,
                size=size,
                blob_name=name,
                blob_size=transfer.blob_size,
                origin=Origin.RECEIVED,
                request_id=manifest["request_id"],
                source_state=transfer.peer,
                manifest=transfer.manifest,
                prior_custody=manifest["custody"],
                last_checked_at=received_at,
            )
            receipt = _sign(
                {
                    "transfer_id": str(transfer.pk),
                    "sender": transfer.peer,
                    "recipient": settings.NODE.state,
                    "sha256": sha256,
                    "size": size,
                    "evidence_id": str(item.pk),
                    "received_at": iso(received_at),
                },
                RECEIPT_TYP,
            )
            common = {"transfer_id": str(transfer.pk), "sender": transfer.peer, "request_id": item.request_id}
            services.record("received", item, actor=actor, **common)
            services.record("verified", item, actor=f"node {settings.NODE.state}", check="age+sha256", **common)
            Transfer.objects.filter(pk=transfer.pk).update(
                status=Transfer.Status.VERIFIED, item=item, receipt=receipt, transferred=transfer.blob_size
            )
    except BaseException:
        services.delete_blob(name)
        raise
    transfer.refresh_from_db()
    return 200, status(transfer)


def _store(path: Any, name: str) -> None:
    store = services.storage()
    if isinstance(store, services.FileSystemStorage):
        target = store.path(name)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        try:
            os.replace(path, target)  # the same disk: a rename, not a copy
            return
        except OSError:
            pass
    with open(path, "rb") as src, services.open_blob_for_writing(name) as dst:
        shutil.copyfileobj(src, dst, 4 << 20)
    os.unlink(path)
