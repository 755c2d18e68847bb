"""Evidence from one State to another over real HTTP: two node processes, real files."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from hanoi247.demo import Network
from hanoi247.evidence import age
from tests.conftest import COMPLETE
from tests.e2e.conftest import api

pytestmark = pytest.mark.network
SUITE_SIZE = int(os.environ.get("HANOI247_EVIDENCE_TEST_BYTES", 300 * 1000 * 1000))


def wait_for(fetch: Any, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        time.sleep(0.1)


def request_from_vnm_to_fra(net: Network) -> str:
    vnm, fra = api(net, "VNM"), api(net, "FRA")
    response = vnm.post("/requests", json={"type": "preservation", "recipient": "FRA", **COMPLETE})
    assert response.status_code == 201, response.text
    rid = str(response.json()["id"])
    assert vnm.post(f"/requests/{rid}/submit").status_code == 200
    wait_for(lambda: fra.get(f"/requests/{rid}").status_code, lambda s: s == 200)
    return rid


def write_file(path: Path, size: int) -> str:
    """A file of ``size`` bytes, not compressible, written without holding it in memory."""
    hasher = hashlib.sha256()
    block = os.urandom(4 << 20)
    with path.open("wb") as out:
        left, n = size, 0
        while left:
            piece = block[: min(len(block), left)]
            piece = n.to_bytes(8, "big") + piece[8:] if len(piece) >= 8 else piece
            out.write(piece)
            hasher.update(piece)
            left -= len(piece)
            n += 1
    return hasher.hexdigest()


def upload(client: httpx.Client, path: Path, *, chunk: int = 16 << 20, **extra: Any) -> dict[str, Any]:
    size = path.stat().st_size
    started = client.post("/evidence/uploads", json={"title": path.name, "filename": path.name, "size": size, **extra})
    assert started.status_code == 201, started.text
    uid = started.json()["id"]
    with path.open("rb") as src:
        offset = 0
        while offset < size:
            data = src.read(chunk)
            put = client.put(f"/evidence/uploads/{uid}", params={"offset": offset}, content=data)
            assert put.status_code == 200, put.text
            offset = put.json()["offset"]
    done = client.post(f"/evidence/uploads/{uid}/finish", timeout=300)
    assert done.status_code == 201, done.text
    return dict(done.json())


def test_evidence_answers_a_request_across_states(live_network: Network, tmp_path: Path) -> None:
    rid = request_from_vnm_to_fra(live_network)
    vnm, fra = api(live_network, "VNM"), api(live_network, "FRA")
    source = tmp_path / "mailbox-export.mbox"
    digest = write_file(source, SUITE_SIZE)
    item = upload(fra, source, request_id=rid)
    assert item["sha256"] == digest and item["size"] == SUITE_SIZE

    # Evidence goes to the State that made the request, never back to oneself.
    assert vnm.post(f"/evidence/{item['id']}/transfers", json={"request_id": rid}).status_code == 404
    sent = fra.post(f"/evidence/{item['id']}/transfers", json={"request_id": rid})
    assert sent.status_code == 202, sent.text
    tid = sent.json()["id"]
    done = wait_for(
        lambda: fra.get(f"/evidence/transfers/{tid}").json(), lambda t: t["status"] not in ("sending",), 300
    )
    assert done["status"] == "verified", done
    assert done["receipt"]

    held = vnm.get("/evidence", params={"request_id": rid}).json()
    assert len(held) == 1
    got = held[0]
    assert (got["sha256"], got["size"], got["origin"], got["source_state"]) == (digest, SUITE_SIZE, "received", "FRA")
    chain = vnm.get(f"/evidence/{got['id']}/custody").json()
    assert [(e["action"], e["state"]) for e in chain] == [
        ("acquired", "FRA"),
        ("sealed", "FRA"),
        ("received", "VNM"),
        ("verified", "VNM"),
    ]
    sender_chain = [e["action"] for e in fra.get(f"/evidence/{item['id']}/custody").json()]
    assert sender_chain == ["acquired", "sealed", "transferred"]

    hasher, size = hashlib.sha256(), 0
    with vnm.stream("GET", f"/evidence/{got['id']}/content", timeout=300) as response:
        assert response.status_code == 200
        for block in response.iter_bytes():
            hasher.update(block)
            size += len(block)
    assert (hasher.hexdigest(), size) == (digest, SUITE_SIZE)
    assert vnm.get(f"/evidence/{got['id']}/custody").json()[-1]["action"] == "exported"


def _manifest(net: Network, *, data: bytes, blob: bytes, transfer_id: str) -> str:
    """A manifest signed with FRA's own key, as FRA's node would sign it."""
    sig = OKPKey.import_key(json.loads((net.node("FRA").data_dir / "keys" / "sig.jwk").read_text()))
    now = datetime.now(UTC)
    body = {
        "v": 1,
        "transfer_id": transfer_id,
        "evidence_id": str(uuid.uuid4()),
        "request_id": str(uuid.uuid4()),
        "sender": "FRA",
        "recipient": "VNM",
        "title": "crafted",
        "filename": "crafted.bin",
        "media_type": "application/octet-stream",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "blob_size": len(blob),
        "created_at": now.isoformat(),
        "expires_at": (now + timedelta(days=1)).isoformat(),
        "custody": [],
    }
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return jws.serialize_compact(
        {"alg": "Ed25519", "kid": sig.kid, "typ": "hanoi247-evidence-manifest+jws"},
        payload,
        sig,
        algorithms=["Ed25519"],
    )


def _vnm_recipient(net: Network) -> age.Recipient:
    enc = json.loads((net.node("VNM").data_dir / "keys" / "enc.jwk").read_text())
    identity = age.Identity.from_bytes(base64.urlsafe_b64decode(enc["d"] + "=="))
    return identity.recipient()


def test_corrupt_truncated_and_resumed_transfers(live_network: Network) -> None:
    vnm_url = live_network.node("VNM").url + "/federation/v1/evidence/"
    data = os.urandom(3 * 1024 * 1024 + 17)
    blob = age.encrypt_bytes(data, [_vnm_recipient(live_network)])

    # Resumed: half, a chunk at the wrong offset (told where to go on), then the rest.
    tid = str(uuid.uuid4())
    auth = {"Authorization": f"H247-Manifest {_manifest(live_network, data=data, blob=blob, transfer_id=tid)}"}
    half = len(blob) // 2
    first = httpx.put(
        vnm_url + tid, content=blob[:half], headers={**auth, "Content-Range": f"bytes 0-{half - 1}/{len(blob)}"}
    )
    assert first.status_code == 202 and first.json()["offset"] == half
    assert httpx.head(vnm_url + tid, headers=auth).headers["Upload-Offset"] == str(half)
    # Asking for the verdict of a truncated transfer: not complete.
    verdict = httpx.put(
        vnm_url + tid, content=b"", headers={**auth, "Content-Range": f"bytes {len(blob)}-{len(blob) - 1}/{len(blob)}"}
    )
    assert verdict.status_code in (400, 409) and verdict.json()["offset"] == half
    wrong = httpx.put(vnm_url + tid, content=blob[:10], headers={**auth, "Content-Range": f"bytes 0-9/{len(blob)}"})
    assert wrong.status_code == 409 and wrong.json()["offset"] == half
    rest = httpx.put(
        vnm_url + tid,
        content=blob[half:],
        headers={**auth, "Content-Range": f"bytes {half}-{len(blob) - 1}/{len(blob)}"},
    )
    assert rest.status_code == 200 and rest.json()["status"] == "verified", rest.text

    # Corrupt: every byte arrives, one flipped: refused, never accepted.
    tid = str(uuid.uuid4())
    auth = {"Authorization": f"H247-Manifest {_manifest(live_network, data=data, blob=blob, transfer_id=tid)}"}
    bad = bytearray(blob)
    bad[len(bad) // 3] ^= 1
    refused = httpx.put(
        vnm_url + tid, content=bytes(bad), headers={**auth, "Content-Range": f"bytes 0-{len(blob) - 1}/{len(blob)}"}
    )
    assert refused.status_code == 422 and refused.json()["status"] == "refused"
    assert "corrupt" in refused.json()["detail"]
    again = httpx.put(
        vnm_url + tid, content=blob, headers={**auth, "Content-Range": f"bytes 0-{len(blob) - 1}/{len(blob)}"}
    )
    assert again.status_code == 422

    # Plaintext that is not what the manifest says (a valid age file of other bytes): refused.
    tid = str(uuid.uuid4())
    other = age.encrypt_bytes(os.urandom(len(data)), [_vnm_recipient(live_network)])
    auth = {"Authorization": f"H247-Manifest {_manifest(live_network, data=data, blob=other, transfer_id=tid)}"}
    mismatch = httpx.put(
        vnm_url + tid, content=other, headers={**auth, "Content-Range": f"bytes 0-{len(other) - 1}/{len(other)}"}
    )
    assert mismatch.status_code == 422 and "differs from the manifest" in mismatch.json()["detail"]

    # No manifest, a forged one, or one for another transfer: refused before any byte is kept.
    tid = str(uuid.uuid4())
    assert httpx.put(vnm_url + tid, content=b"x", headers={"Content-Range": "bytes 0-0/1"}).status_code == 401
    token = _manifest(live_network, data=data, blob=blob, transfer_id=tid)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert httpx.head(vnm_url + tid, headers={"Authorization": f"H247-Manifest {forged}"}).status_code == 403
    elsewhere = str(uuid.uuid4())
    assert httpx.head(vnm_url + elsewhere, headers={"Authorization": f"H247-Manifest {token}"}).status_code == 400

    vnm = api(live_network, "VNM")
    titles = [i["title"] for i in vnm.get("/evidence").json()]
    assert titles.count("crafted") == 1  # only the resumed, verified one
