"""Art. 42 completeness: each missing element is named, with its article."""

from __future__ import annotations

from typing import Any

import pytest

from hanoi247.cooperation.schemas import REQUEST_TYPES, clean, problems

PRESERVATION = REQUEST_TYPES["preservation"]

ELEMENTS = {
    "requesting_authority": "Art. 42 (a)",
    "offence": "Art. 42 (b)",
    "summary_of_facts": "Art. 42 (b)",
    "data_categories": "Art. 42 (c); Art. 2",
    "identifiers": "Art. 42 (c)",
    "period": "Art. 42 (c)",
    "data_to_preserve": "Art. 42 (c)",
    "relation_to_offence": "Art. 42 (c)",
    "necessity": "Art. 42 (e)",
    "follow_up_mla": "Art. 42 (f)",
}


def test_complete_request_has_no_problems(complete_payload: dict[str, Any]) -> None:
    assert problems(PRESERVATION, complete_payload) == []


@pytest.mark.parametrize("field,article", ELEMENTS.items())
def test_each_missing_element_is_named_with_its_article(
    complete_payload: dict[str, Any], field: str, article: str
) -> None:
    del complete_payload[field]
    found = problems(PRESERVATION, complete_payload)
    assert [(m.field, m.article) for m in found] == [(field, article)]
    assert article in found[0].message


@pytest.mark.parametrize("field", ["offence", "summary_of_facts", "necessity"])
def test_blank_text_counts_as_missing(complete_payload: dict[str, Any], field: str) -> None:
    complete_payload[field] = "   \n "
    assert [m.field for m in problems(PRESERVATION, complete_payload)] == [field]


def test_custodian_or_location_is_required(complete_payload: dict[str, Any]) -> None:
    complete_payload.pop("custodian")
    found = problems(PRESERVATION, complete_payload)
    assert [(m.field, m.article) for m in found] == [("custodian", "Art. 42 (d)")]
    complete_payload["system_location"] = "Data centre in Roubaix, France"
    assert problems(PRESERVATION, complete_payload) == []


def test_follow_up_mla_must_be_promised(complete_payload: dict[str, Any]) -> None:
    complete_payload["follow_up_mla"] = False
    found = problems(PRESERVATION, complete_payload)
    assert [(m.field, m.article) for m in found] == [("follow_up_mla", "Art. 42 (f)")]


def test_kind_of_data_must_be_one_of_the_three(complete_payload: dict[str, Any]) -> None:
    complete_payload["data_categories"] = ["metadata"]
    assert [m.field for m in problems(PRESERVATION, complete_payload)] == ["data_categories"]
    complete_payload["data_categories"] = []
    assert [m.field for m in problems(PRESERVATION, complete_payload)] == ["data_categories"]


def test_unknown_elements_are_refused(complete_payload: dict[str, Any]) -> None:
    complete_payload["favourite_colour"] = "blue"
    found = problems(PRESERVATION, complete_payload)
    assert [m.field for m in found] == ["favourite_colour"]


def test_empty_request_names_every_required_element() -> None:
    assert {m.field for m in problems(PRESERVATION, {})} == {*ELEMENTS, "custodian"}


def test_field_errors_and_cross_field_rules_come_in_one_answer(complete_payload: dict[str, Any]) -> None:
    del complete_payload["offence"], complete_payload["custodian"]
    complete_payload["follow_up_mla"] = False
    assert {m.field for m in problems(PRESERVATION, complete_payload)} == {"offence", "custodian", "follow_up_mla"}


def test_clean_normalises_for_the_wire(complete_payload: dict[str, Any]) -> None:
    complete_payload["offence"] = "  Fraud  "
    cleaned = clean(PRESERVATION, complete_payload)
    assert cleaned["offence"] == "Fraud"
    assert cleaned["confidential"] is False and cleaned["system_location"] == ""
