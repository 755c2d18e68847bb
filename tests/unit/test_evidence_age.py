"""Our age implementation against the format and the stock `age` command, both ways."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hanoi247.evidence import age

AGE = shutil.which("age")
needs_age = pytest.mark.skipif(AGE is None and not os.environ.get("CI"), reason="Debian package age not installed")
SIZES = [
    0,
    1,
    age.CHUNK - 1,
    age.CHUNK,
    age.CHUNK + 1,
    age.BLOCK_CHUNKS * age.CHUNK,
    3 * age.BLOCK_CHUNKS * age.CHUNK + 7,
]


@pytest.fixture(scope="module")
def identity() -> age.Identity:
    return age.Identity.generate()


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(identity: age.Identity, size: int) -> None:
    data = os.urandom(size)
    sealed = age.encrypt_bytes(data, [identity.recipient()])
    assert sealed.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert age.decrypt_bytes(sealed, identity) == data
    header, _ = age.read_header(io.BytesIO(sealed))
    assert len(sealed) == age.sealed_size(size, len(header.raw))


def test_seal_hashes_what_it_encrypts(identity: age.Identity) -> None:
    import hashlib

    data = os.urandom(5 * age.BLOCK_CHUNKS * age.CHUNK + 123)
    out = io.BytesIO()
    digest, size, written = age.seal(io.BytesIO(data), out, [identity.recipient()])
    assert (digest, size, written) == (hashlib.sha256(data).hexdigest(), len(data), len(out.getvalue()))


def test_keys_encode_as_age_does(identity: age.Identity) -> None:
    text = identity.encode()
    assert text.startswith("AGE-SECRET-KEY-1") and len(text) == 74
    assert age.Identity.parse(f"# comment\n{text}\n").raw() == identity.raw()
    recipient = identity.recipient().encode()
    assert recipient.startswith("age1") and len(recipient) == 62
    assert age.Recipient.parse(recipient).raw() == identity.recipient().raw()
    with pytest.raises(age.AgeError):
        age.Recipient.parse(recipient[:-1] + ("q" if recipient[-1] != "q" else "p"))


def test_corruption_truncation_and_wrong_key_are_detected(identity: age.Identity) -> None:
    data = os.urandom(3 * age.CHUNK + 5)
    sealed = age.encrypt_bytes(data, [identity.recipient()])
    header_len = len(age.read_header(io.BytesIO(sealed))[0].raw)
    flipped = bytearray(sealed)
    flipped[header_len + 16 + age.CHUNK + 100] ^= 1
    with pytest.raises(age.AgeError, match="chunk 1 is corrupt"):
        age.decrypt_bytes(bytes(flipped), identity)
    for cut in (
        len(sealed) - 1,
        header_len + 16 + age.SEALED_CHUNK,
        header_len + 16 + 2 * age.SEALED_CHUNK,
        header_len + 3,
    ):
        with pytest.raises(age.AgeError):
            age.decrypt_bytes(sealed[:cut], identity)
    with pytest.raises(age.AgeError):
        age.decrypt_bytes(sealed + b"x", identity)
    with pytest.raises(age.AgeError, match="no recipient stanza"):
        age.decrypt_bytes(sealed, age.Identity.generate())
    tampered = sealed.replace(b"-> X25519 ", b"-> X25519 A", 1)
    with pytest.raises(age.AgeError):
        age.decrypt_bytes(tampered, identity)


def test_rewrap_changes_only_the_header(identity: age.Identity) -> None:
    other = age.Identity.generate()
    data = os.urandom(2 * age.CHUNK)
    sealed = age.encrypt_bytes(data, [identity.recipient()])
    header, _ = age.read_header(io.BytesIO(sealed))
    payload = sealed[len(header.raw) :]
    fresh = age.rewrap(header, identity, [other.recipient()])
    assert age.decrypt_bytes(fresh + payload, other) == data
    with pytest.raises(age.AgeError):
        age.decrypt_bytes(fresh + payload, identity)


@needs_age
@pytest.mark.parametrize("size", [0, age.CHUNK, 2 * age.BLOCK_CHUNKS * age.CHUNK + 999])
def test_stock_age_decrypts_ours(tmp_path: Path, identity: age.Identity, size: int) -> None:
    data = os.urandom(size)
    key = tmp_path / "identity.txt"
    key.write_text(identity.encode() + "\n")
    done = subprocess.run(
        [AGE or "age", "-d", "-i", str(key)], input=age.encrypt_bytes(data, [identity.recipient()]), capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == data


@needs_age
@pytest.mark.parametrize("size", [0, age.CHUNK, 2 * age.BLOCK_CHUNKS * age.CHUNK + 999])
def test_we_decrypt_stock_age(identity: age.Identity, size: int) -> None:
    data = os.urandom(size)
    done = subprocess.run([AGE or "age", "-e", "-r", identity.recipient().encode()], input=data, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert age.decrypt_bytes(done.stdout, identity) == data
    armored = subprocess.run(
        [AGE or "age", "-e", "-r", identity.recipient().encode(), "-r", age.Identity.generate().recipient().encode()],
        input=data,
        capture_output=True,
    )
    assert age.decrypt_bytes(armored.stdout, identity) == data  # two stanzas: ours is found


def test_any_of_several_identities_decrypts(identity: age.Identity) -> None:
    retired = age.Identity.generate()
    sealed = age.encrypt_bytes(b"before the rotation", [retired.recipient()])
    assert age.decrypt_bytes(sealed, [identity, retired]) == b"before the rotation"
