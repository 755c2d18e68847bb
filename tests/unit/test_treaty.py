"""The treaty register: CSV import (all or nothing), export round trips, entry into force
under Art. 65 and the public status page."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from hanoi247.directory import services, treaty
from hanoi247.directory.models import TreatyAction
from hanoi247.directory.treaty import Action, entry_into_force

# -- participants ---------------------------------------------------------------------------


def test_names_resolve_to_iso_codes_and_the_eu_is_an_organisation() -> None:
    assert treaty.resolve("Viet Nam") == "VNM"
    assert treaty.resolve("Iran (Islamic Republic of)") == "IRN"
    assert treaty.resolve("Türkiye") == "TUR"
    assert treaty.resolve("European Union") == "EUU"
    assert treaty.resolve("Atlantis") is None
    assert treaty.is_organisation("EUU") and not treaty.is_organisation("FRA")
    assert treaty.participant_name("EUU") == "European Union"


def test_every_shipped_participant_has_a_region() -> None:
    import csv

    with open(services.SHIPPED_CSV, encoding="utf-8") as f:
        codes = [treaty.resolve(r["participant"]) for r in csv.DictReader(f)]
    assert None not in codes
    assert all(treaty.region(c) != treaty.UNCLASSIFIED for c in codes if c)


# -- import and export ----------------------------------------------------------------------


def test_the_shipped_csv_imports_69_rows(db: None) -> None:
    result = services.import_csv(services.SHIPPED_CSV)
    assert result.created == 69
    assert TreatyAction.objects.count() == 69
    assert TreatyAction.objects.filter(status="confirmed").count() == 65
    reported = TreatyAction.objects.filter(status="reported")
    assert reported.count() == 4
    assert all(a.date is None and "not confirmed" in a.note for a in reported)
    assert TreatyAction.objects.filter(participant="EUU", action="signature").exists()
    # importing again updates, it does not duplicate
    assert services.import_csv(services.SHIPPED_CSV).updated == 69
    assert TreatyAction.objects.count() == 69


def test_the_command_imports_the_shipped_csv_and_exports(db: None) -> None:
    out = io.StringIO()
    call_command("treaty", "import", "--shipped", stdout=out)
    assert "69 rows" in out.getvalue()
    out = io.StringIO()
    call_command("treaty", "export", "--format", "json", stdout=out)
    assert len(json.loads(out.getvalue())["actions"]) == 69


BAD = (
    "participant,action,date,status,source\n"
    "France,signature,2025-10-25,confirmed,https://example.org\n"
    "Atlantis,signature,2025-10-25,confirmed,\n"
    "Spain,signing,2025-10-25,confirmed,\n"
    "Chile,signature,25/10/2025,confirmed,\n"
    "Peru,signature,,confirmed,\n"
    "Cuba,signature,2025-10-25,rumoured,\n"
)


def test_bad_rows_are_rejected_with_their_row_numbers_and_nothing_is_stored(db: None) -> None:
    with pytest.raises(services.TreatyImportError) as caught:
        services.import_csv(io.StringIO(BAD))
    errors = caught.value.errors
    assert any(e.startswith("row 3:") and "Atlantis" in e for e in errors)
    assert any(e.startswith("row 4:") and "signing" in e for e in errors)
    assert any(e.startswith("row 5:") and "25/10/2025" in e for e in errors)
    assert any(e.startswith("row 6:") and "needs a date" in e for e in errors)
    assert any(e.startswith("row 7:") and "rumoured" in e for e in errors)
    assert not any(e.startswith("row 2:") for e in errors)
    assert TreatyAction.objects.count() == 0  # France's good row was not stored either


def test_the_command_reports_bad_rows(db: None, tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="row 3"):
        call_command("treaty", "import", str(path))
    assert TreatyAction.objects.count() == 0


def test_a_missing_column_is_rejected(db: None) -> None:
    with pytest.raises(services.TreatyImportError, match="missing column"):
        services.import_csv(io.StringIO("participant,date\nFrance,2025-10-25\n"))


def _snapshot() -> list[tuple[object, ...]]:
    return sorted(
        (a.participant, a.action, a.date, a.status, a.note, a.text, a.source) for a in TreatyAction.objects.all()
    )


def test_csv_export_round_trips(db: None) -> None:
    services.import_csv(services.SHIPPED_CSV)
    TreatyAction.objects.create(
        participant="FRA",
        action="declaration",
        date=date(2026, 3, 1),
        text="Art. 42: dual criminality, reserved.",
        source="https://example.org/a ; https://example.org/b",
    )
    before = _snapshot()
    exported = services.export_csv()
    TreatyAction.objects.all().delete()
    assert services.import_csv(io.StringIO(exported)).created == 70
    assert _snapshot() == before
    assert services.export_csv() == exported


def test_json_export_round_trips_with_sources(db: None) -> None:
    services.import_csv(services.SHIPPED_CSV)
    before = _snapshot()
    document = json.loads(services.export_json())
    assert document["instruments_needed"] == 40 and document["entry_into_force"] is None
    algeria = next(a for a in document["actions"] if a["code"] == "DZA")
    assert algeria["source"][0].startswith("https://treaties.un.org/")
    assert len(algeria["source"]) == 2
    TreatyAction.objects.all().delete()
    assert services.import_json(document).created == 69
    assert _snapshot() == before


# -- entry into force (Art. 65) -------------------------------------------------------------

STATES = [
    "AGO", "AUS", "AUT", "AZE", "BEL", "BFA", "BLR", "BRA", "BRN", "CHL", "CHN", "CIV", "COD", "CRI",
    "CUB", "CZE", "DJI", "DOM", "DZA", "ECU", "EGY", "ESP", "FRA", "GHA", "GNB", "GRC", "IRL", "IRN",
    "JAM", "KAZ", "KHM", "LAO", "LBY", "LKA", "LUX", "MAR", "MDV", "MOZ", "MYS", "NAM", "NGA", "NIC",
]  # fmt: skip
D0 = date(2026, 1, 1)


def deposits(n: int, *, start: date = D0, action: str = "ratification") -> list[Action]:
    """n States depositing one a day from ``start``."""
    return [Action(STATES[i], action, start + timedelta(days=i)) for i in range(n)]


def test_fewer_than_40_instruments_leave_the_convention_not_in_force() -> None:
    result = entry_into_force(deposits(39))
    assert result.date is None
    assert result.counted == 39 and result.needed == 1
    assert result.parties == {}


def test_the_90th_day_after_exactly_the_40th_instrument() -> None:
    actions = deposits(40)
    result = entry_into_force(actions)
    fortieth = D0 + timedelta(days=39)
    assert result.fortieth == fortieth
    assert result.date == fortieth + timedelta(days=90)
    assert result.needed == 0
    # every State depositing by the 40th instrument is bound from the same day
    assert set(result.parties.values()) == {result.date}


def test_a_41st_state_depositing_later_gets_the_30th_day_after_its_deposit() -> None:
    eif = D0 + timedelta(days=39 + 90)
    late = eif + timedelta(days=100)
    early = eif - timedelta(days=40)  # after the 40th; its 30th day still falls before the entry into force
    result = entry_into_force([*deposits(40), Action("NIC", "accession", late), Action("NGA", "acceptance", early)])
    assert result.date == eif
    assert result.parties["NIC"] == late + timedelta(days=30)
    assert result.parties["NGA"] == eif  # max(deposit + 30 days, entry into force)
    assert result.counted == 42


def test_a_withdrawal_before_entry_into_force_drops_the_count_and_a_later_instrument_restores_it() -> None:
    actions = deposits(40)
    withdrawn = D0 + timedelta(days=50)  # after the 40th (day 39), before the 90th day
    restored = D0 + timedelta(days=70)
    actions += [Action("AGO", "withdrawal_of_instrument", withdrawn)]
    pending = entry_into_force(actions)
    assert pending.date is None and pending.needed == 1 and "AGO" not in pending.deposits
    actions += [Action("NIC", "accession", restored)]
    result = entry_into_force(actions)
    assert result.fortieth == restored
    assert result.date == restored + timedelta(days=90)
    assert "AGO" not in result.parties


def test_the_european_union_does_not_add_to_its_member_states() -> None:
    actions = [*deposits(39), Action("EUU", "approval", D0 + timedelta(days=60))]
    result = entry_into_force(actions)
    assert result.date is None and result.counted == 39 and result.needed == 1
    assert "EUU" in result.deposits
    # once in force, the organisation has its own date too
    result = entry_into_force([*actions, Action("NIC", "ratification", D0 + timedelta(days=61))])
    assert result.date == D0 + timedelta(days=61 + 90)
    assert result.parties["EUU"] == result.date


def test_a_state_that_signs_and_ratifies_counts_once() -> None:
    actions = [Action(s, "signature", D0 - timedelta(days=30)) for s in STATES[:40]]
    actions += deposits(39)
    actions += [Action("AGO", "acceptance", D0 + timedelta(days=45))]  # AGO again: still one
    result = entry_into_force(actions)
    assert result.counted == 39 and result.date is None
    assert result.deposits["AGO"] == D0


def test_signatures_alone_and_undated_instruments_do_not_count() -> None:
    actions = [Action(s, "signature", D0) for s in STATES] + [Action("FRA", "ratification", None)]
    result = entry_into_force(actions)
    assert result.counted == 0 and result.needed == 40 and result.undated == ["FRA"]


def test_the_chart_is_accessible_svg_without_style_attributes() -> None:
    svg = treaty.svg_chart(treaty.cumulative([D0, D0, D0 + timedelta(days=5)]), title="T <x>", desc="D & d")
    assert svg.startswith("<svg") and '<title id="chart-title">T &lt;x&gt;</title>' in svg
    assert "<desc" in svg and "style=" not in svg
    assert "style=" not in treaty.svg_chart([], title="t", desc="d")


# -- the public page ------------------------------------------------------------------------


def test_the_status_page_is_public_with_counts_and_a_chart(db: None) -> None:
    services.import_csv(services.SHIPPED_CSV)
    response = Client().get("/treaty/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<dd id="count-signatories">69</dd>' in html
    assert '<dd id="count-parties">0</dd>' in html
    assert "40 instruments still needed" in html
    assert "<svg" in html and "<title" in html and "<desc" in html
    assert "European Union" in html and "Europe" in html and "Africa" in html
    assert "reported, date not confirmed" in html
    assert ' style="' not in html
    assert 'href="/treaty/"' in html


def test_the_status_page_never_fails(db: None) -> None:
    assert Client().get("/treaty/").status_code == 200  # empty register
    TreatyAction.objects.create(participant="ZZZ", action="ratification", date=None, status="reported")
    TreatyAction.objects.create(participant="EUU", action="declaration", date=None, status="reported")
    for i, s in enumerate(STATES[:40]):
        TreatyAction.objects.create(participant=s, action="ratification", date=D0 + timedelta(days=i))
    TreatyAction.objects.create(participant="FRA", action="withdrawal_of_instrument", date=D0 + timedelta(days=400))
    response = Client().get("/treaty/")
    assert response.status_code == 200
    assert (D0 + timedelta(days=39 + 90)).isoformat() in response.content.decode()


def test_the_signed_directory_carries_the_treaty_status(settings: Any, db: None, own_keys: Any) -> None:
    import dataclasses

    from django.test import Client

    from hanoi247.directory import services as directory
    from hanoi247.directory.models import DirectoryEntry

    settings.NODE = dataclasses.replace(settings.NODE, kind="secretariat", state="UNO")
    DirectoryEntry.objects.create(state="FRA", base_url="http://fra.invalid", keys={"sig": [], "enc": []})
    directory.import_csv(
        io.StringIO("participant,action,date,status,source\nFrance,signature,2025-10-25,confirmed,x\n")
    )
    snap = directory.publish()
    assert snap.document["treaty"]["entry_into_force"] is None
    assert snap.document["treaty"]["instruments_needed"] == 40
    assert snap.document["treaty"]["signatories"] == ["FRA"]
    directory._cache.clear()
    page = Client().get("/network/").content.decode()
    assert "Signatory" in page and "40 instruments" in page
    directory._cache.clear()
