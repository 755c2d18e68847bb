"""Shared fixtures: this node (VNM), a peer (FRA) whose keys the tests hold, a signed
directory naming both, and one persona per role plus a foreign officer and an outsider."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

# Playwright's sync API (the browser tests) keeps an event loop in the test thread for the
# session; Django then refuses database calls from later tests in the same process as if
# they were made from async code. Nothing in this project is async, so allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from joserfc import jws
from joserfc.jwk import OKPKey

from hanoi247.accounts.models import Role, User
from hanoi247.accounts.services import create_user
from hanoi247.demo import EXAMPLE_PRESERVATION

PASSWORD = "correct horse battery staple"


def make_key(curve: str) -> OKPKey:
    key = OKPKey.generate_key(curve, private=True)
    data = key.as_dict(private=True)
    data["kid"] = key.thumbprint()
    return OKPKey.import_key(data)


def public(key: OKPKey) -> dict[str, Any]:
    data = key.as_dict(private=False)
    data["kid"] = key.kid
    return data


@dataclass
class Peer:
    state: str
    sig: OKPKey
    enc: OKPKey

    def entry(self, base_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
        return {
            "state": self.state,
            "name": self.state,
            "base_url": base_url,
            "keys": {"sig": [public(self.sig)], "enc": [public(self.enc)]},
            "languages": ["en"],
            "time_zone": "UTC",
            "contacts": {},
        }


@pytest.fixture(scope="session")
def secretariat_key() -> OKPKey:
    return make_key("Ed25519")


@pytest.fixture(scope="session")
def fra() -> Peer:
    return Peer("FRA", make_key("Ed25519"), make_key("X25519"))


@pytest.fixture(scope="session")
def bra() -> Peer:
    return Peer("BRA", make_key("Ed25519"), make_key("X25519"))


@pytest.fixture(scope="session")
def own_keys() -> dict[str, OKPKey]:
    from hanoi247.federation import keys

    return keys.generate()


def sign_directory(
    secretariat_key: OKPKey,
    nodes: list[dict[str, Any]],
    *,
    version: int = 1,
    validity: timedelta = timedelta(days=7),
    issued: Any = None,
) -> str:
    from hanoi247.directory.services import DIRECTORY_TYP
    from hanoi247.federation.envelope import JWS_REGISTRY, canonical, iso, now

    issued = issued or now()
    document = {
        "version": version,
        "issued_at": iso(issued),
        "expires_at": iso(issued + validity),
        "issuer": "UNO",
        "nodes": nodes,
    }
    return jws.serialize_compact(
        {"alg": "Ed25519", "kid": secretariat_key.kid, "typ": DIRECTORY_TYP},
        canonical(document),
        secretariat_key,
        registry=JWS_REGISTRY,
    )


@pytest.fixture
def network(
    settings: Any, db: None, secretariat_key: OKPKey, fra: Peer, bra: Peer, own_keys: dict[str, OKPKey]
) -> dict[str, Any]:
    """This node holds a verified directory naming VNM (itself), FRA and BRA."""
    from hanoi247.directory import services as directory

    settings.NODE = dataclasses.replace(settings.NODE, secretariat_key=public(secretariat_key))
    me = {
        "state": "VNM",
        "name": "Viet Nam",
        "base_url": "http://127.0.0.1:1",
        "keys": {"sig": [public(own_keys["sig"])], "enc": [public(own_keys["enc"])]},
        "languages": ["vi", "en"],
        "time_zone": "Asia/Ho_Chi_Minh",
        "contacts": {},
    }
    directory.accept(sign_directory(secretariat_key, [me, fra.entry(), bra.entry()]))
    yield {"fra": fra, "bra": bra}
    directory._cache.clear()


def verified_client(user: User) -> Client:
    """A browser session that passed password and TOTP."""
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def personas(db: None) -> dict[str, User]:
    """Every role of this node, a foreign State's officer and the secretariat."""
    return {
        "officer": create_user("officer", PASSWORD, role=Role.OFFICER, state="VNM", full_name="Lan Nguyen"),
        "central": create_user("central", PASSWORD, role=Role.CENTRAL_AUTHORITY, state="VNM", full_name="Minh Tran"),
        "supervisor": create_user("supervisor", PASSWORD, role=Role.SUPERVISOR, state="VNM", full_name="Hoa Le"),
        "admin": create_user("admin", PASSWORD, role=Role.NODE_ADMIN, state="VNM", full_name="Node Admin"),
        "secretariat": create_user(
            "secretariat", PASSWORD, role=Role.SECRETARIAT, state="UNO", full_name="UN Secretariat"
        ),
        "foreign": create_user("foreign", PASSWORD, role=Role.OFFICER, state="FRA", full_name="Claire Martin"),
    }


COMPLETE = EXAMPLE_PRESERVATION


@pytest.fixture
def complete_payload() -> dict[str, Any]:
    return json.loads(json.dumps(COMPLETE))


@pytest.fixture
def pg_database_url() -> Iterator[str | None]:
    """The PostgreSQL URL the suite runs on, if it runs on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    yield url if url.startswith("postgres") else None
