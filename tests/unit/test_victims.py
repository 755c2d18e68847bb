"""Removal of non-consensual intimate images by hash (issue #9, Arts. 16 and 34): images
stay where they were recorded, hashes travel, matches at the PDQ threshold, identity only
with consent, images for the central authority and supervisors only."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
from typing import Any

import numpy as np
import pytest
from django.conf import settings as django_settings
from PIL import Image, ImageDraw

from hanoi247.federation.envelope import open_envelope, seal, uuid7
from hanoi247.federation.models import OutboxMessage
from hanoi247.victims import hashing, services, storage
from hanoi247.victims.models import Match, NciiCase, NciiHash, NciiImage, Removal
from tests.conftest import public, verified_client
from tests.unit.test_safeguards import message_from


def picture(seed: int, size: int = 320) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(x) for x in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        w, h = (int(v) for v in rng.integers(15, size // 2, 2))
        draw.ellipse([x, y, x + w, y + h], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


ORIGINAL = encoded(picture(1))
# The same picture, as a platform would re-serve it: smaller and recompressed as JPEG.
MODIFIED = encoded(picture(1).resize((224, 224)), "JPEG", quality=55)
DIFFERENT = encoded(picture(2))


@pytest.fixture
def central(personas: Any) -> Any:
    return personas["central"]


@pytest.fixture
def recorded(network: Any, central: Any) -> NciiCase:
    """A case recorded on this node (VNM, the victim's State) with one image."""
    case = services.record_case(
        central, summary="Ex-partner posted images", victim_name="Thi Mai", victim_contact="+84 1"
    )
    services.add_image(central, case, ORIGINAL)
    return case


def hashes_from_fra(network: Any, own_keys: Any, *, consent: bool = False, data: bytes = ORIGINAL) -> NciiCase:
    """FRA (the victim's State) sends this node the hashes of one image."""
    fp = hashing.fingerprint(data)
    case_id = str(uuid7())
    body: dict[str, Any] = {
        "case": {"id": case_id, "reference": "FRA-N2026-00001", "handling": "TLP:RED"},
        "hashes": [{"id": str(uuid7()), "pdq": fp.pdq, "pdq_quality": fp.pdq_quality, "md5": fp.md5,
                    "sha256": fp.sha256}],
        "consent": consent,
    }  # fmt: skip
    if consent:
        body["victim"] = {"name": "Camille Durand", "contact": "camille@example.org"}
    response = message_from(network["fra"], own_keys, "ncii.hashes", body, case_id)
    assert response.status_code == 200, response.json()
    return NciiCase.objects.get(pk=case_id)


# -- hashing ------------------------------------------------------------------------------


def test_pdq_matches_a_resized_recompressed_copy_within_31_bits_and_not_a_different_image() -> None:
    original, modified, different = (hashing.fingerprint(d) for d in (ORIGINAL, MODIFIED, DIFFERENT))
    assert original.md5 != modified.md5 and original.sha256 != modified.sha256
    assert hashing.hamming(original.pdq, modified.pdq) <= services.DEFAULT_PDQ_THRESHOLD == 31
    assert hashing.hamming(original.pdq, different.pdq) > 31
    assert len(original.pdq) == 64 and original.pdq_quality >= 50


def test_what_is_not_an_image_is_refused(network: Any, central: Any) -> None:
    case = services.record_case(central)
    with pytest.raises(services.VictimsError, match="not an image"):
        services.add_image(central, case, b"%PDF-1.7 not an image")


# -- the image stays on the node ------------------------------------------------------------


def test_the_image_is_stored_encrypted_outside_the_database(recorded: NciiCase) -> None:
    image = NciiImage.objects.get(case=recorded)
    path = storage.folder() / image.blob
    assert path.parent == django_settings.DATA_DIR / "victims"
    sealed = path.read_bytes()
    assert ORIGINAL[:64] not in sealed and len(sealed) == len(ORIGINAL) + 12 + 16
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert storage.read(image.id, image.blob) == ORIGINAL


def _opened(row: OutboxMessage, peer: Any, own_keys: Any) -> tuple[str, dict[str, Any]]:
    """The envelope as the recipient gets it, sealed and then opened with its own key."""
    token = seal(row.message, signing_key=own_keys["sig"], recipient_key=public(peer.enc))
    opened = open_envelope(
        token, me=peer.state, my_keys={peer.enc.kid: peer.enc}, sender_key=lambda s, k: own_keys["sig"]
    )
    return token, opened.message


def test_no_image_bytes_in_any_outgoing_envelope(network: Any, own_keys: Any, central: Any, recorded: NciiCase) -> None:
    services.add_image(central, recorded, DIFFERENT)
    assert services.share(central, recorded, ["FRA", "BRA"]) == ["BRA", "FRA"]
    rows = list(OutboxMessage.objects.all())
    assert {r.recipient for r in rows} == {"FRA", "BRA"} and {r.type for r in rows} == {"ncii.hashes"}
    for row in rows:
        token, message = _opened(row, network[row.recipient.lower()], own_keys)
        plain = json.dumps(message)
        for data in (ORIGINAL, DIFFERENT):
            for needle in (data[:48], base64.b64encode(data)[:64], base64.urlsafe_b64encode(data)[:64]):
                assert needle.decode("latin-1") not in plain
            assert data[8:40].hex() not in plain
        assert len(token) < 4096  # two sets of hashes, no picture
        assert message["handling"] == "TLP:RED"
        assert set(message["body"]) == {"case", "hashes", "consent"}
        assert set(message["body"]["hashes"][0]) == {"id", "pdq", "pdq_quality", "md5", "sha256"}
        assert "Thi Mai" not in plain and "Ex-partner" not in plain


def test_the_victims_identity_travels_only_with_recorded_consent(
    network: Any, own_keys: Any, central: Any, recorded: NciiCase
) -> None:
    services.share(central, recorded, ["FRA"])
    first = OutboxMessage.objects.get(recipient="FRA")
    assert "victim" not in first.message["body"] and first.message["body"]["consent"] is False

    services.record_consent(central, recorded, consent=True)
    services.share(central, recorded, ["FRA"])
    second = OutboxMessage.objects.filter(recipient="FRA").order_by("-seq").first()
    assert second is not None
    assert second.message["body"]["victim"] == {"name": "Thi Mai", "contact": "+84 1"}


def test_a_requested_node_keeps_no_identity_sent_without_consent(network: Any, own_keys: Any) -> None:
    case = hashes_from_fra(network, own_keys)
    assert (case.direction, case.origin_state, case.victim_name, case.consent) == ("incoming", "FRA", "", False)
    with_consent = hashes_from_fra(network, own_keys, consent=True)
    assert with_consent.victim_name == "Camille Durand" and with_consent.consent


# -- who sees the image ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("central", 200), ("supervisor", 200), ("officer", 404), ("admin", 404), ("secretariat", 404), ("foreign", 404)],
)
def test_only_the_central_authority_and_supervisors_see_the_image(
    personas: Any, recorded: NciiCase, persona: str, status: int
) -> None:
    image = NciiImage.objects.get(case=recorded)
    response = verified_client(personas[persona]).get(f"/victims/images/{image.pk}")
    assert response.status_code == status
    if status == 200:
        assert response.content == ORIGINAL
        assert response["Content-Type"] == "image/png"
        assert "no-store" in response["Cache-Control"]


def test_an_anonymous_visitor_is_sent_to_log_in(recorded: NciiCase) -> None:
    from django.test import Client

    image = NciiImage.objects.get(case=recorded)
    response = Client().get(f"/victims/images/{image.pk}")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_an_officer_sees_the_case_and_hashes_but_not_the_victim(personas: Any, recorded: NciiCase) -> None:
    page = verified_client(personas["officer"]).get(f"/victims/cases/{recorded.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert recorded.hashes.get().pdq in text
    assert "Thi Mai" not in text and "/victims/images/" not in text
    full = verified_client(personas["central"]).get(f"/victims/cases/{recorded.pk}/").content.decode()
    assert "Thi Mai" in full and "/victims/images/" in full


def test_an_officer_cannot_record_a_case_or_an_image(personas: Any, recorded: NciiCase) -> None:
    client = verified_client(personas["officer"])
    assert client.post("/victims/new/", {"handling": "TLP:RED"}).status_code == 404
    upload = io.BytesIO(ORIGINAL)
    upload.name = "x.png"
    assert client.post(f"/victims/cases/{recorded.pk}/images/", {"image": upload}).status_code == 404
    with pytest.raises(services.VictimsError):
        services.record_case(personas["officer"])


@pytest.mark.parametrize("persona", ["admin", "secretariat", "foreign"])
def test_outsiders_get_404_on_every_page(personas: Any, recorded: NciiCase, persona: str) -> None:
    client = verified_client(personas[persona])
    for url in ("/victims/", f"/victims/cases/{recorded.pk}/", "/victims/sightings/"):
        assert client.get(url).status_code == 404, url


def test_recording_through_the_pages(personas: Any, network: Any) -> None:
    client = verified_client(personas["central"])
    response = client.post("/victims/new/", {"summary": "s", "victim_name": "A", "handling": "TLP:RED"})
    case = NciiCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/victims/cases/{case.pk}/"
    upload = io.BytesIO(ORIGINAL)
    upload.name = "x.png"
    client.post(f"/victims/cases/{case.pk}/images/", {"image": upload})
    assert case.hashes.count() == 1
    client.post(f"/victims/cases/{case.pk}/share/", {"states": ["FRA"]})
    assert OutboxMessage.objects.filter(type="ncii.hashes", recipient="FRA").count() == 1


# -- matching and removal on the requested node ----------------------------------------------


def test_a_sighting_matches_a_modified_copy_and_the_removal_is_reported_back(
    network: Any, own_keys: Any, personas: Any
) -> None:
    case = hashes_from_fra(network, own_keys)
    officer = personas["officer"]
    _, none = services.submit_sighting(officer, location="https://other.example/x", image=DIFFERENT)
    assert none == []
    sighting, found = services.submit_sighting(
        officer, location="https://host.example/p/1", provider="Host Ltd", image=MODIFIED
    )
    assert [(m.method, m.hash.case_id) for m in found] == [("pdq", case.pk)]
    assert found[0].distance <= 31
    assert sighting.pdq != "" and Match.objects.count() == 1

    removal = services.report_removal(officer, found[0], note="Taken down by the host")
    row = OutboxMessage.objects.get(type="ncii.removal")
    assert row.recipient == "FRA" and row.case_ref == str(case.pk) and row.message["handling"] == "TLP:RED"
    assert row.message["body"]["hash_id"] == str(found[0].hash_id)
    assert row.message["body"]["location"] == "https://host.example/p/1"
    assert removal.reporting_state == "VNM"


def test_exact_hashes_match_without_an_image(network: Any, own_keys: Any, personas: Any) -> None:
    case = hashes_from_fra(network, own_keys)
    held = case.hashes.get()
    _, found = services.submit_sighting(personas["officer"], location="forum", sha256=held.sha256)
    assert [m.method for m in found] == ["sha256"]


def test_hashes_arriving_after_a_sighting_are_matched_against_it(network: Any, own_keys: Any, personas: Any) -> None:
    services.submit_sighting(personas["officer"], location="https://host.example/early", image=MODIFIED)
    case = hashes_from_fra(network, own_keys)
    assert Match.objects.get().hash.case == case


def test_the_threshold_is_configurable(network: Any, own_keys: Any, personas: Any, settings: Any) -> None:
    hashes_from_fra(network, own_keys)
    settings.NCII_PDQ_THRESHOLD = 0
    _, found = services.submit_sighting(personas["officer"], location="x", image=MODIFIED)
    assert found == []


def test_sightings_page_matches_an_upload(network: Any, own_keys: Any, personas: Any) -> None:
    hashes_from_fra(network, own_keys)
    upload = io.BytesIO(MODIFIED)
    upload.name = "found.jpg"
    client = verified_client(personas["officer"])
    response = client.post("/victims/sightings/", {"location": "https://h.example/1", "image": upload})
    assert response.status_code == 200
    match = Match.objects.get()
    client.post(f"/victims/matches/{match.pk}/removal/", {"note": "gone"})
    assert Removal.objects.get().note == "gone"


def test_the_victims_state_records_a_removal_reported_by_a_requested_state(
    network: Any, own_keys: Any, central: Any, recorded: NciiCase
) -> None:
    services.share(central, recorded, ["FRA"])
    held = recorded.hashes.get()
    body = {"id": str(uuid7()), "case_id": str(recorded.pk), "hash_id": str(held.pk), "location": "https://h.fr/1",
            "provider": "Hébergeur", "method": "pdq", "distance": 6, "removed_at": "2026-03-01T10:00:00Z",
            "reported_by": "Claire Martin", "note": ""}  # fmt: skip
    assert message_from(network["fra"], own_keys, "ncii.removal", body, str(recorded.pk)).status_code == 200
    removal = Removal.objects.get()
    assert (removal.reporting_state, removal.hash, removal.distance) == ("FRA", held, 6)
    # BRA was not asked: its report is refused and nothing is stored.
    body["id"] = str(uuid7())
    assert message_from(network["bra"], own_keys, "ncii.removal", body, str(recorded.pk)).status_code == 409
    assert Removal.objects.count() == 1


def test_malformed_hashes_are_refused(network: Any, own_keys: Any) -> None:
    case_id = str(uuid7())
    body = {"case": {"id": case_id, "reference": "R", "handling": "TLP:RED"},
            "hashes": [{"id": str(uuid7()), "pdq": "zz", "md5": "", "sha256": ""}]}  # fmt: skip
    response = message_from(network["fra"], own_keys, "ncii.hashes", body, case_id)
    assert response.status_code == 422
    assert not NciiCase.objects.exists() and not NciiHash.objects.exists()
