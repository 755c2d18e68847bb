"""The signed directory: pinned key; unsigned, tampered, stale and rolled-back refused."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from hanoi247.directory import services as directory
from hanoi247.directory.models import DirectoryEntry
from hanoi247.federation.envelope import now
from tests.conftest import make_key, public, sign_directory


@pytest.fixture
def pinned(settings: Any, db: None, secretariat_key: Any) -> Any:
    settings.NODE = dataclasses.replace(settings.NODE, secretariat_key=public(secretariat_key))
    yield secretariat_key
    directory._cache.clear()


NODES = [
    {
        "state": "FRA",
        "name": "France",
        "base_url": "http://fra.invalid",
        "keys": {"sig": [], "enc": []},
        "languages": ["fr"],
        "time_zone": "Europe/Paris",
        "contacts": {},
    }
]


def test_a_signed_fresh_directory_is_accepted(pinned: Any) -> None:
    snap = directory.accept(sign_directory(pinned, NODES))
    assert snap.version == 1
    assert directory.current(max_age=0).node("FRA")["name"] == "France"


def test_signed_by_another_key_is_refused(pinned: Any) -> None:
    with pytest.raises(directory.DirectoryError):
        directory.accept(sign_directory(make_key("Ed25519"), NODES))


def test_unsigned_is_refused(pinned: Any) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps({"version": 1, "nodes": []}).encode()).rstrip(b"=").decode()
    for token in (f"{header}.{body}.", json.dumps({"version": 1}), ""):
        with pytest.raises(directory.DirectoryError):
            directory.accept(token)


def test_tampered_is_refused(pinned: Any) -> None:
    header, body, signature = sign_directory(pinned, NODES).split(".")
    document = json.loads(base64.urlsafe_b64decode(body + "=="))
    document["nodes"][0]["base_url"] = "http://attacker.invalid"
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    with pytest.raises(directory.DirectoryError):
        directory.accept(f"{header}.{forged}.{signature}")


def test_stale_is_refused(pinned: Any) -> None:
    old = sign_directory(pinned, NODES, issued=now() - timedelta(days=8), validity=timedelta(days=7))
    with pytest.raises(directory.DirectoryError, match="stale"):
        directory.accept(old)


def test_rollback_to_an_older_version_is_refused(pinned: Any) -> None:
    directory.accept(sign_directory(pinned, NODES, version=5))
    with pytest.raises(directory.DirectoryError, match="older"):
        directory.accept(sign_directory(pinned, NODES, version=4))


def test_without_a_pinned_key_nothing_is_accepted(settings: Any, db: None, secretariat_key: Any) -> None:
    settings.NODE = dataclasses.replace(settings.NODE, secretariat_key={})
    with pytest.raises(directory.DirectoryError, match="pinned"):
        directory.accept(sign_directory(secretariat_key, NODES))


def test_a_held_directory_that_expires_is_no_longer_used_for_sending(pinned: Any) -> None:
    directory.accept(
        sign_directory(pinned, NODES, issued=now() - timedelta(days=6, hours=23), validity=timedelta(days=7))
    )
    assert directory.require_current().version == 1
    directory._cache.clear()
    from django.utils import timezone

    from hanoi247.directory.models import DirectorySnapshot

    DirectorySnapshot.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(directory.DirectoryError, match="stale"):
        directory.require_current()


def test_secretariat_publishes_what_nodes_then_verify(settings: Any, db: None, own_keys: Any) -> None:
    settings.NODE = dataclasses.replace(settings.NODE, kind="secretariat", state="UNO")
    DirectoryEntry.objects.create(
        state="FRA",
        base_url="http://fra.invalid",
        keys={"sig": [], "enc": []},
        languages=["fr"],
        time_zone="Europe/Paris",
    )
    snap = directory.publish()
    response = Client().get("/directory/v1/directory.jws")
    assert response.status_code == 200 and response.content.decode() == snap.signed
    document = directory.verify(snap.signed, pinned=public(own_keys["sig"]))
    assert [n["name"] for n in document["nodes"]] == ["France"]
    assert directory.publish().version == 2


def test_only_the_secretariat_publishes(settings: Any, db: None) -> None:
    with pytest.raises(directory.DirectoryError):
        directory.publish()


def test_registration_requires_an_iso_code(db: None) -> None:
    with pytest.raises(directory.DirectoryError):
        directory.register({"state": "ATLANTIS", "base_url": "http://x.invalid"})
