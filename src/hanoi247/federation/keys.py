"""The node's own key pairs: Ed25519 to sign, X25519 to receive encrypted messages.

Private keys live as JWK files under ``DATA_DIR/keys`` (mode 0600). Their ids are RFC 7638
thumbprints, published in the directory.

Rotation (docs/adr/0012) publishes before it uses: ``rotate()`` writes the new pair as
``sig.next.jwk`` / ``enc.next.jwk``; the node's directory entry lists them (newest first)
beside the current ones, and the node already decrypts with the new X25519 key. Only when
a verified directory that lists the new keys is accepted does ``promote()`` make them
current; the old ones move to ``retired/`` and stay published, so that what they signed
stays verifiable and envelopes sealed to them still open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from joserfc.jwk import OKPKey

USES: tuple[tuple[str, Literal["Ed25519", "X25519"]], ...] = (("sig", "Ed25519"), ("enc", "X25519"))


def keys_dir(base: Path | None = None) -> Path:
    return (base or settings.DATA_DIR) / "keys"


def _new_key(path: Path, use: str, curve: Literal["Ed25519", "X25519"]) -> None:
    key = OKPKey.generate_key(curve, private=True)
    data = key.as_dict(private=True)
    data["kid"] = key.thumbprint()
    data["use"] = use
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.chmod(0o600)
    os.replace(tmp, path)


def generate(base: Path | None = None) -> dict[str, OKPKey]:
    """Create the node's signing and encryption keys, unless they exist."""
    folder = keys_dir(base)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for use, curve in USES:
        path = folder / f"{use}.jwk"
        if not path.exists():
            _new_key(path, use, curve)
        out[use] = OKPKey.import_key(json.loads(path.read_text()))
    return out


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int) -> OKPKey:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return OKPKey.import_key(data)


def _load_path(path: Path) -> OKPKey:
    # Keyed by the file's mtime: a key promoted by another process is picked up at once.
    return _read(str(path), path.stat().st_mtime_ns)


def _load(use: str, folder: str) -> OKPKey:
    return _load_path(Path(folder) / f"{use}.jwk")


def signing_key() -> OKPKey:
    return _load("sig", str(keys_dir()))


def encryption_key() -> OKPKey:
    return _load("enc", str(keys_dir()))


def pending(use: str, base: Path | None = None) -> OKPKey | None:
    """The key made by ``rotate()`` that no accepted directory has listed yet."""
    path = keys_dir(base) / f"{use}.next.jwk"
    return _load_path(path) if path.exists() else None


def retired(use: str, base: Path | None = None) -> list[OKPKey]:
    """Former keys of ``use``, newest first."""
    folder = keys_dir(base) / "retired"
    if not folder.exists():
        return []
    paths = sorted(folder.glob(f"{use}-*.jwk"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    return [_load_path(p) for p in paths]


def all_keys(use: str, base: Path | None = None) -> list[OKPKey]:
    """Every private key of ``use`` this node holds, newest first: pending, current, retired."""
    current = _load_path(keys_dir(base) / f"{use}.jwk")
    return [k for k in [pending(use, base), current, *retired(use, base)] if k is not None]


def decryption_keys() -> dict[str, OKPKey]:
    """Envelopes may be sealed to any X25519 key this node has published."""
    return {str(k.kid): k for k in all_keys("enc")}


def published(use: str) -> list[dict[str, Any]]:
    """The public keys of ``use`` for this node's directory entry, newest first."""
    return [public_jwk(k) for k in all_keys(use)]


def rotate(base: Path | None = None, uses: Iterable[str] = ("sig", "enc")) -> dict[str, OKPKey]:
    """Make new key pairs, pending until a directory lists them (see ``promote``)."""
    folder = keys_dir(base)
    made = {}
    for use, curve in USES:
        if use not in uses:
            continue
        path = folder / f"{use}.next.jwk"
        if not path.exists():
            _new_key(path, use, curve)
        made[use] = _load_path(path)
    return made


def promote(listed: dict[str, set[str]], base: Path | None = None) -> list[str]:
    """Make each pending key current once ``listed`` (kids per use, from a verified
    directory entry of this node) names it. The current key is retired, not deleted."""
    folder = keys_dir(base)
    done = []
    for use, _ in USES:
        nxt = folder / f"{use}.next.jwk"
        if not nxt.exists():
            continue
        new = json.loads(nxt.read_text())
        if new["kid"] not in listed.get(use, set()):
            continue
        current = folder / f"{use}.jwk"
        old = json.loads(current.read_text())
        (folder / "retired").mkdir(exist_ok=True)
        keep = folder / "retired" / f"{use}-{old['kid']}.jwk"
        keep.write_text(json.dumps(old))
        keep.chmod(0o600)
        os.replace(nxt, current)
        os.utime(current)  # a new mtime, so that every process's cache takes the new key
        done.append(use)
    return done


def public_jwk(key: OKPKey) -> dict[str, Any]:
    data = key.as_dict(private=False)
    data["kid"] = key.kid or key.thumbprint()
    return data
