"""The hash-chained audit log and `hanoi247 audit verify`."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hanoi247.audit import services as audit
from hanoi247.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from hanoi247.federation import services as federation


@pytest.fixture
def chain(db: None) -> list[AuditEntry]:
    return [
        audit.record(
            "request.viewed", actor=f"user{i}", object_type="request", object_id=str(i), data={"i": i, "text": "ü"}
        )
        for i in range(1, 21)
    ]


def test_an_intact_chain_verifies(chain: list[AuditEntry], capsys: pytest.CaptureFixture[str]) -> None:
    assert audit.verify().ok and audit.verify().checked == 20
    call_command("audit", "verify")
    assert "audit chain OK: 20 entries" in capsys.readouterr().out


def test_each_entry_links_to_the_previous(chain: list[AuditEntry]) -> None:
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash and after.seq == before.seq + 1


@pytest.mark.parametrize(
    "field,value",
    [("actor", "someone else"), ("action", "request.deleted"), ("object_id", "99"), ("data", {"i": 7, "text": "u"})],
)
def test_a_changed_entry_is_named(chain: list[AuditEntry], field: str, value: object) -> None:
    AuditEntry.objects.filter(seq=7).update(**{field: value})
    result = audit.verify()
    assert (result.ok, result.broken_seq) == (False, 7)
    with pytest.raises(CommandError, match="entry #7"):
        call_command("audit", "verify")


def test_a_recomputed_hash_still_breaks_the_next_link(chain: list[AuditEntry]) -> None:
    entry = AuditEntry.objects.get(seq=5)
    entry.actor = "forger"
    entry.hash = audit.entry_hash(
        prev_hash=entry.prev_hash,
        seq=5,
        at=entry.at,
        actor="forger",
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        data=entry.data,
    )
    entry.save()
    assert audit.verify().broken_seq == 6


def test_a_removed_entry_is_named(chain: list[AuditEntry]) -> None:
    AuditEntry.objects.filter(seq=12).delete()
    assert audit.verify().broken_seq == 12


def test_truncation_is_detected_by_the_head(chain: list[AuditEntry]) -> None:
    AuditEntry.objects.filter(seq__gt=18).delete()
    result = audit.verify()
    assert not result.ok and "removed" in result.reason
    assert AuditHead.objects.get().seq == 20


def test_the_worker_signs_a_checkpoint_periodically_when_the_chain_grew(db: None, own_keys: Any) -> None:
    every, task = federation.PERIODIC["hanoi247.audit.tasks.sign_checkpoint"]
    assert every == 3600
    task()  # an empty log: nothing to sign
    audit.record("login", actor="officer")
    task()
    task()
    assert AuditCheckpoint.objects.count() == 1


def test_an_empty_log_has_nothing_to_sign(db: None, own_keys: Any) -> None:
    with pytest.raises(CommandError, match="nothing to sign"):
        call_command("audit", "checkpoint")


def fake_range(bounds: tuple[int, int]) -> audit._Span:
    """A range check without a database: entry #77 is broken."""
    lo, hi = bounds
    if lo <= 77 <= hi:
        return audit._Span(lo, 77 - lo, f"{lo - 1:064d}", 77, "entry #77 was altered (hash mismatch)")
    return audit._Span(lo, hi - lo + 1, f"{hi:064d}")


def test_ranges_checked_in_processes_give_the_first_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    # Forked children run the patched function: the pool, its ranges and the merge, no database.
    monkeypatch.setattr(audit, "_check_range_in_child", fake_range)
    span = audit._check_chain(100, workers=2)
    assert (span.broken_seq, span.checked, span.reason) == (77, 76, "entry #77 was altered (hash mismatch)")
    span = audit._check_chain(70, workers=2)
    assert (span.broken_seq, span.checked, span.last_hash) == (None, 70, f"{70:064d}")
