"""Trust and delivery guarantees: key rotation and revocation, stale and conflicting
directories, clock skew, replay, expiry renewal, dead leases, alerts, the undelivered list,
and 10,000 forged envelopes refused one by one."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from hanoi247 import urls as root_urls
from hanoi247.directory import services as directory
from hanoi247.directory.models import DirectoryEntry
from hanoi247.federation import keys, services
from hanoi247.federation.envelope import (
    EnvelopeError,
    iso,
    new_message,
    now,
    open_envelope,
    seal,
    sign_receipt,
    uuid7,
)
from hanoi247.federation.models import DeliveryAlert, InboxMessage, OutboxMessage, RefusedEnvelope
from tests.conftest import Peer, make_key, public, sign_directory, verified_client

INBOX = "/federation/v1/inbox"

# The outbox pages are mounted by the project's urls.py; until that line is there, this
# module mounts them itself (pytest.mark.urls below).
urlpatterns = list(root_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "federation" for p in urlpatterns):
    urlpatterns.append(path("network/outbox/", include("hanoi247.federation.urls")))


def probe(peer: Peer, *, seq: int = 1, case_ref: str = "probe-1", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": services.PROBE,
        "sender": peer.state,
        "recipient": "VNM",
        "body": {"n": seq, "note": ""},
        "case_ref": case_ref,
        "seq": seq,
        "handling": "TLP:CLEAR",
    }
    fields.update(overrides)
    return new_message(**fields)


_client: list[Client] = []


def post(token: str) -> Any:
    # One client for all: a new one builds the whole middleware stack (static files included).
    if not _client:
        _client.append(Client())
    return _client[0].post(INBOX, data=token, content_type="application/jose")


def to_me(message: dict[str, Any], sig: Any, own_keys: dict[str, Any]) -> str:
    return seal(message, signing_key=sig, recipient_key=public(own_keys["enc"]))


# -- 10,000 forged envelopes ---------------------------------------------------------------

PER_KIND = 2000
KINDS = ["tampered", "replayed", "misaddressed", "expired", "forged"]


def forgeries(kind: str, fra: Peer, bra: Peer, own_keys: dict[str, Any]) -> Iterator[str]:
    if kind == "tampered":
        token = to_me(probe(fra, seq=2), fra.sig, own_keys)
        parts = token.split(".")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        # Every position but the last of each part (its slack bits may decode unchanged).
        spots = [(i, j) for i in (0, 2, 3, 4) for j in range(len(parts[i]) - 1)]
        made = 0
        for (i, j), c in zip(itertools.cycle(spots), itertools.cycle(alphabet[::-1])):
            if parts[i][j] == c:
                continue
            changed = list(parts)
            changed[i] = parts[i][:j] + c + parts[i][j + 1 :]
            yield ".".join(changed)
            made += 1
            if made == PER_KIND:
                return
    held = InboxMessage.objects.get(sender="FRA", case_ref="probe-1").message
    for n in range(PER_KIND):
        if kind == "replayed":
            # The message held as seq 1: the same message again (a captured copy, sealed
            # anew) or a new id on the used seq.
            yield to_me(held if n % 2 else dict(held, id=str(uuid7())), fra.sig, own_keys)
        elif kind == "misaddressed":
            yield to_me(probe(fra, seq=2, recipient=("BRA", "FRA", "DEU")[n % 3]), fra.sig, own_keys)
        elif kind == "expired":
            old = now() - timedelta(days=1 + n % 30, seconds=301)
            yield to_me(probe(fra, seq=2, created_at=old, ttl=timedelta(days=1)), fra.sig, own_keys)
        elif kind == "forged":
            # BRA's key, or no directory key at all, signing in FRA's name.
            key = bra.sig if n % 2 else make_key("Ed25519")
            yield to_me(probe(fra, seq=2), key, own_keys)


@pytest.mark.parametrize("kind", KINDS)
def test_ten_thousand_bad_envelopes_none_accepted_each_logged(
    kind: str, network: dict[str, Peer], own_keys: dict[str, Any]
) -> None:
    fra, bra = network["fra"], network["bra"]
    assert post(to_me(probe(fra, seq=1), fra.sig, own_keys)).status_code == 200
    statuses: dict[int, int] = {}
    for token in forgeries(kind, fra, bra, own_keys):
        status = post(token).status_code
        statuses[status] = statuses.get(status, 0) + 1
    assert sum(statuses.values()) == PER_KIND
    assert all(400 <= s < 500 for s in statuses), statuses
    assert InboxMessage.objects.count() == 1
    refused = RefusedEnvelope.objects.all()
    assert refused.count() == PER_KIND
    assert all(r.code and r.reason for r in refused.only("code", "reason"))
    expected = {
        "replayed": {"duplicate", "replay"},
        "misaddressed": {"misaddressed"},
        "expired": {"expired"},
        "forged": {"unknown_sender"},
    }
    if kind in expected:
        assert set(refused.values_list("code", flat=True).distinct()) == expected[kind]


# -- replay refusal does not depend on memory -------------------------------------------


def test_replay_is_refused_after_a_restart(network: dict[str, Peer], own_keys: dict[str, Any]) -> None:
    fra = network["fra"]
    message = probe(fra)
    first = post(to_me(message, fra.sig, own_keys))
    assert first.status_code == 200
    directory._cache.clear()  # what a restarted process starts with: nothing but the database
    keys._read.cache_clear()
    again = post(to_me(message, fra.sig, own_keys))
    assert (again.status_code, again.json()["error"]) == (409, "duplicate")
    assert again.json()["receipt"] == first.json()["receipt"]
    replay = post(to_me(dict(message, id=str(uuid7())), fra.sig, own_keys))
    assert (replay.status_code, replay.json()["error"]) == (409, "replay")
    assert InboxMessage.objects.count() == 1


# -- clock skew: the bound is 300 s either way -------------------------------------------


@pytest.mark.parametrize(
    "created,expires,code",
    [
        (timedelta(seconds=299), timedelta(days=1), None),
        (timedelta(seconds=301), timedelta(days=1), "from_the_future"),
        (-timedelta(days=1), -timedelta(seconds=299), None),
        (-timedelta(days=1), -timedelta(seconds=301), "expired"),
    ],
)
def test_clock_skew_bound(fra: Peer, created: timedelta, expires: timedelta, code: str | None) -> None:
    moment = now()
    message = probe(fra, created_at=moment + created, ttl=expires - created)
    enc = make_key("X25519")
    token = seal(message, signing_key=fra.sig, recipient_key=public(enc))

    def opened() -> Any:
        return open_envelope(
            token,
            me="VNM",
            my_keys={str(enc.kid): enc},
            sender_key=lambda s, k: fra.sig if k == fra.sig.kid else None,
            at=moment,
            skew=timedelta(seconds=300),
        )

    if code is None:
        assert opened().message["id"] == message["id"]
    else:
        with pytest.raises(EnvelopeError) as refused:
            opened()
        assert refused.value.code == code


# -- the directory: stale, from the future, same version with other content -----------------


NODES = [Peer("FRA", make_key("Ed25519"), make_key("X25519")).entry()]


@pytest.fixture
def pinned(settings: Any, db: None, secretariat_key: Any) -> Iterator[Any]:
    settings.NODE = dataclasses.replace(settings.NODE, secretariat_key=public(secretariat_key))
    yield secretariat_key
    directory._cache.clear()


def test_same_version_with_other_content_is_refused_loudly(pinned: Any, caplog: Any) -> None:
    first = sign_directory(pinned, NODES, version=3)
    directory.accept(first)
    assert directory.accept(first).version == 3  # the same document again: fine
    other = sign_directory(pinned, [dict(NODES[0], base_url="http://elsewhere.invalid")], version=3)
    with (
        caplog.at_level(logging.ERROR, logger="hanoi247.directory"),
        pytest.raises(directory.DirectoryError, match="other content"),
    ):
        directory.accept(other)
    assert any("other content" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert (held_directory().node("FRA") or {}).get("base_url") == NODES[0]["base_url"]


def test_stale_directory_is_refused_and_the_held_one_kept(pinned: Any) -> None:
    directory.accept(sign_directory(pinned, NODES, version=2))
    stale = sign_directory(pinned, NODES, version=9, issued=now() - timedelta(days=8), validity=timedelta(days=7))
    with pytest.raises(directory.DirectoryError, match="stale"):
        directory.accept(stale)
    assert held_directory().version == 2


def test_directory_from_the_future_is_refused(pinned: Any) -> None:
    with pytest.raises(directory.DirectoryError, match="future"):
        directory.accept(sign_directory(pinned, NODES, issued=now() + timedelta(minutes=10)))
    directory.accept(sign_directory(pinned, NODES, issued=now() + timedelta(minutes=4)))


# -- key rotation and revocation ------------------------------------------------------------


@pytest.fixture
def own_dir(settings: Any, tmp_path: Path) -> Path:
    """This node's keys in a folder of their own, so that rotating them changes no other test."""
    settings.DATA_DIR = tmp_path
    keys.generate()
    return tmp_path


def held_directory() -> directory.Directory:
    found = directory.current(max_age=0)
    assert found is not None
    return found


def me_entry() -> dict[str, Any]:
    return dict(directory.own_entry(), name="Viet Nam")


def test_rotation_publishes_first_and_uses_the_new_keys_once_listed(
    pinned: Any, own_dir: Path, fra: Peer, own_keys: Any
) -> None:
    old_sig, old_enc = keys.signing_key(), keys.encryption_key()
    directory.accept(sign_directory(pinned, [me_entry(), fra.entry()], version=1))
    new = keys.rotate()
    # Published, not used: peers do not know the new key yet.
    assert [k["kid"] for k in me_entry()["keys"]["sig"]] == [new["sig"].kid, old_sig.kid]
    assert keys.signing_key().kid == old_sig.kid
    assert set(keys.decryption_keys()) == {new["enc"].kid, old_enc.kid}
    directory.accept(sign_directory(pinned, [me_entry(), fra.entry()], version=2))
    assert (keys.signing_key().kid, keys.encryption_key().kid) == (new["sig"].kid, new["enc"].kid)
    assert [k.kid for k in keys.retired("sig")] == [old_sig.kid]
    # An envelope sealed to the old encryption key (by a peer with the old directory) opens.
    message = probe(fra)
    for enc in (old_enc, new["enc"]):
        message = probe(fra, seq=message["seq"] + (enc is new["enc"]))
        opened = open_envelope(
            seal(message, signing_key=fra.sig, recipient_key=public(enc)),
            me="VNM",
            my_keys=keys.decryption_keys(),
            sender_key=lambda s, k: fra.sig,
        )
        assert opened.message["id"] == message["id"]


def test_a_peers_old_key_still_verifies_until_revoked(network: dict[str, Peer], own_keys: Any, pinned: Any) -> None:
    fra = network["fra"]
    old_sig = fra.sig
    new_sig = make_key("Ed25519")
    me = {
        "state": "VNM",
        "name": "Viet Nam",
        "base_url": "http://127.0.0.1:1",
        "keys": {"sig": [public(own_keys["sig"])], "enc": [public(own_keys["enc"])]},
    }
    rotated = fra.entry()
    rotated["keys"]["sig"] = [public(new_sig), public(old_sig)]
    directory.accept(sign_directory(pinned, [me, rotated], version=2))
    # Sealed before the rotation with the old key, and after it with the new one: both held.
    assert post(to_me(probe(fra, seq=1), old_sig, own_keys)).status_code == 200
    assert post(to_me(probe(fra, seq=2), new_sig, own_keys)).status_code == 200
    # What the old key signed stays verifiable with the directory.
    stored = InboxMessage.objects.get(seq=1)
    kid = json.loads(_b64(stored.signed.split(".")[0]))["kid"]
    assert held_directory().key("FRA", kid) is not None
    # Revoked: the next version lists it as revoked; what it signs now is refused.
    revoked = dict(rotated, keys={"sig": [public(new_sig)], "enc": rotated["keys"]["enc"], "revoked": [old_sig.kid]})
    directory.accept(sign_directory(pinned, [me, revoked], version=3))
    refused = post(to_me(probe(fra, seq=3), old_sig, own_keys))
    assert (refused.status_code, refused.json()["error"]) == (403, "unknown_sender")
    assert post(to_me(probe(fra, seq=3), new_sig, own_keys)).status_code == 200


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_secretariat_keeps_old_signing_keys_and_never_brings_back_a_revoked_one(db: None) -> None:
    a, b, c = (public(make_key("Ed25519")) for _ in range(3))
    enc = public(make_key("X25519"))
    base = {"state": "FRA", "base_url": "http://fra.invalid"}
    directory.register({**base, "keys": {"sig": [a], "enc": [enc]}})
    directory.register({**base, "keys": {"sig": [b], "enc": [enc]}})
    assert [k["kid"] for k in DirectoryEntry.objects.get().keys["sig"]] == [b["kid"], a["kid"]]
    directory.revoke_key("FRA", a["kid"])
    directory.register({**base, "keys": {"sig": [c, b, a], "enc": [enc]}})
    held = DirectoryEntry.objects.get().keys
    assert [k["kid"] for k in held["sig"]] == [c["kid"], b["kid"]] and held["revoked"] == [a["kid"]]
    with pytest.raises(directory.DirectoryError):
        directory.revoke_key("FRA", "no-such-kid")


def test_a_revoked_node_leaves_the_directory(settings: Any, db: None, own_keys: Any) -> None:
    settings.NODE = dataclasses.replace(settings.NODE, kind="secretariat", state="UNO")
    for state in ("FRA", "BRA"):
        directory.register({"state": state, "base_url": f"http://{state.lower()}.invalid", "keys": {}})
    directory.revoke_node("BRA")
    snap = directory.publish()
    assert [n["state"] for n in snap.document["nodes"]] == ["FRA"]
    directory._cache.clear()


# -- the sender: order, exactly once, expiry renewal, dead leases -------------------------------


class FlakyPeer:
    """FRA as a fake HTTP client: opens what VNM sends, keeps it once and in order, and
    fails in the ways a network does (refused connection, answer lost after storing)."""

    def __init__(self, fra: Peer, own_keys: dict[str, Any]) -> None:
        self.fra, self.own = fra, own_keys
        self.held: dict[str, tuple[str, int]] = {}
        self.order: dict[str, list[int]] = {}
        self.receipts: dict[str, str] = {}
        self.calls = 0

    def post(self, url: str, content: str, headers: dict[str, str]) -> httpx.Response:
        self.calls += 1
        if self.calls % 3 == 0:
            raise httpx.ConnectError("connection refused")
        opened = open_envelope(
            content,
            me="FRA",
            my_keys={str(self.fra.enc.kid): self.fra.enc},
            sender_key=lambda s, k: self.own["sig"] if k == self.own["sig"].kid else None,
        )
        message = opened.message
        if message["id"] in self.receipts:
            return httpx.Response(409, json={"error": "duplicate", "receipt": self.receipts[message["id"]]})
        order = self.order.setdefault(message["case_ref"], [])
        if message["seq"] != len(order) + 1:
            return httpx.Response(409, json={"error": "out_of_order", "reason": "gap"})
        order.append(message["seq"])
        self.receipts[message["id"]] = sign_receipt(opened, signing_key=self.fra.sig, received_at=now())
        if self.calls % 5 == 0:
            raise httpx.ReadTimeout("answer lost")  # stored, but the sender never hears it
        return httpx.Response(200, json={"receipt": self.receipts[message["id"]]})


def test_every_message_arrives_once_and_in_order_despite_failures(
    network: dict[str, Peer], own_keys: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.FEDERATION_RETRY_BASE_SECONDS = 0
    peer = FlakyPeer(network["fra"], own_keys)
    monkeypatch.setattr(services, "client", lambda: peer)
    for n in range(60):
        services.send_probe(recipient="FRA", case_ref=f"case-{n % 3}", n=n)
    OutboxMessage.objects.update(lease_until=None)  # no kicks in a test transaction
    for _ in range(50):
        services.deliver_due()
        if not OutboxMessage.objects.filter(status="pending").exists():
            break
    assert not OutboxMessage.objects.filter(status="pending").exists()
    assert peer.order == {f"case-{c}": list(range(1, 21)) for c in range(3)}
    assert len(peer.receipts) == 60


def test_a_pending_message_past_its_expiry_is_renewed_not_refused(
    network: dict[str, Peer], own_keys: Any, settings: Any
) -> None:
    row = services.send_probe(recipient="FRA", case_ref="late", n=0)
    old = row.message
    row.message = dict(old, expires_at=iso(now() - timedelta(days=2)))
    row.save(update_fields=["message"])
    fresh = services._fresh(row)
    assert {k: v for k, v in fresh.items() if k != "expires_at"} == {k: v for k, v in old.items() if k != "expires_at"}
    assert fresh["expires_at"] > iso(now() + timedelta(days=6))
    assert OutboxMessage.objects.get(pk=row.pk).message == fresh  # what was signed is kept
    fra = network["fra"]
    opened = open_envelope(
        seal(fresh, signing_key=own_keys["sig"], recipient_key=public(fra.enc)),
        me="FRA",
        my_keys={str(fra.enc.kid): fra.enc},
        sender_key=lambda s, k: own_keys["sig"],
    )
    assert opened.message["id"] == old["id"]
    assert services._fresh(OutboxMessage.objects.get(pk=row.pk)) == fresh  # no rewrite while fresh


def test_leases_of_dead_processes_are_taken_back(network: Any) -> None:
    import socket
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{gone.stdout.strip()}"
    later = timezone.now() + timedelta(seconds=60)
    a = services.send_probe(recipient="FRA", case_ref="a", n=0)
    b = services.send_probe(recipient="FRA", case_ref="b", n=0)
    c = services.send_probe(recipient="FRA", case_ref="c", n=0)
    OutboxMessage.objects.filter(pk=a.pk).update(lease_until=later, lease_owner=dead)
    OutboxMessage.objects.filter(pk=b.pk).update(lease_until=later, lease_owner=services.lease_owner())
    OutboxMessage.objects.filter(pk=c.pk).update(lease_until=later, lease_owner="elsewhere.invalid:1")
    assert services.release_dead_leases() == 1
    held = dict(OutboxMessage.objects.values_list("pk", "lease_owner"))
    assert held == {a.pk: "", b.pk: services.lease_owner(), c.pk: "elsewhere.invalid:1"}
    assert os.getpid() == int(services.lease_owner().rsplit(":", 1)[1])


# -- alerts and the undelivered list ----------------------------------------------------------


def test_an_overdue_message_raises_one_alert_logged_and_told(network: Any, caplog: Any, monkeypatch: Any) -> None:
    told: list[DeliveryAlert] = []
    monkeypatch.setattr(services, "ALERT_HOOKS", [told.append, lambda alert: 1 / 0])
    monkeypatch.setitem(services.MAX_WAIT, "custom.type", timedelta(minutes=2))
    fresh = services.send_probe(recipient="FRA", case_ref="p", n=0)
    row = services.enqueue(type="custom.type", recipient="FRA", case_ref="x", body={}, handling="TLP:CLEAR")
    OutboxMessage.objects.filter(pk=row.pk).update(last_error="ConnectError: refused")
    with caplog.at_level(logging.ERROR, logger="hanoi247.federation"), _on_commit_runs():
        raised = services.raise_alerts(at=timezone.now() + timedelta(minutes=3))
    assert [a.message_id for a in raised] == [row.pk]  # the probe may wait 5 minutes
    assert told == raised and raised[0].last_error == "ConnectError: refused"
    assert any("more than the 120s allowed" in r.getMessage() for r in caplog.records)
    assert services.raise_alerts(at=timezone.now() + timedelta(minutes=3)) == []  # once
    services._mark_delivered(OutboxMessage.objects.get(pk=row.pk), "receipt", {})
    assert DeliveryAlert.objects.get().resolved_at is not None
    assert fresh.pk != row.pk


class _on_commit_runs:
    """Run on_commit callbacks although the test's transaction never commits."""

    def __enter__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.before = len(connection.run_on_commit)

    def __exit__(self, *exc: Any) -> None:
        for entry in self.connection.run_on_commit[self.before :]:
            entry[1]()
        del self.connection.run_on_commit[self.before :]


@pytest.mark.urls(__name__)
def test_the_undelivered_list_shows_the_reason_to_those_who_may_see_it(network: Any, personas: Any) -> None:
    row = services.send_probe(recipient="FRA", case_ref="case-9", n=0)
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=3, last_error="HTTP 503: directory_stale")
    for role in ("admin", "officer", "supervisor"):
        client = verified_client(personas[role])
        page = client.get("/network/outbox/")
        assert page.status_code == 200 and "HTTP 503: directory_stale" in page.content.decode()
        listed = client.get("/network/outbox/undelivered.json").json()["undelivered"]
        assert [(r["case_ref"], r["attempts"], r["last_error"]) for r in listed] == [
            ("case-9", 3, "HTTP 503: directory_stale")
        ]
        assert "body" not in listed[0] and "message" not in listed[0]
    assert verified_client(personas["foreign"]).get("/network/outbox/").status_code == 404
    assert verified_client(personas["foreign"]).get("/network/outbox/undelivered.json").status_code == 404
    assert Client().get("/network/outbox/undelivered.json").status_code == 302
