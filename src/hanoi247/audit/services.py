"""The audit log: every change and every view of a case, chained by SHA-256, and the node's
signed checkpoints of that chain (DESIGN.md §7, docs/audit.md)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Max
from django.utils import timezone
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from hanoi247.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from hanoi247.federation import keys
from hanoi247.federation.envelope import JWS_REGISTRY, SIGN_ALG, canonical, iso, parse_time

GENESIS = "0" * 64
CHECKPOINT_TYP = "hanoi247-audit-checkpoint+jws"


class AuditError(Exception):
    pass


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
    """The definition of an entry's hash. ``verify`` computes the same bytes faster (orjson,
    timestamps formatted by the database) and falls back to this encoding if they differ."""
    return _v1_hash(prev_hash, seq, at.isoformat(), actor, action, object_type, object_id, data)


def _v1_hash(prev_hash: str, *fields: Any) -> str:
    body = json.dumps(list(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
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
    # Keys in sorted order, as the hash has them: SQLite can then check the entry by itself.
    data = json.loads(json.dumps(data or {}, default=str, sort_keys=True))
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


# -- verifying the chain ------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class _Span:
    """What one range of entries showed: how many held, the hash of the last that held, and
    the first that did not (with why)."""

    start: int
    checked: int
    last_hash: str
    broken_seq: int | None = None
    reason: str = ""


FETCH = 20_000  # rows per round trip
PARALLEL_FROM = 200_000  # below this, forking costs more than it saves


def _select() -> str:
    """Entries in [lo, hi] with the timestamp already in ``isoformat()`` form and the data as
    JSON text: the database formats them in C, which is much of what makes verify fast."""
    q = connection.ops.quote_name
    if connection.vendor == "postgresql":
        at = (
            f"replace(to_char({q('at')} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
        )
        data = f"{q('data')}::text"
    elif connection.vendor == "sqlite":
        at = _sqlite_at()
        data = q("data")
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL only
        raise AuditError(f"audit verify does not know the {connection.vendor} database")
    cols = ", ".join(q(c) for c in ("actor", "action", "object_type", "object_id"))
    return _between(f"{q('seq')}, {at}, {cols}, {data}, {q('prev_hash')}, {q('hash')}")


def _sqlite_at() -> str:
    # Django stores an aware datetime on SQLite as str() of it in UTC: "2026-11-25 04:10:00.123456".
    return f"replace({connection.ops.quote_name('at')}, ' ', 'T') || '+00:00'"


def _between(columns: str) -> str:
    q = connection.ops.quote_name
    table = q(AuditEntry._meta.db_table)
    # Only quoted names of our own are formatted in; the bounds are parameters.
    return f"SELECT {columns} FROM {table} WHERE {q('seq')} >= %s AND {q('seq')} <= %s ORDER BY {q('seq')}"  # noqa: S608


def _select_sqlite_text() -> str:
    """SQLite writes the whole hashed text itself (prev_hash, then the JSON array, compact and
    with non-ASCII characters as they are, as ``json.dumps(ensure_ascii=False)`` does). That
    text is the entry's definition only where the stored data's keys are in sorted order, as
    ``record`` stores them; where it is not, its hash differs and the entry is checked again
    the general way (``_check_rows``)."""
    q = connection.ops.quote_name
    fields = ", ".join([q("seq"), _sqlite_at(), *(q(c) for c in ("actor", "action", "object_type", "object_id"))])
    text = f"CAST({q('prev_hash')} || json_array({fields}, json({q('data')})) AS BLOB)"
    return _between(f"{q('seq')}, {text}, {q('hash')}")


def _rows(sql: str, lo: int, hi: int) -> Iterator[list[tuple[Any, ...]]]:
    # In a transaction the PostgreSQL cursor is a server-side one without WITH HOLD, so rows
    # stream. SQLite's cursor streams anyway, and one statement reads one snapshot (WAL); a
    # transaction there would begin IMMEDIATE and hold up every writer while we read.
    snapshot = transaction.atomic() if connection.vendor == "postgresql" else contextlib.nullcontext()
    with snapshot, connection.chunked_cursor() as cursor:
        cursor.execute(sql, [lo, hi])
        while rows := cursor.fetchmany(FETCH):
            yield rows


def _slow_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, otype: str, oid: str, data: str) -> str:
    try:
        parsed = json.loads(data)
    except ValueError:
        return ""
    return _v1_hash(prev_hash, seq, at, actor, action, otype, oid, parsed)


# (next entry expected, hash of the last entry that held, finding or None); a finding is
# (entry, reason), or (entry, "") where the SQLite text did not match and rows must tell.
_Progress = tuple[int, str, tuple[int, str] | None]


def _check_rows(lo: int, hi: int, prev: str) -> _Progress:
    """Entries lo..hi, each recomputed from its columns (orjson; json where they differ)."""
    expected = lo
    sha256, dumps, loads, sort_keys = hashlib.sha256, orjson.dumps, orjson.loads, orjson.OPT_SORT_KEYS
    for rows in _rows(_select(), lo, hi):
        for seq, at, actor, action, otype, oid, data, prev_hash, digest in rows:
            if seq != expected:
                return expected, prev, (expected, f"entry #{expected} is missing")
            if prev_hash != prev:
                return expected, prev, (seq, f"entry #{seq} does not link to entry #{seq - 1}")
            try:
                body = dumps([seq, at, actor, action, otype, oid, loads(data)], option=sort_keys)
                fast = sha256(prev_hash.encode() + body).hexdigest()
            except (orjson.JSONDecodeError, orjson.JSONEncodeError, UnicodeEncodeError):
                fast = ""
            # orjson writes some numbers differently from json (1e+16 → 1e16): the definition wins.
            if fast != digest and _slow_hash(prev_hash, seq, at, actor, action, otype, oid, data) != digest:
                return expected, prev, (seq, f"entry #{seq} was altered (hash mismatch)")
            prev = digest
            expected += 1
    return expected, prev, None


def _check_sqlite_text(lo: int, hi: int, prev: str) -> _Progress:
    expected, prev_b, digest = lo, prev.encode(), prev
    sha256 = hashlib.sha256
    try:
        for rows in _rows(_select_sqlite_text(), lo, hi):
            for seq, text, digest in rows:
                if seq != expected:
                    return expected, prev_b.decode(), (expected, f"entry #{expected} is missing")
                if text[:64] != prev_b:
                    return expected, prev_b.decode(), (seq, f"entry #{seq} does not link to entry #{seq - 1}")
                if sha256(text).hexdigest() != digest:
                    return expected, prev_b.decode(), (seq, "")
                prev_b = digest.encode()
                expected += 1
    except DatabaseError:
        # SQLite's json() refuses data that is not JSON (written past Django): rows will tell.
        return expected, prev_b.decode(), (expected, "")
    return expected, prev_b.decode(), None


RECHECK = 1000  # entries checked the general way after a SQLite text that did not match


def _check_range(lo: int, hi: int) -> _Span:
    """Check entries lo..hi: numbering, links and hashes. Each entry is checked against its own
    stored prev_hash and the hash of the entry before it, so ranges can be checked apart."""
    # A missing entry lo-1 is the previous range's finding, which comes first.
    before = AuditEntry.objects.filter(seq=lo - 1).values_list("hash", flat=True).first() if lo > 1 else GENESIS
    prev = before or ""
    expected, finding = lo, None
    while expected <= hi:
        if connection.vendor == "sqlite":
            expected, prev, finding = _check_sqlite_text(expected, hi, prev)
            if finding is not None and not finding[1]:
                expected, prev, finding = _check_rows(expected, min(expected + RECHECK - 1, hi), prev)
        else:
            expected, prev, finding = _check_rows(expected, hi, prev)
        if finding is not None:
            return _Span(lo, expected - lo, prev, *finding)
        if expected <= hi and not AuditEntry.objects.filter(seq=expected).exists():
            break
    if expected <= hi:
        return _Span(lo, expected - lo, prev, expected, f"entry #{expected} is missing")
    return _Span(lo, expected - lo, prev)


def _check_range_in_child(bounds: tuple[int, int]) -> _Span:
    return _check_range(*bounds)


def _ranges(last: int, parts: int) -> list[tuple[int, int]]:
    size = -(-last // parts)
    return [(lo, min(lo + size - 1, last)) for lo in range(1, last + 1, size)]


def default_workers(count: int) -> int:
    if count < PARALLEL_FROM or connection.in_atomic_block:
        return 1
    # An in-memory SQLite database (the test suite's) is not visible to another process.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _check_chain(last: int, workers: int, parts: int | None = None) -> _Span:
    """Check entries 1..last in ``parts`` ranges (by default one, or four per process), in
    ``workers`` processes when more than one; the first finding by entry number wins."""
    if last == 0:
        return _Span(1, 0, GENESIS)
    ranges = _ranges(last, parts or (1 if workers <= 1 else workers * 4))
    pool = None
    if workers <= 1:
        spans: Iterator[_Span] = map(_check_range_in_child, ranges)
    else:
        # Forked children open their own connections; none may inherit ours.
        connections.close_all()
        pool = multiprocessing.get_context("fork").Pool(workers)
        spans = pool.imap(_check_range_in_child, ranges)
    checked, last_hash = 0, GENESIS
    try:
        for span in spans:
            checked += span.checked
            last_hash = span.last_hash
            if span.broken_seq is not None:
                return _Span(1, checked, last_hash, span.broken_seq, span.reason)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return _Span(1, checked, last_hash)


def verify(*, workers: int | None = None) -> VerifyResult:
    """Recompute the chain from the start, check the head row and every signed checkpoint;
    name the first entry that does not hold.

    A plain chain check cannot see a log rewritten from some entry on with every later hash
    recomputed (and the head row updated): the checkpoints can, as the rewritten chain no
    longer has the hash the node signed at a checkpoint's entry."""
    # The last entry first, then the head: an entry and the head move in one transaction, so
    # the head read second is never behind the entries counted (appends go on during verify).
    highest = AuditEntry.objects.aggregate(m=Max("seq"))["m"] or 0
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first() or (0, GENESIS)
    last = max(head[0], highest)
    chain = _check_chain(last, default_workers(last) if workers is None else workers)
    # Findings as (entry number, reason); the earliest is the one we name.
    findings: list[tuple[int, str]] = []
    if chain.broken_seq is not None:
        reason = chain.reason
        if chain.broken_seq > head[0] or not AuditEntry.objects.filter(seq__gte=chain.broken_seq).exists():
            reason = f"entries after #{chain.broken_seq - 1} were removed (the head row records #{head[0]})"
        findings.append((chain.broken_seq, reason))
    elif chain.checked != head[0] or chain.last_hash != head[1]:
        at = min(chain.checked, head[0]) + 1
        findings.append((at, f"the head row (#{head[0]}) does not match the chain's last entry #{chain.checked}"))
    findings += _checkpoint_findings(chain)
    if not findings:
        return VerifyResult(chain.checked, checkpoints=AuditCheckpoint.objects.count())
    seq, reason = min(findings)
    return VerifyResult(min(chain.checked, seq - 1), seq, reason)


# -- signed checkpoints -------------------------------------------------------------------


def _public_key() -> OKPKey:
    return OKPKey.import_key(keys.public_jwk(keys.signing_key()))


def _claims(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "state": settings.NODE.state,
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "count": checkpoint.count,
        "at": iso(checkpoint.created_at),
    }


def read_checkpoint(signed: str, key: OKPKey) -> dict[str, Any]:
    """The claims of a signed checkpoint, if ``key`` signed it; AuditError otherwise."""
    try:
        obj = jws.deserialize_compact(signed.strip(), key, registry=JWS_REGISTRY)
        claims: dict[str, Any] = json.loads(obj.payload)
        parse_time(claims["at"])
        if not (
            isinstance(claims["seq"], int) and isinstance(claims["hash"], str) and isinstance(claims["state"], str)
        ):
            raise TypeError("seq, hash or state has the wrong type")
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"the checkpoint's signature or form is invalid: {exc}") from None
    if obj.protected.get("typ") != CHECKPOINT_TYP:
        raise AuditError("the document is not an audit checkpoint")
    return claims


def _checkpoint_findings(chain: _Span) -> list[tuple[int, str]]:
    """Each checkpoint must carry this node's valid signature over its own fields, and the
    chain must still hold the signed hash at the signed entry."""
    checkpoints = list(AuditCheckpoint.objects.order_by("seq", "id"))
    if not checkpoints:
        return []
    key = _public_key()
    hashes = dict(AuditEntry.objects.filter(seq__in={c.seq for c in checkpoints}).values_list("seq", "hash"))
    findings: list[tuple[int, str]] = []
    vouched = 0  # the last entry a good checkpoint vouches for
    for checkpoint in checkpoints:
        name = f"checkpoint {checkpoint.pk} (entry #{checkpoint.seq}, {iso(checkpoint.created_at)})"
        try:
            claims = read_checkpoint(checkpoint.signature, key)
        except AuditError as exc:
            findings.append((checkpoint.seq, f"{name} is refused: {exc}"))
            continue
        if claims != _claims(checkpoint):
            findings.append((checkpoint.seq, f"{name} is refused: its fields differ from what was signed"))
            continue
        held = hashes.get(checkpoint.seq)
        if held is None:
            findings.append((checkpoint.seq, f"entries up to #{checkpoint.seq} were signed in {name} but are gone"))
        elif held != checkpoint.hash:
            findings.append(
                (
                    checkpoint.seq,
                    f"entry #{checkpoint.seq} no longer has the hash signed in {name}: the log was rewritten "
                    f"at or after entry #{vouched + 1} and re-hashed",
                )
            )
        else:
            vouched = max(vouched, checkpoint.seq)
    return findings


def checkpoint(*, only_if_new: bool = False) -> AuditCheckpoint | None:
    """Sign the chain's head. The entries since the previous checkpoint are checked first
    (the previous one's entry must still hold its signed hash), so a checkpoint never vouches
    for a chain that does not extend the one signed before.

    Nothing is locked: the checkpoint signs the head as it was read, and entries appended
    meanwhile wait for the next one. (Locking the head row would hold up every append for
    as long as the check takes: seconds, the first time, on a long log.)"""
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first() or (0, GENESIS)
    seq, digest = head
    previous = latest_checkpoint()
    if seq == 0:
        if only_if_new:
            return None
        raise AuditError("the audit log is empty: there is nothing to sign")
    if previous is not None and only_if_new and previous.seq == seq:
        return None
    start, held = 1, GENESIS
    signed_before: str | None
    if previous is not None and previous.seq > seq:
        raise AuditError(f"the chain ends at #{seq}, before the last checkpoint (#{previous.seq})")
    if previous is not None:
        signed_before = AuditEntry.objects.filter(seq=previous.seq).values_list("hash", flat=True).first()
        if signed_before != previous.hash:
            raise AuditError(f"entry #{previous.seq} no longer has its signed hash: run `audit verify`")
        start, held = previous.seq + 1, previous.hash
    span = _check_range(start, seq) if start <= seq else None
    if span is not None and span.broken_seq is not None:
        raise AuditError(f"not signing a broken chain: {span.reason}")
    if (span.last_hash if span is not None else held) != digest:
        raise AuditError(f"the head row does not match entry #{seq}: run `audit verify`")
    made = AuditCheckpoint(seq=seq, hash=digest, count=seq, created_at=timezone.now())
    key = keys.signing_key()
    made.signature = jws.serialize_compact(
        {"alg": SIGN_ALG, "kid": key.kid, "typ": CHECKPOINT_TYP},
        canonical(_claims(made)),
        key,
        registry=JWS_REGISTRY,
    )
    made.save()
    return made


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-seq", "-id").first()


def verify_exported(signed: str) -> dict[str, Any]:
    """Check a checkpoint another node exported, with that node's key from the directory.
    When it is one of ours, also check that our chain still has the signed hash."""
    from hanoi247.directory import services as directory

    try:
        unverified = jws.extract_compact(signed.strip().encode())
        header, state = unverified.protected, json.loads(unverified.payload)["state"]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"not a signed checkpoint: {exc}") from None
    if state == settings.NODE.state:
        key = _public_key()
    else:
        held = directory.current()
        found = held.key(state, header.get("kid", "")) if held else None
        if found is None:
            raise AuditError(f"the directory holds no signing key {header.get('kid')!r} for {state}")
        key = found
    claims = read_checkpoint(signed, key)
    if state == settings.NODE.state:
        hash_now = AuditEntry.objects.filter(seq=claims["seq"]).values_list("hash", flat=True).first()
        if hash_now != claims["hash"]:
            raise AuditError(f"our entry #{claims['seq']} no longer has the hash signed in this checkpoint")
    return claims
