"""Evidence: ingest, sealing at rest, reading with integrity checks, custody (DESIGN §6).

Every custody event (acquired, sealed, transferred, received, verified, opened, exported)
is an audit entry on the item, bound to its plaintext SHA-256 and to the actor, written in
the transaction that makes the change.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import logging
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from hanoi247.accounts.models import User
from hanoi247.accounts.services import is_local_case_handler
from hanoi247.audit import services as audit
from hanoi247.audit.models import AuditEntry
from hanoi247.evidence import age
from hanoi247.evidence.models import EvidenceItem, Origin, UploadSession
from hanoi247.federation import keys

log = logging.getLogger("hanoi247.evidence")

CUSTODY = ("acquired", "sealed", "transferred", "received", "verified", "opened", "exported")
COPY_BLOCK = 1 << 20


class EvidenceError(Exception):
    """Refused input or a failed check; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status, self.reason, self.extra = status, reason, extra


# -- keys and storage -------------------------------------------------------------------------


def node_identity() -> age.Identity:
    """This node's age identity: its federation X25519 key, so that one key decrypts both
    messages and evidence, and ``age -d -i`` works with it (``hanoi247 evidence identity``)."""
    return _identity_of(keys.encryption_key())


def _identity_of(jwk: Any) -> age.Identity:
    raw = str(jwk.as_dict(private=True)["d"])
    return age.Identity.from_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def node_identities() -> list[age.Identity]:
    """Every X25519 key this node decrypts with, the current one first: evidence sealed
    before a key rotation stays readable with the retired key."""
    current = node_identity()
    others: list[Any] = list(getattr(keys, "decryption_keys", dict)().values())
    return [current, *(i for i in map(_identity_of, others) if i.raw() != current.raw())]


def node_recipient() -> age.Recipient:
    return node_identity().recipient()


def storage() -> Storage:
    return storages["evidence"]


def staging_path(name: str) -> Path:
    folder = Path(settings.EVIDENCE_STAGING_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / name


@contextlib.contextmanager
def open_blob_for_writing(name: str) -> Iterator[BinaryIO]:
    """A new blob in the evidence storage, written as a stream. On the file system the file
    is opened where it will stay (no second copy); other backends (S3) take a stream too."""
    store = storage()
    if isinstance(store, FileSystemStorage):
        path = Path(store.path(name))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb", buffering=0) as out:
            yield out
    else:
        with store.open(name, "wb") as out:
            yield out  # type: ignore[misc]


def new_blob_name(item_id: uuid.UUID) -> str:
    return f"{item_id.hex[:2]}/{item_id}.age"


def delete_blob(name: str) -> None:
    with contextlib.suppress(OSError):
        storage().delete(name)


# -- who may see what ------------------------------------------------------------------------


def actor_label(user: User) -> str:
    return f"{user.username} ({user.role}, {user.state})"


def visible_items(user: Any) -> QuerySet[EvidenceItem]:
    """The one permission filter: this node's case handlers see its evidence; nobody else
    sees that any exists."""
    if not is_local_case_handler(user):
        return EvidenceItem.objects.none()
    return EvidenceItem.objects.all()


def get_item(user: Any, item_id: uuid.UUID | str) -> EvidenceItem:
    try:
        return visible_items(user).get(pk=item_id)
    except (EvidenceItem.DoesNotExist, ValueError, TypeError):
        raise Http404("No such evidence") from None


def get_upload(user: Any, upload_id: uuid.UUID | str) -> UploadSession:
    if not is_local_case_handler(user):
        raise Http404("No such upload")
    try:
        return UploadSession.objects.get(pk=upload_id, created_by=user)
    except (UploadSession.DoesNotExist, ValueError, TypeError):
        raise Http404("No such upload") from None


def check_request(user: User, request_id: str) -> str:
    """A cooperation request the user may see, by id; evidence links to requests only so."""
    if not request_id:
        return ""
    return str(find_request(user, request_id).pk)


def find_request(user: User, request_id: str) -> Any:
    """The cooperation request (its public model), through the cooperation app's gate."""
    from hanoi247.cooperation import services as cooperation

    try:
        uuid.UUID(str(request_id))
        return cooperation.get_request(user, request_id)
    except (Http404, ValueError):
        raise EvidenceError(404, f"no request {request_id!r} visible to you") from None


def record(action: str, item: EvidenceItem, *, actor: str, **data: Any) -> None:
    """One custody event, bound to the evidence hash."""
    audit.record(
        f"evidence.{action}",
        actor=actor,
        object_type="evidence",
        object_id=str(item.pk),
        data={"sha256": item.sha256, "size": item.size, **data},
    )


# -- uploads -------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^\w.\- ()+,@]")


def clean_filename(name: str) -> str:
    name = _SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    return name[:255] or "evidence.bin"


def start_upload(
    user: User,
    *,
    title: str,
    filename: str,
    size: int,
    media_type: str = "application/octet-stream",
    description: str = "",
    request_id: str = "",
    format: str = UploadSession.Format.PLAIN,
) -> UploadSession:
    if not is_local_case_handler(user):
        raise Http404("No such page")
    if size < 0 or size > settings.EVIDENCE_MAX_BYTES:
        raise EvidenceError(413 if size > 0 else 400, f"size must be 0 to {settings.EVIDENCE_MAX_BYTES} bytes")
    if format not in UploadSession.Format.values:
        raise EvidenceError(400, f"format must be one of {', '.join(UploadSession.Format.values)}")
    if not title.strip() or len(title) > 200:
        raise EvidenceError(400, "title must be 1 to 200 characters")
    if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", media_type or "") or len(media_type) > 127:
        raise EvidenceError(400, "media_type must look like type/subtype")
    request_id = check_request(user, request_id)
    with transaction.atomic():
        session = UploadSession.objects.create(
            created_by=user,
            title=title.strip(),
            description=description,
            filename=clean_filename(filename),
            media_type=media_type,
            format=format,
            request_id=request_id,
            size=size,
        )
    staging_path(f"{session.pk}.part").touch(mode=0o600)
    return session


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[IO[bytes]]:
    """The staging file, held exclusively: two writers of one upload never interleave."""
    with open(path, "r+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EvidenceError(409, "another chunk of this upload is being written; retry") from None
        yield handle


def receive_chunk(path: Path, *, offset: int, expected: int, stream: IO[bytes], length: int, total: int) -> int:
    """Append ``length`` bytes from ``stream`` at ``offset`` to a staging file that holds
    ``expected`` bytes. Returns how many bytes the file holds afterwards; a chunk cut short
    keeps what arrived, so the sender resumes from there."""
    if offset != expected:
        raise EvidenceError(409, f"expected offset {expected}, got {offset}", offset=expected)
    if length < 0 or offset + length > total:
        raise EvidenceError(416, f"chunk ends at {offset + length}, beyond the declared size {total}", offset=expected)
    with _locked(path) as handle:
        handle.truncate(offset)  # anything past what was acknowledged is dropped
        handle.seek(offset)
        done = 0
        while done < length:
            piece = stream.read(min(COPY_BLOCK, length - done))
            if not piece:
                break
            handle.write(piece)
            done += len(piece)
        handle.flush()
    return offset + done


def append_chunk(user: User, session: UploadSession, *, offset: int, stream: IO[bytes], length: int) -> UploadSession:
    if session.status != UploadSession.Status.OPEN:
        raise EvidenceError(409, f"upload is {session.status}")
    held = receive_chunk(
        staging_path(f"{session.pk}.part"),
        offset=offset,
        expected=session.received,
        stream=stream,
        length=length,
        total=session.size,
    )
    UploadSession.objects.filter(pk=session.pk).update(received=held, updated_at=timezone.now())
    session.received = held
    if held < offset + length:
        raise EvidenceError(400, f"chunk cut short: {held - offset} of {length} bytes arrived", offset=held)
    return session


def abort_upload(user: User, session: UploadSession) -> None:
    if session.status == UploadSession.Status.OPEN:
        UploadSession.objects.filter(pk=session.pk).update(status=UploadSession.Status.ABORTED)
        session.status = UploadSession.Status.ABORTED
    staging_path(f"{session.pk}.part").unlink(missing_ok=True)


def finish_upload(user: User, session: UploadSession) -> EvidenceItem:
    """Seal a complete upload: one read pass hashes and encrypts it (or, for an age file,
    decrypts to check and hash it), then the item and its custody events are recorded."""
    if session.status == UploadSession.Status.FINISHED and session.item is not None:
        return session.item
    if session.status != UploadSession.Status.OPEN:
        raise EvidenceError(409, f"upload is {session.status}")
    if session.received != session.size:
        raise EvidenceError(409, f"upload holds {session.received} of {session.size} bytes", offset=session.received)
    path = staging_path(f"{session.pk}.part")
    with _locked(path) as src:
        src.seek(0)
        item = _seal(
            src,
            user=user,
            title=session.title,
            description=session.description,
            filename=session.filename,
            media_type=session.media_type,
            request_id=session.request_id,
            origin=Origin.IMPORTED if session.format == UploadSession.Format.AGE else Origin.ACQUIRED,
            finish=lambda it: UploadSession.objects.filter(pk=session.pk).update(
                status=UploadSession.Status.FINISHED, item=it
            ),
        )
    path.unlink(missing_ok=True)
    session.status, session.item = UploadSession.Status.FINISHED, item
    return item


def ingest(
    src: BinaryIO,
    *,
    user: User | None,
    title: str,
    filename: str,
    media_type: str = "application/octet-stream",
    description: str = "",
    request_id: str = "",
    age_file: bool = False,
    actor: str = "",
) -> EvidenceItem:
    """Ingest from an open file in one read pass (the CLI, the benchmark; uploads end here)."""
    return _seal(
        src,
        user=user,
        title=title,
        description=description,
        filename=clean_filename(filename),
        media_type=media_type,
        request_id=request_id,
        origin=Origin.IMPORTED if age_file else Origin.ACQUIRED,
        actor=actor,
    )


class _Tee:
    """Reads from ``src`` and copies what it reads to ``dst``."""

    def __init__(self, src: IO[bytes], dst: BinaryIO) -> None:
        self.src, self.dst = src, dst

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n)
        self.dst.write(data)
        return data

    def readinto(self, buf: Any) -> int:
        n = self.src.readinto(buf)  # type: ignore[attr-defined]
        if n:
            self.dst.write(memoryview(buf)[:n])
        return int(n or 0)


def _seal(
    src: Any,
    *,
    user: User | None,
    title: str,
    description: str,
    filename: str,
    media_type: str,
    request_id: str,
    origin: str,
    actor: str = "",
    finish: Any = None,
) -> EvidenceItem:
    item_id = uuid.uuid4()
    name = new_blob_name(item_id)
    me = node_recipient()
    try:
        with open_blob_for_writing(name) as dst:
            if origin == Origin.IMPORTED:
                # An age file for this node: check every chunk and hash the plaintext while
                # copying the payload as is, under a header for this node alone.
                try:
                    header, leftover = age.read_header(src)
                    fresh = age.rewrap(header, node_identities(), [me])
                    dst.write(fresh + leftover)
                    reader = age.Reader(_Tee(src, dst), age.file_key_of(header, node_identities()), leftover)  # type: ignore[arg-type]
                    sha256, size = age.hash_blocks(reader.blocks())
                except age.AgeError as exc:
                    raise EvidenceError(422, f"not an age file this node can decrypt: {exc}") from None
                blob_size = len(fresh) + (age.sealed_size(size, 0))
            else:
                sha256, size, blob_size = age.seal(src, dst, [me])
        actor = actor or (actor_label(user) if user else f"node {settings.NODE.state}")
        with transaction.atomic():
            item = EvidenceItem.objects.create(
                id=item_id,
                title=title,
                description=description,
                filename=filename,
                media_type=media_type,
                sha256=sha256,
                size=size,
                blob_name=name,
                blob_size=blob_size,
                origin=origin,
                request_id=request_id,
                source_state=settings.NODE.state,
                created_by=user,
                last_checked_at=timezone.now(),
            )
            record("acquired", item, actor=actor, filename=filename, origin=origin, request_id=request_id)
            record("sealed", item, actor=actor, format="age-encryption.org/v1", recipient=me.encode(), blob=name)
            if finish is not None:
                finish(item)
    except BaseException:
        delete_blob(name)
        raise
    log.info("evidence %s sealed: %s bytes, sha256 %s", item.pk, size, sha256)
    return item


# -- reading ---------------------------------------------------------------------------------


def _blocks(item: EvidenceItem) -> Iterator[memoryview]:
    with storage().open(item.blob_name, "rb") as src:
        try:
            _, reader = age.open_file(src, node_identities())  # type: ignore[arg-type]
            yield from reader.blocks()
        except age.AgeError as exc:
            raise IntegrityFailure(item, str(exc)) from None


class IntegrityFailure(Exception):
    def __init__(self, item: EvidenceItem, reason: str) -> None:
        super().__init__(f"evidence {item.pk} is corrupt: {reason}")
        self.item, self.reason = item, reason


def _mark_corrupt(item: EvidenceItem, reason: str, actor: str) -> None:
    log.error("evidence %s failed its integrity check: %s", item.pk, reason)
    with transaction.atomic():
        EvidenceItem.objects.filter(pk=item.pk).update(intact=False, last_checked_at=timezone.now())
        record("integrity_failed", item, actor=actor, reason=reason)
    item.intact = False


def content(user: User, item: EvidenceItem, *, purpose: str = "exported") -> Iterator[bytes]:
    """The decrypted evidence, as a stream of blocks; every chunk is authenticated as it is
    read and the whole is hashed. Recorded (``opened`` or ``exported``) before the first
    byte leaves; a failed check ends the stream early and marks the item corrupt."""
    if purpose not in {"opened", "exported"}:
        raise ValueError(purpose)
    actor = actor_label(user)
    with transaction.atomic():
        record(purpose, item, actor=actor, form="plaintext")

    def stream() -> Iterator[bytes]:
        import hashlib

        hasher, size = hashlib.sha256(), 0
        try:
            for block in _blocks(item):
                hasher.update(block)
                size += len(block)
                yield bytes(block)
        except IntegrityFailure as exc:
            _mark_corrupt(item, exc.reason, actor)
            raise
        if hasher.hexdigest() != item.sha256 or size != item.size:
            _mark_corrupt(item, "plaintext hash or size differs from the record", actor)
            raise IntegrityFailure(item, "plaintext hash or size differs from the record")

    return stream()


@dataclass(frozen=True)
class Check:
    item: EvidenceItem
    ok: bool
    reason: str = ""


def check(item: EvidenceItem, *, actor: str = "") -> Check:
    """Decrypt and hash a stored item; compare with its record. A failure is recorded."""
    try:
        sha256, size = age.hash_blocks(_blocks(item))
        reason = "" if (sha256, size) == (item.sha256, item.size) else "plaintext hash or size differs from the record"
    except IntegrityFailure as exc:
        reason = exc.reason
    except OSError as exc:
        reason = f"blob cannot be read: {exc}"
    if reason:
        _mark_corrupt(item, reason, actor or f"node {settings.NODE.state}")
        return Check(item, False, reason)
    EvidenceItem.objects.filter(pk=item.pk).update(last_checked_at=timezone.now(), intact=True)
    return Check(item, True)


def verify_all() -> Iterator[Check]:
    """``hanoi247 evidence verify``: every stored item, in order of arrival."""
    for item in EvidenceItem.objects.order_by("created_at").iterator():
        yield check(item, actor="hanoi247 evidence verify")


def export_age(user: User, item: EvidenceItem, recipients: list[age.Recipient]) -> Iterator[bytes]:
    """The stored age file re-wrapped to ``recipients`` (the payload is not re-encrypted):
    what a party with the stock ``age`` tool decrypts."""
    with transaction.atomic():
        record("exported", item, actor=actor_label(user), form="age", recipients=[r.encode() for r in recipients])

    def stream() -> Iterator[bytes]:
        with storage().open(item.blob_name, "rb") as src:
            header, leftover = age.read_header(src)  # type: ignore[arg-type]
            yield age.rewrap(header, node_identities(), recipients) + leftover
            while block := src.read(COPY_BLOCK * 4):
                yield block

    return stream()


# -- custody -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustodyEvent:
    action: str
    at: Any
    actor: str
    state: str
    data: dict[str, Any]
    audit_seq: int | None
    audit_hash: str


def custody(item: EvidenceItem) -> list[CustodyEvent]:
    """The chain of custody: the sender's events (from its signed manifest, for received
    evidence), then this node's, from its audit log."""
    events = [
        CustodyEvent(
            action=str(e.get("action", "")),
            at=e.get("at"),
            actor=str(e.get("actor", "")),
            state=item.source_state,
            data={"sha256": e.get("sha256", "")},
            audit_seq=None,
            audit_hash=str(e.get("audit_hash", "")),
        )
        for e in item.prior_custody
    ]
    entries = AuditEntry.objects.filter(
        object_type="evidence", object_id=str(item.pk), action__startswith="evidence."
    ).order_by("seq")
    for entry in entries:
        events.append(
            CustodyEvent(
                action=entry.action.removeprefix("evidence."),
                at=entry.at,
                actor=entry.actor,
                state=settings.NODE.state,
                data=entry.data,
                audit_seq=entry.seq,
                audit_hash=entry.hash,
            )
        )
    return events
