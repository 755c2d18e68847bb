"""Images at rest: AES-256-GCM under a key of this node's own (DATA_DIR/keys/victims.key,
mode 0600), in DATA_DIR/victims (mode 0700), one file per image, mode 0600. The image id
is the associated data, so a file cannot be passed off as another image."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE = 12


def folder() -> Path:
    path = Path(settings.DATA_DIR) / "victims"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _key() -> bytes:
    path = Path(settings.DATA_DIR) / "keys" / "victims.key"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def write(image_id: UUID, data: bytes) -> str:
    """Encrypt and store; returns the blob's file name."""
    name = f"{image_id}.bin"
    nonce = secrets.token_bytes(NONCE)
    sealed = nonce + AESGCM(_key()).encrypt(nonce, data, str(image_id).encode())
    fd = os.open(folder() / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(sealed)
    return name


def read(image_id: UUID, name: str) -> bytes:
    sealed = (folder() / Path(name).name).read_bytes()
    return AESGCM(_key()).decrypt(sealed[:NONCE], sealed[NONCE:], str(image_id).encode())


def delete(name: str) -> None:
    (folder() / Path(name).name).unlink(missing_ok=True)
