"""`audit verify` on a long chain: one changed byte anywhere is found and the entry named;
signed checkpoints catch a tail rewritten with recomputed hashes; forged ones are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import OKPKey

from hanoi247.audit import services as audit
from hanoi247.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from hanoi247.federation.envelope import JWS_REGISTRY, canonical, iso
from tests.conftest import Peer

COUNT = 20_000
FIELDS = ("actor", "action", "object_type", "object_id", "data", "at", "prev_hash", "hash")
START = datetime(2026, 3, 1, tzinfo=UTC)


def entry_fields(seq: int) -> dict[str, Any]:
    # Every tenth timestamp falls on a whole second (isoformat() then has no fraction); every
    # 4999th entry keeps its data keys unsorted, as entries written before `record` sorted them.
    data: dict[str, Any] = {"i": seq, "note": f"entry {seq}: ü", "ids": [str(seq), "x"]}
    if seq % 4999 == 0:
        data = {"z": 0.5, "a": "ü", "m": {"y": 1, "b": None}}
    return {
        "seq": seq,
        "at": START + timedelta(seconds=seq, microseconds=0 if seq % 10 == 0 else seq * 7919 % 1_000_000),
        "actor": f"officer{seq % 13}@vnm",
        "action": ("request.viewed", "request.submitted", "login")[seq % 3],
        "object_type": "request" if seq % 5 else "",
        "object_id": f"{seq * 2654435761 % 10**12:012d}",
        "data": data,
    }


def bulk_chain(count: int) -> list[str]:
    """``count`` valid entries, inserted in bulk; their hashes."""
    prev, hashes, batch = audit.GENESIS, [], []
    for seq in range(1, count + 1):
        fields = entry_fields(seq)
        digest = audit.entry_hash(prev_hash=prev, **fields)
        batch.append(AuditEntry(prev_hash=prev, hash=digest, **fields))
        prev = digest
        hashes.append(digest)
    AuditEntry.objects.bulk_create(batch, batch_size=2000)
    AuditHead.objects.filter(pk=1).update(seq=count, hash=prev)
    return hashes


@pytest.fixture(scope="module")
def chain_once(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[str]]:
    """Made once for this module and committed; each test's changes roll back with its
    transaction."""
    with django_db_blocker.unblock():
        hashes = bulk_chain(COUNT)
        yield hashes
        AuditCheckpoint.objects.all().delete()
        AuditEntry.objects.all().delete()
        AuditHead.objects.filter(pk=1).update(seq=0, hash=audit.GENESIS)


@pytest.fixture
def long_chain(chain_once: list[str], db: None) -> list[str]:
    return chain_once


def rewrite_from(seq: int, actor: str) -> None:
    """What a forger with database access does: change entry ``seq`` and recompute every hash
    after it, and the head row, so that the chain alone holds."""
    prev = AuditEntry.objects.get(seq=seq).prev_hash
    changed = []
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        if entry.seq == seq:
            entry.actor = actor
        entry.prev_hash = prev
        entry.hash = prev = audit.entry_hash(
            prev_hash=prev,
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            data=entry.data,
        )
        changed.append(entry)
    AuditEntry.objects.filter(seq__gte=seq).delete()
    AuditEntry.objects.bulk_create(changed, batch_size=2000)
    AuditHead.objects.filter(pk=1).update(hash=prev)


# -- the chain -------------------------------------------------------------------------------


def test_a_long_chain_verifies(long_chain: list[str]) -> None:
    result = audit.verify()
    assert result.ok and result.checked == COUNT and result.broken_seq is None


def test_ranges_checked_apart_give_the_first_finding(long_chain: list[str]) -> None:
    AuditEntry.objects.filter(seq__in=[7_777, 15_000]).update(actor="forger")
    # Seven ranges, in this process: what the parallel check does with its children.
    span = audit._check_chain(COUNT, workers=1, parts=7)
    assert (span.broken_seq, span.checked) == (7_777, 7_776)
    assert audit._check_range(12_001, 16_000).broken_seq == 15_000


def change_one_byte(value: str, pos: int, pool: str) -> str:
    pos %= len(value)
    old = value[pos]
    new = pool[(pool.index(old) + 1) % len(pool)] if old in pool else pool[0]
    return value[:pos] + new + value[pos + 1 :]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, COUNT), field=st.sampled_from(FIELDS), pos=st.integers(0, 10_000))
def test_one_changed_byte_anywhere_is_found_and_the_entry_named(
    long_chain: list[str], seq: int, field: str, pos: int
) -> None:
    entry = AuditEntry.objects.get(seq=seq)
    original = getattr(entry, field)
    value: Any
    if field == "at":
        text = original.isoformat()
        if len(text) == 25:  # no fraction: change a digit of the seconds instead
            value = datetime.fromisoformat(change_one_byte(text, 18, "0123456789"))
        else:
            value = datetime.fromisoformat(text[:20] + change_one_byte(text[20:26], pos, "0123456789") + text[26:])
    elif field == "data":
        text = json.dumps(original, sort_keys=True, ensure_ascii=False)
        letters = [i for i, c in enumerate(text) if c.isalpha() and c.isascii()]
        value = json.loads(change_one_byte(text, letters[pos % len(letters)], "abcdefghijklmnopqrstuvwxyz"))
    elif field.endswith("hash"):
        value = change_one_byte(original, pos, "0123456789abcdef")
    else:
        value = change_one_byte(original or "-", pos, "abcdefghijklmnopqrstuvwxyz0123456789-")
    AuditEntry.objects.filter(seq=seq).update(**{field: value})
    try:
        result = audit.verify()
        assert (result.ok, result.broken_seq, result.checked) == (False, seq, seq - 1)
        assert f"entry #{seq} " in result.reason
    finally:
        AuditEntry.objects.filter(seq=seq).update(**{field: original})


def test_a_deleted_entry_is_named(long_chain: list[str]) -> None:
    AuditEntry.objects.filter(seq=12_345).delete()
    result = audit.verify()
    assert (result.broken_seq, result.reason) == (12_345, "entry #12345 is missing")


def test_a_truncated_tail_is_named_by_the_head(long_chain: list[str]) -> None:
    AuditEntry.objects.filter(seq__gt=19_990).delete()
    result = audit.verify()
    assert result.broken_seq == 19_991 and "entries after #19990 were removed" in result.reason


def test_data_that_is_no_longer_json_is_named(long_chain: list[str]) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's jsonb holds only JSON")
    # Django's CHECK (json_valid) stops an UPDATE; someone who edits the file is not stopped.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA ignore_check_constraints = 1")
        try:
            cursor.execute("UPDATE audit_auditentry SET data = %s WHERE seq = %s", ['{"i": 17017, "note"', 17_017])
        finally:
            cursor.execute("PRAGMA ignore_check_constraints = 0")
    result = audit.verify()
    assert (result.broken_seq, result.reason) == (17_017, "entry #17017 was altered (hash mismatch)")


def test_unsorted_keys_and_non_ascii_of_older_entries_still_verify(long_chain: list[str]) -> None:
    entry = AuditEntry.objects.get(seq=4999)
    if connection.vendor == "sqlite":  # PostgreSQL's jsonb orders keys its own way
        assert list(entry.data) == ["z", "a", "m"]  # as stored before `record` sorted them
    assert audit.verify().ok


def test_record_stores_data_keys_sorted_and_still_verifies(db: None) -> None:
    entry = audit.record("x", actor="a", data={"b": 1, "a": {"d": 2, "c": "é"}})
    assert list(AuditEntry.objects.get(pk=entry.pk).data) == ["a", "b"]
    assert audit.verify().ok


# -- checkpoints -----------------------------------------------------------------------------


@pytest.fixture
def checkpointed(long_chain: list[str], own_keys: dict[str, OKPKey]) -> AuditCheckpoint:
    made = audit.checkpoint()
    assert made is not None
    return made


def test_a_checkpoint_signs_the_head(checkpointed: AuditCheckpoint, long_chain: list[str]) -> None:
    assert (checkpointed.seq, checkpointed.hash, checkpointed.count) == (COUNT, long_chain[-1], COUNT)
    claims = audit.read_checkpoint(checkpointed.signature, audit._public_key())
    assert claims == {"state": "VNM", "seq": COUNT, "hash": long_chain[-1], "count": COUNT, "at": claims["at"]}
    result = audit.verify()
    assert result.ok and result.checkpoints == 1


def test_a_rewritten_and_rehashed_tail_is_caught_by_the_checkpoint(checkpointed: AuditCheckpoint) -> None:
    rewrite_from(19_500, "forger")
    # The chain alone holds: this is what the checkpoint is for.
    assert audit._check_chain(COUNT, workers=1).broken_seq is None
    result = audit.verify()
    assert not result.ok and result.broken_seq == COUNT
    assert "no longer has the hash signed" in result.reason and "rewritten" in result.reason
    with pytest.raises(CommandError, match=f"entry #{COUNT} no longer has the hash signed"):
        call_command("audit", "verify")


def checkpoint_at(seq: int, hashes: list[str]) -> AuditCheckpoint:
    """A checkpoint signed when the chain ended at ``seq``."""
    AuditHead.objects.filter(pk=1).update(seq=seq, hash=hashes[seq - 1])
    try:
        made = audit.checkpoint()
    finally:
        AuditHead.objects.filter(pk=1).update(seq=COUNT, hash=hashes[-1])
    assert made is not None
    return made


@pytest.mark.parametrize("rewritten_from,named,since", [(9_990, 10_000, 1), (19_990, COUNT, 10_001)])
def test_a_rewrite_names_the_first_checkpoint_it_breaks(
    long_chain: list[str], own_keys: dict[str, OKPKey], rewritten_from: int, named: int, since: int
) -> None:
    checkpoint_at(10_000, long_chain)
    checkpoint_at(COUNT, long_chain)
    rewrite_from(rewritten_from, "forger")
    result = audit.verify()
    assert result.broken_seq == named and f"at or after entry #{since} and" in result.reason


def test_a_truncated_tail_with_its_head_is_caught_by_the_checkpoint(
    checkpointed: AuditCheckpoint, long_chain: list[str]
) -> None:
    AuditEntry.objects.filter(seq__gt=19_000).delete()
    AuditHead.objects.filter(pk=1).update(seq=19_000, hash=long_chain[18_999])
    result = audit.verify()
    assert result.broken_seq == COUNT and "are gone" in result.reason
    with pytest.raises(audit.AuditError, match="before the last checkpoint"):
        audit.checkpoint()


def test_a_forged_checkpoint_signature_is_refused(checkpointed: AuditCheckpoint, fra: Peer) -> None:
    forged = jws.serialize_compact(
        {"alg": "Ed25519", "kid": audit._public_key().kid, "typ": audit.CHECKPOINT_TYP},
        canonical(audit._claims(checkpointed)),
        fra.sig,
        registry=JWS_REGISTRY,
    )
    AuditCheckpoint.objects.filter(pk=checkpointed.pk).update(signature=forged)
    result = audit.verify()
    assert not result.ok and "is refused" in result.reason and "signature" in result.reason


def test_a_checkpoint_whose_fields_were_changed_is_refused(checkpointed: AuditCheckpoint) -> None:
    AuditCheckpoint.objects.filter(pk=checkpointed.pk).update(seq=COUNT - 1)
    result = audit.verify()
    assert not result.ok and "differ from what was signed" in result.reason


def test_no_checkpoint_over_a_broken_chain(long_chain: list[str], own_keys: dict[str, OKPKey]) -> None:
    AuditEntry.objects.filter(seq=300).update(action="tampered")
    with pytest.raises(audit.AuditError, match="entry #300 was altered"):
        audit.checkpoint()
    assert not AuditCheckpoint.objects.exists()


def test_the_next_checkpoint_checks_only_what_came_after(checkpointed: AuditCheckpoint) -> None:
    audit.record("request.viewed", actor="officer", object_id="1")
    made = audit.checkpoint()
    assert made is not None and made.seq == COUNT + 1
    audit.record("request.viewed", actor="officer", object_id="2")
    AuditEntry.objects.filter(seq=COUNT + 1).update(hash="0" * 64)
    with pytest.raises(audit.AuditError, match=f"entry #{COUNT + 1} no longer has its signed hash"):
        audit.checkpoint()


def test_export_and_verify_our_own_checkpoint(
    checkpointed: AuditCheckpoint, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("audit", "checkpoint", "--export")
    signed = capsys.readouterr().out.strip()
    assert signed == checkpointed.signature  # nothing new: the same checkpoint
    (tmp_path / "cp.jws").write_text(signed)
    call_command("audit", "verify-checkpoint", str(tmp_path / "cp.jws"))
    assert f"checkpoint OK: VNM signed entry #{COUNT}" in capsys.readouterr().out
    rewrite_from(COUNT, "forger")
    with pytest.raises(CommandError, match="no longer has the hash signed"):
        call_command("audit", "verify-checkpoint", str(tmp_path / "cp.jws"))


def fra_checkpoint(fra: Peer, key: OKPKey) -> str:
    claims = {"state": "FRA", "seq": 42, "hash": "ab" * 32, "count": 42, "at": iso(datetime.now(UTC))}
    return jws.serialize_compact(
        {"alg": "Ed25519", "kid": fra.sig.kid, "typ": audit.CHECKPOINT_TYP},
        canonical(claims),
        key,
        registry=JWS_REGISTRY,
    )


def test_another_nodes_checkpoint_is_checked_with_its_key_from_the_directory(
    network: dict[str, Any], fra: Peer, bra: Peer
) -> None:
    assert audit.verify_exported(fra_checkpoint(fra, fra.sig))["seq"] == 42
    with pytest.raises(audit.AuditError, match="signature"):
        audit.verify_exported(fra_checkpoint(fra, bra.sig))


def test_the_command_makes_a_checkpoint(long_chain: list[str], own_keys: Any, capsys: Any) -> None:
    call_command("audit", "checkpoint")
    assert f"audit checkpoint signed: entry #{COUNT}" in capsys.readouterr().out
    call_command("audit", "verify")
    assert f"audit chain OK: {COUNT} entries verified, 1 signed checkpoints hold" in capsys.readouterr().out
