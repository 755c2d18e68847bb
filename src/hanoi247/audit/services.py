"""The audit log: every change and every view of a case, chained by SHA-256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from hanoi247.audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def entry_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
) -> str:
    body = json.dumps(
        [seq, at.isoformat(), actor, action, object_type, object_id, data],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(
    action: str,
    *,
    actor: str,
    object_type: str = "",
    object_id: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Runs inside the caller's transaction so the entry and the change
    it records commit together."""
    data = json.loads(json.dumps(data or {}, default=str))
    with transaction.atomic():
        # SELECT … FOR UPDATE locks the head row on PostgreSQL; on SQLite the transaction
        # began IMMEDIATE, so the write lock is already ours. Either way two writers can
        # never chain onto the same predecessor. (The head row is made by a migration.)
        head = AuditHead.objects.select_for_update().get(pk=1)
        fields = dict(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=data,
        )
        digest = entry_hash(prev_hash=head.hash, **fields)  # type: ignore[arg-type]
        entry = AuditEntry.objects.create(prev_hash=head.hash, hash=digest, **fields)
        AuditHead.objects.filter(pk=1).update(seq=entry.seq, hash=digest)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def _entries(batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    last = 0
    cols = ("seq", "at", "actor", "action", "object_type", "object_id", "data", "prev_hash", "hash")
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq").values_list(*cols)[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def verify() -> VerifyResult:
    """Recompute the chain from the start; name the first entry that does not hold."""
    prev, expected_seq, checked = GENESIS, 1, 0
    for seq, at, actor, action, object_type, object_id, data, prev_hash, digest in _entries():
        if seq != expected_seq:
            return VerifyResult(checked, expected_seq, f"entry #{expected_seq} is missing")
        if prev_hash != prev:
            return VerifyResult(checked, seq, f"entry #{seq} does not link to entry #{seq - 1}")
        recomputed = entry_hash(
            prev_hash=prev,
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=data,
        )
        if recomputed != digest:
            return VerifyResult(checked, seq, f"entry #{seq} was altered (hash mismatch)")
        prev, expected_seq, checked = digest, seq + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head and (head.seq != checked or head.hash != prev):
        return VerifyResult(checked, checked + 1, f"entries after #{checked} were removed")
    return VerifyResult(checked)
