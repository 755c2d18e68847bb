"""Each State's guide (issue #9, Arts. 54-56): validated, versioned, published and signed
with the directory, shown on /network/ and beside the request form's fields."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hanoi247.directory import guides
from hanoi247.directory import services as directory
from hanoi247.directory.models import DirectoryEntry
from tests.conftest import public, sign_directory, verified_client

GUIDE: dict[str, Any] = {
    "version": 2,
    "updated": "2026-10-01",
    "legal_requirements": "A request must name the offence under French law (dual criminality not required).",
    "languages": ["fr", "en"],
    "languages_note": "Urgent requests are accepted in English.",
    "urgent_procedure": "Call the 24/7 desk first, then send the request through the network within 24 hours.",
    "retention": [
        {"provider": "Electronic communications operators", "data": "traffic data", "period": "12 months"},
        {"provider": "Hosting providers", "data": "subscriber data", "period": "5 years",
         "note": "after the account closes"},
    ],
    "model_forms": [
        {"title": "Preservation request (model)", "url": "https://example.gouv.fr/preservation.pdf",
         "request_types": ["preservation"]},
        {"title": "Extradition request (model)", "text": "...", "request_types": ["extradition"]},
    ],
    "contact_hours": "24/7",
}  # fmt: skip


def test_a_complete_guide_is_valid_and_normalised() -> None:
    checked = guides.check_guide(GUIDE)
    assert checked["version"] == 2 and checked["retention"][0]["note"] == ""
    assert guides.check_guide({}) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 0}, "version"),
        ({"languages": ["xx"]}, "ISO 639-1"),
        ({"retention": [{"provider": "ISP", "data": "traffic"}]}, "retention.0.period"),
        ({"model_forms": [{"title": "x", "url": "javascript:alert(1)"}]}, "model_forms.0.url"),
        ({"surprise": "field"}, "surprise"),
        ({"updated": "1 Oct"}, "updated"),
    ],
)
def test_an_invalid_guide_is_refused_with_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(guides.GuideError, match=message):
        guides.check_guide({**GUIDE, **change})
    with pytest.raises(guides.GuideError):
        guides.check_guide(["not", "an", "object"])


@pytest.fixture
def secretariat(settings: Any, db: None, own_keys: Any) -> Any:
    settings.NODE = dataclasses.replace(settings.NODE, kind="secretariat", state="UNO")
    yield own_keys
    directory._cache.clear()


def entry(guide: dict[str, Any]) -> dict[str, Any]:
    return {"state": "FRA", "base_url": "http://fra.invalid", "keys": {"sig": [], "enc": []}, "guide": guide}


def test_the_guide_is_published_and_signed_with_the_directory(secretariat: Any) -> None:
    directory.register(entry(GUIDE))
    snap = directory.publish()
    document = directory.verify(snap.signed, pinned=public(secretariat["sig"]))
    assert document["nodes"][0]["guide"] == guides.check_guide(GUIDE)
    # The signature covers the guide: a changed guide breaks it.
    header, body, signature = snap.signed.split(".")
    import base64
    import json

    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["nodes"][0]["guide"]["contact_hours"] = "office hours"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(directory.DirectoryError):
        directory.verify(f"{header}.{forged}.{signature}", pinned=public(secretariat["sig"]))


def test_a_changed_guide_needs_a_higher_version(secretariat: Any) -> None:
    directory.register(entry(GUIDE))
    directory.register(entry(GUIDE))  # the same guide again is fine
    with pytest.raises(directory.DirectoryError, match="version"):
        directory.register(entry({**GUIDE, "contact_hours": "9-17"}))
    directory.register(entry({**GUIDE, "contact_hours": "9-17", "version": 3}))
    assert DirectoryEntry.objects.get(state="FRA").guide["version"] == 3
    with pytest.raises(directory.DirectoryError, match="languages"):
        directory.register(entry({**GUIDE, "version": 4, "languages": ["french"]}))


def test_a_node_publishes_its_own_guide_from_its_configuration(settings: Any, db: None, own_keys: Any) -> None:
    settings.NODE = dataclasses.replace(settings.NODE, guide=GUIDE)
    assert directory.own_entry()["guide"] == GUIDE


def test_without_a_guide_the_published_entry_is_unchanged(secretariat: Any) -> None:
    directory.register({k: v for k, v in entry({}).items() if k != "guide"})
    assert "guide" not in directory.publish().document["nodes"][0]


@pytest.fixture
def fra_guide(network: Any, secretariat_key: Any, own_keys: Any) -> None:
    """The directory now carries FRA's guide."""
    me = {"state": "VNM", "name": "Viet Nam", "base_url": "http://127.0.0.1:1",
          "keys": {"sig": [public(own_keys["sig"])], "enc": [public(own_keys["enc"])]},
          "languages": ["vi", "en"], "time_zone": "Asia/Ho_Chi_Minh", "contacts": {}}  # fmt: skip
    fra = {**network["fra"].entry(), "name": "France", "guide": guides.check_guide(GUIDE)}
    directory.accept(sign_directory(secretariat_key, [me, fra, network["bra"].entry()], version=2))
    directory._cache.clear()


def test_the_network_page_shows_each_states_guide(client: Any, fra_guide: None) -> None:
    page = client.get("/network/").content.decode()
    assert 'id="guide-FRA"' in page and "12 months" in page and "guide-BRA" not in page


def test_the_request_form_shows_the_requested_states_guide_beside_its_fields(personas: Any, fra_guide: None) -> None:
    client = verified_client(personas["officer"])
    page = client.get("/requests/new/preservation/?recipient=FRA").content.decode()
    assert "France's guide to requests (version 2, signed directory 2)" in page.replace("&#x27;", "'")
    assert 'href="#f-opt-language"' in page and "Urgent requests are accepted in English." in page
    assert 'href="#f-data_categories"' in page and "12 months" in page
    assert 'id="f-data_categories"' in page and 'id="f-opt-language"' in page  # the fields linked to
    assert "Preservation request (model)" in page and "Extradition request (model)" not in page
    # A State without a guide: nothing is shown.
    assert "state-guide" not in client.get("/requests/new/preservation/?recipient=BRA").content.decode()
