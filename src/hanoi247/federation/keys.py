"""The node's own key pairs: Ed25519 to sign, X25519 to receive encrypted messages.

Private keys live as JWK files under ``DATA_DIR/keys`` (mode 0600). Their ids are RFC 7638
thumbprints, published in the directory. Rotation (a new key published beside the old one)
is not built yet: one key of each kind per node.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from joserfc.jwk import OKPKey


def keys_dir(base: Path | None = None) -> Path:
    return (base or settings.DATA_DIR) / "keys"


def generate(base: Path | None = None) -> dict[str, OKPKey]:
    """Create the node's signing and encryption keys, unless they exist."""
    folder = keys_dir(base)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    curves: tuple[tuple[str, Literal["Ed25519", "X25519"]], ...] = (("sig", "Ed25519"), ("enc", "X25519"))
    for use, curve in curves:
        path = folder / f"{use}.jwk"
        if not path.exists():
            key = OKPKey.generate_key(curve, private=True)
            data = key.as_dict(private=True)
            data["kid"] = key.thumbprint()
            data["use"] = use
            path.write_text(json.dumps(data))
            path.chmod(0o600)
        out[use] = OKPKey.import_key(json.loads(path.read_text()))
    return out


@lru_cache(maxsize=4)
def _load(use: str, folder: str) -> OKPKey:
    data: dict[str, Any] = json.loads((Path(folder) / f"{use}.jwk").read_text())
    return OKPKey.import_key(data)


def signing_key() -> OKPKey:
    return _load("sig", str(keys_dir()))


def encryption_key() -> OKPKey:
    return _load("enc", str(keys_dir()))


def public_jwk(key: OKPKey) -> dict[str, Any]:
    data = key.as_dict(private=False)
    data["kid"] = key.kid or key.thumbprint()
    return data
