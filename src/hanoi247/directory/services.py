"""The signed directory of the network (Art. 41: the register of 24/7 points of contact).

The secretariat signs it; every node pins the secretariat's key and accepts a directory only
when its signature verifies, it has not expired and its version does not go backwards.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from hanoi247.directory.models import DirectoryEntry, DirectorySnapshot
from hanoi247.federation import keys
from hanoi247.federation.envelope import JWS_REGISTRY, SIGN_ALG, canonical, iso, now, parse_time
from hanoi247.states import SECRETARIAT, STATE_DEFAULTS, is_state_code, state_name

DIRECTORY_TYP = "hanoi247-directory+jws"
DIRECTORY_PATH = "/directory/v1/directory.jws"


class DirectoryError(Exception):
    pass


# -- secretariat side --------------------------------------------------------------------


def own_entry(*, contacts: dict[str, Any] | None = None) -> dict[str, Any]:
    """What this node asks the secretariat to publish about it."""
    node = settings.NODE
    languages, tz = STATE_DEFAULTS.get(node.state, (["en"], "UTC"))
    return {
        "state": node.state,
        "base_url": node.base_url,
        "keys": {"sig": [keys.public_jwk(keys.signing_key())], "enc": [keys.public_jwk(keys.encryption_key())]},
        "languages": languages,
        "time_zone": tz,
        "contacts": contacts or {},
    }


def register(entry: dict[str, Any]) -> DirectoryEntry:
    if not is_state_code(entry.get("state", "")):
        raise DirectoryError(f"{entry.get('state')!r} is not an ISO 3166 alpha-3 State code")
    obj, _ = DirectoryEntry.objects.update_or_create(
        state=entry["state"],
        defaults={k: entry[k] for k in ("base_url", "keys", "languages", "time_zone", "contacts") if k in entry},
    )
    return obj


def publish(*, validity: timedelta | None = None) -> DirectorySnapshot:
    """Sign the current register as a new directory version."""
    if not settings.NODE.is_secretariat:
        raise DirectoryError("only the secretariat node publishes the directory")
    validity = validity or timedelta(seconds=settings.DIRECTORY_VALIDITY_SECONDS)
    with transaction.atomic():
        last = DirectorySnapshot.objects.order_by("-version").values_list("version", flat=True).first()
        issued = now()
        document = {
            "version": (last or 0) + 1,
            "issued_at": iso(issued),
            "expires_at": iso(issued + validity),
            "issuer": settings.NODE.state,
            "nodes": [
                {
                    "state": e.state,
                    "name": state_name(e.state),
                    "base_url": e.base_url,
                    "keys": e.keys,
                    "languages": e.languages,
                    "time_zone": e.time_zone,
                    "contacts": e.contacts,
                }
                for e in DirectoryEntry.objects.filter(active=True)
            ],
        }
        key = keys.signing_key()
        signed = jws.serialize_compact(
            {"alg": SIGN_ALG, "kid": key.kid, "typ": DIRECTORY_TYP},
            canonical(document),
            key,
            registry=JWS_REGISTRY,
        )
        snap = _store(document, signed)
    _cache.clear()
    return snap


def latest_signed() -> str | None:
    return DirectorySnapshot.objects.order_by("-version").values_list("signed", flat=True).first()


# -- every node ---------------------------------------------------------------------------


def verify(signed: str, *, pinned: dict[str, Any], at: datetime | None = None, min_version: int = 0) -> dict[str, Any]:
    """Check a signed directory against the pinned secretariat key. Refuses unsigned,
    tampered, expired (stale) and rolled-back documents."""
    if not pinned:
        raise DirectoryError("no secretariat key is pinned on this node")
    try:
        key = OKPKey.import_key(pinned)
        obj = jws.deserialize_compact(signed.strip(), key, registry=JWS_REGISTRY)
        document: dict[str, Any] = json.loads(obj.payload)
        expires = parse_time(document["expires_at"])
        version = int(document["version"])
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise DirectoryError(f"directory signature or form is invalid: {exc}") from None
    if obj.protected.get("typ") != DIRECTORY_TYP:
        raise DirectoryError("document is not a directory")
    if expires <= (at or now()):
        raise DirectoryError(f"directory version {version} is stale: it expired at {document['expires_at']}")
    if version < min_version:
        raise DirectoryError(f"directory version {version} is older than the one held ({min_version})")
    return document


def _store(document: dict[str, Any], signed: str) -> DirectorySnapshot:
    snap, _ = DirectorySnapshot.objects.get_or_create(
        version=document["version"],
        defaults={
            "issued_at": parse_time(document["issued_at"]),
            "expires_at": parse_time(document["expires_at"]),
            "document": document,
            "signed": signed,
        },
    )
    return snap


def accept(signed: str) -> DirectorySnapshot:
    held = DirectorySnapshot.objects.order_by("-version").values_list("version", flat=True).first() or 0
    document = verify(signed, pinned=settings.NODE.secretariat_key, min_version=held)
    snap = _store(document, signed)
    _cache.clear()
    return snap


def sync(timeout: float = 10.0) -> DirectorySnapshot:
    """Fetch the directory from the secretariat and accept it if it verifies."""
    url = settings.NODE.directory_url.rstrip("/") + DIRECTORY_PATH
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise DirectoryError(f"cannot fetch the directory from {url}: {exc}") from None
    return accept(response.text)


@dataclass(frozen=True)
class Directory:
    version: int
    expires_at: datetime
    nodes: dict[str, dict[str, Any]]

    def node(self, state: str) -> dict[str, Any] | None:
        return self.nodes.get(state)

    def key(self, state: str, kid: str, use: str = "sig") -> OKPKey | None:
        entry = self.nodes.get(state)
        for jwk in (entry or {}).get("keys", {}).get(use, []):
            if jwk.get("kid") == kid:
                return OKPKey.import_key(jwk)
        return None

    def encryption_jwk(self, state: str) -> dict[str, Any] | None:
        entry = self.nodes.get(state)
        found = (entry or {}).get("keys", {}).get("enc", [])
        return found[0] if found else None

    @property
    def stale(self) -> bool:
        return self.expires_at <= now()


_cache: dict[str, tuple[float, Directory | None]] = {}


def current(max_age: float = 2.0) -> Directory | None:
    """The newest verified directory this node holds (cached briefly per process)."""
    hit = _cache.get("d")
    if hit and time.monotonic() - hit[0] < max_age:
        return hit[1]
    snap = DirectorySnapshot.objects.order_by("-version").first()
    directory = None
    if snap is not None:
        directory = Directory(
            version=snap.version,
            expires_at=snap.expires_at,
            nodes={n["state"]: n for n in snap.document.get("nodes", [])},
        )
    _cache["d"] = (time.monotonic(), directory)
    return directory


def require_current() -> Directory:
    directory = current()
    if directory is None:
        raise DirectoryError("this node holds no directory yet: run `hanoi247 directory sync`")
    if directory.stale:
        raise DirectoryError(f"the directory (version {directory.version}) is stale; sync it from the secretariat")
    return directory


def peers() -> list[dict[str, Any]]:
    """Other nodes a request can go to, by State name."""
    directory = current()
    if directory is None:
        return []
    return sorted(
        (n for s, n in directory.nodes.items() if s not in (settings.NODE.state, SECRETARIAT)),
        key=lambda n: n["name"],
    )
