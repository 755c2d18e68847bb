"""Evidence on one node: upload (API and browser), sealing, reading, custody, CASE/UCO,
`hanoi247 evidence verify`, storage settings, and who may do what."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from hanoi247.accounts.models import ApiToken, User
from hanoi247.evidence import age, services
from hanoi247.evidence.models import EvidenceItem
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence_dirs(settings: Any, tmp_path: Path) -> Path:
    settings.EVIDENCE_STAGING_DIR = tmp_path / "staging"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "blobs")},
        },
    }
    from django.core.files.storage import storages

    storages._storages.pop("evidence", None)
    yield tmp_path / "blobs"
    storages._storages.pop("evidence", None)


@pytest.fixture
def api(personas: dict[str, User], own_keys: Any, evidence_dirs: Path) -> Client:
    _, token = ApiToken.issue(personas["officer"], "test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def upload(api: Client, data: bytes, *, chunk: int = 100_000, **extra: Any) -> dict[str, Any]:
    started = api.post(
        "/api/v1/evidence/uploads",
        {"title": "Server image", "filename": "disk.img", "size": len(data), **extra},
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    uid = started.json()["id"]
    for offset in range(0, len(data), chunk):
        put = api.put(
            f"/api/v1/evidence/uploads/{uid}?offset={offset}",
            data[offset : offset + chunk],
            content_type="application/octet-stream",
        )
        assert put.status_code == 200, put.content
    done = api.post(f"/api/v1/evidence/uploads/{uid}/finish")
    assert done.status_code == 201, done.content
    return dict(done.json())


def test_api_upload_seals_hashes_and_records_custody(api: Client, evidence_dirs: Path) -> None:
    data = os.urandom(1_000_003)
    item = upload(api, data)
    assert item["sha256"] == hashlib.sha256(data).hexdigest() and item["size"] == len(data)
    stored = EvidenceItem.objects.get(pk=item["id"])
    blob = (evidence_dirs / stored.blob_name).read_bytes()
    assert blob.startswith(b"age-encryption.org/v1\n") and data[:64] not in blob
    assert age.decrypt_bytes(blob, services.node_identity()) == data
    content = api.get(f"/api/v1/evidence/{item['id']}/content")
    assert content.status_code == 200 and b"".join(content.streaming_content) == data
    actions = [e["action"] for e in api.get(f"/api/v1/evidence/{item['id']}/custody").json()]
    assert actions == ["acquired", "sealed", "exported"]
    assert [i["id"] for i in api.get("/api/v1/evidence").json()] == [item["id"]]
    assert not list(Path(services.staging_path("x")).parent.glob("*.part"))


def test_upload_resumes_from_what_the_node_holds(api: Client) -> None:
    data = os.urandom(300_000)
    uid = api.post(
        "/api/v1/evidence/uploads", {"title": "t", "filename": "f", "size": len(data)}, content_type="application/json"
    ).json()["id"]
    assert (
        api.put(
            f"/api/v1/evidence/uploads/{uid}?offset=0", data[:100_000], content_type="application/octet-stream"
        ).status_code
        == 200
    )
    # A chunk sent twice (its answer was lost) or out of order: refused, with the offset to resume from.
    again = api.put(f"/api/v1/evidence/uploads/{uid}?offset=0", data[:100_000], content_type="application/octet-stream")
    assert again.status_code == 409 and again.json()["offset"] == 100_000
    assert api.get(f"/api/v1/evidence/uploads/{uid}").json()["offset"] == 100_000
    early = api.post(f"/api/v1/evidence/uploads/{uid}/finish")
    assert early.status_code == 409 and "100000 of 300000" in early.json()["detail"]
    too_far = api.put(
        f"/api/v1/evidence/uploads/{uid}?offset=100000",
        data[100_000:] + b"extra",
        content_type="application/octet-stream",
    )
    assert too_far.status_code == 416
    assert (
        api.put(
            f"/api/v1/evidence/uploads/{uid}?offset=100000", data[100_000:], content_type="application/octet-stream"
        ).status_code
        == 200
    )
    item = api.post(f"/api/v1/evidence/uploads/{uid}/finish").json()
    assert item["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_age_file_for_this_node_is_imported(api: Client) -> None:
    data = os.urandom(200_000)
    sealed = age.encrypt_bytes(data, [services.node_recipient(), age.Identity.generate().recipient()])
    item = upload(api, sealed, format="age")
    assert (
        item["origin"] == "imported"
        and item["sha256"] == hashlib.sha256(data).hexdigest()
        and item["size"] == len(data)
    )
    assert b"".join(api.get(f"/api/v1/evidence/{item['id']}/content").streaming_content) == data
    foreign = age.encrypt_bytes(data, [age.Identity.generate().recipient()])
    uid = api.post(
        "/api/v1/evidence/uploads",
        {"title": "t", "filename": "f", "size": len(foreign), "format": "age"},
        content_type="application/json",
    ).json()["id"]
    api.put(f"/api/v1/evidence/uploads/{uid}?offset=0", foreign, content_type="application/octet-stream")
    refused = api.post(f"/api/v1/evidence/uploads/{uid}/finish")
    assert refused.status_code == 422 and "can decrypt" in refused.json()["detail"]


@pytest.mark.skipif(shutil.which("age") is None and not os.environ.get("CI"), reason="age not installed")
def test_stock_age_decrypts_an_export_with_the_node_identity(api: Client, tmp_path: Path) -> None:
    data = os.urandom(150_000)
    item = upload(api, data)
    key = tmp_path / "node.key"
    call_command("evidence", "identity", "--out", str(key), stdout=io.StringIO())
    recipient = services.node_recipient().encode()
    exported = api.get(f"/api/v1/evidence/{item['id']}/age?recipient={recipient}")
    assert exported.status_code == 200
    done = subprocess.run(
        ["age", "-d", "-i", str(key)], input=b"".join(exported.streaming_content), capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == data
    # And the blob as stored needs nothing but the node identity either.
    blob = services.storage().open(EvidenceItem.objects.get(pk=item["id"]).blob_name).read()
    assert subprocess.run(["age", "-d", "-i", str(key)], input=blob, capture_output=True).stdout == data
    # A file encrypted by the stock tool to the node's recipient imports.
    by_cli = subprocess.run(["age", "-e", "-r", recipient], input=data, capture_output=True).stdout
    assert upload(api, by_cli, format="age")["sha256"] == hashlib.sha256(data).hexdigest()


def test_verify_names_the_corrupt_item(api: Client, evidence_dirs: Path) -> None:
    good = upload(api, os.urandom(70_000))
    bad = upload(api, os.urandom(200_000))
    blob = evidence_dirs / EvidenceItem.objects.get(pk=bad["id"]).blob_name
    raw = bytearray(blob.read_bytes())
    raw[-1000] ^= 0x40
    blob.write_bytes(bytes(raw))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("evidence", "verify", stdout=out)
    assert exit_.value.code == 1
    text = out.getvalue()
    assert f"ok       {good['id']}" in text
    assert f"CORRUPT  {bad['id']}" in text and "chunk 3 is corrupt" in text
    assert "2 item(s) checked, 1 corrupt" in text
    assert not EvidenceItem.objects.get(pk=bad["id"]).intact
    assert api.get(f"/api/v1/evidence/{bad['id']}/content").status_code == 409
    truncated = upload(api, os.urandom(70_000))
    blob = evidence_dirs / EvidenceItem.objects.get(pk=truncated["id"]).blob_name
    blob.write_bytes(blob.read_bytes()[:-10])
    assert not services.check(EvidenceItem.objects.get(pk=truncated["id"])).ok


def test_reading_a_corrupt_blob_cuts_the_download_short(api: Client, evidence_dirs: Path) -> None:
    item = upload(api, os.urandom(9 * 1024 * 1024))
    blob = evidence_dirs / EvidenceItem.objects.get(pk=item["id"]).blob_name
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 1
    blob.write_bytes(bytes(raw))
    response = api.get(f"/api/v1/evidence/{item['id']}/content")
    got = b""
    with pytest.raises(services.IntegrityFailure):
        for block in response.streaming_content:
            got += block
    assert len(got) < item["size"]
    assert not EvidenceItem.objects.get(pk=item["id"]).intact
    assert "integrity_failed" in [e["action"] for e in api.get(f"/api/v1/evidence/{item['id']}/custody").json()]


def test_case_uco_export_validates(api: Client, tmp_path: Path) -> None:
    item = upload(api, b"hello evidence")
    response = api.get(f"/api/v1/evidence/{item['id']}/case")
    assert response.status_code == 200
    bundle = response.json()
    path = tmp_path / "bundle.jsonld"
    path.write_text(json.dumps(bundle))
    validate = shutil.which("case_validate") or str(Path(os.sys.executable).parent / "case_validate")
    done = subprocess.run([validate, str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    types = [n["@type"] for n in bundle["@graph"]]
    assert types.count("case-investigation:InvestigativeAction") == 3  # acquired, sealed, exported
    assert item["sha256"].upper() in json.dumps(bundle)


def test_browser_upload_and_pages(personas: dict[str, User], own_keys: Any, evidence_dirs: Path) -> None:
    browser = verified_client(personas["officer"])
    page = browser.get("/evidence/")
    assert page.status_code == 200 and b"evidence-upload.js" in page.content and b"<script>" not in page.content
    data = os.urandom(50_000)
    started = browser.post(
        "/evidence/uploads/",
        json.dumps({"title": "Logs", "filename": "x.log", "size": len(data)}),
        content_type="application/json",
    )
    assert started.status_code == 201
    uid = started.json()["id"]
    assert browser.put(f"/evidence/uploads/{uid}/?offset=0", data, content_type="application/octet-stream").json()[
        "offset"
    ] == len(data)
    done = browser.post(f"/evidence/uploads/{uid}/finish/")
    assert done.status_code == 201
    detail = browser.get(done.json()["url"])
    assert detail.status_code == 200
    text = detail.content.decode()
    assert (
        "Chain of custody" in text
        and "acquired" in text.lower()
        and "sealed" in text.lower()
        and hashlib.sha256(data).hexdigest() in text
    )
    opened = browser.get(done.json()["url"] + "download/?inline=1")
    assert b"".join(opened.streaming_content) == data and "sandbox" in opened["Content-Security-Policy"]
    assert "opened" in browser.get(done.json()["url"]).content.decode().lower()
    bad = browser.post("/evidence/uploads/", "not json", content_type="application/json")
    assert bad.status_code == 400


def test_outsiders_see_nothing(personas: dict[str, User], api: Client, evidence_dirs: Path) -> None:
    item = upload(api, b"secret")
    for who in ("foreign", "secretariat", "admin"):
        _, token = ApiToken.issue(personas[who], "t")
        other = Client(headers={"Authorization": f"Bearer {token}"})
        assert other.get("/api/v1/evidence").status_code == 404
        assert other.get(f"/api/v1/evidence/{item['id']}").status_code == 404
        assert other.get(f"/api/v1/evidence/{item['id']}/content").status_code == 404
        assert other.post("/api/v1/evidence/uploads", {}, content_type="application/json").status_code in (404, 422)
        browser = verified_client(personas[who])
        assert browser.get(f"/evidence/{item['id']}/").status_code == 404
        assert browser.get("/evidence/").status_code == 404
    assert Client().get("/api/v1/evidence").status_code == 401
    assert Client().get(f"/evidence/{item['id']}/").status_code == 302


def test_bad_input_is_a_clear_4xx(api: Client) -> None:
    bad = [
        ({"title": "t", "filename": "f", "size": -1}, 422),
        ({"title": "t", "filename": "f", "size": 10, "format": "zip"}, 400),
        ({"title": "t", "filename": "f", "size": 10, "media_type": "nonsense"}, 400),
        ({"title": "t", "filename": "f", "size": 10, "request_id": "no-such-request"}, 404),
        ({"title": "t", "filename": "f", "size": 1 << 60}, 413),
    ]
    for body, status in bad:
        response = api.post("/api/v1/evidence/uploads", body, content_type="application/json")
        assert response.status_code == status, (body, response.content)
        assert response.json()["detail"]
    uid = api.post(
        "/api/v1/evidence/uploads",
        {"title": "t", "filename": "../../etc/passwd", "size": 3},
        content_type="application/json",
    ).json()["id"]
    assert api.put(
        f"/api/v1/evidence/uploads/{uid}?offset=abc", b"abc", content_type="application/octet-stream"
    ).status_code in (400, 422)
    assert api.get("/api/v1/evidence/not-a-uuid").status_code in (404, 422)
    assert api.get(f"/api/v1/evidence/{uid}").status_code == 404
    assert api.get(f"/api/v1/evidence/{uid}/age?recipient=age1nonsense").status_code == 404
    item = upload(api, b"x")
    assert api.get(f"/api/v1/evidence/{item['id']}/age?recipient=age1nonsense").status_code == 400
    assert (
        api.post(
            f"/api/v1/evidence/{item['id']}/transfers", {"request_id": "nope"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert EvidenceItem.objects.get(pk=item["id"]).filename == "disk.img"
    assert services.clean_filename("../../etc/passwd") == "passwd"


def test_storage_setting_selects_s3(tmp_path: Path) -> None:
    from django.core.files.storage import storages
    from storages.backends.s3 import S3Storage

    from hanoi247.evidence.storage import evidence_storages

    env = {
        "HANOI247_EVIDENCE_STORAGE": "s3",
        "HANOI247_EVIDENCE_S3_BUCKET": "evidence",
        "HANOI247_EVIDENCE_S3_ENDPOINT": "http://127.0.0.1:9000",
    }
    config = evidence_storages(env, tmp_path)["evidence"]
    store = storages.create_storage(config)
    assert isinstance(store, S3Storage)
    assert (
        store.bucket_name == "evidence" and store.endpoint_url == "http://127.0.0.1:9000" and store.default_acl is None
    )
    assert evidence_storages({}, tmp_path)["evidence"]["OPTIONS"]["location"] == str(tmp_path / "evidence")
    with pytest.raises(ValueError):
        evidence_storages({"HANOI247_EVIDENCE_STORAGE": "ftp"}, tmp_path)


def test_every_endpoint_is_in_the_openapi_document(api: Client) -> None:
    paths = [p for p in api.get("/api/v1/openapi.json").json()["paths"] if p.startswith("/api/v1/evidence")]
    for path in (
        "/uploads",
        "/uploads/{upload_id}",
        "/uploads/{upload_id}/finish",
        "/{item_id}/custody",
        "/{item_id}/case",
    ):
        assert "/api/v1/evidence" + path in paths
