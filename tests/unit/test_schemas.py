"""Every request type: its complete example passes, each missing element is named with its
article, any draft gets its problems named instead of a crash, and the checks a careful
central-authority lawyer makes are made."""

from __future__ import annotations

import copy
import typing
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pytest
from annotated_types import MaxLen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from hanoi247.cooperation.schemas import REQUEST_TYPES, Missing, clean, problems
from hanoi247.cooperation.schemas.base import Element, Money, RequestType
from hanoi247.cooperation.schemas.mla import MAX_COLLECTION_DAYS
from hanoi247.demo import EXAMPLE_PRESERVATION

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CODES = sorted(REQUEST_TYPES)


def example(code: str) -> dict[str, Any]:
    """A fresh copy of the type's complete example (Art. 42's lives with the demo)."""
    found = REQUEST_TYPES[code].examples.get("complete")
    if found is None and code == "preservation":
        found = EXAMPLE_PRESERVATION
    assert found is not None, f"{code} has no complete example"
    return copy.deepcopy(found)


def required(request_type: RequestType) -> list[str]:
    return [name for name, info in request_type.schema.model_fields.items() if info.is_required()]


def named(found: list[Missing]) -> list[tuple[str, str]]:
    return [(m.field, m.article) for m in found]


# --- what every type must do ------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_complete_example_has_no_problems(code: str) -> None:
    assert problems(REQUEST_TYPES[code], example(code)) == []


@pytest.mark.parametrize("code", CODES)
def test_clean_is_idempotent(code: str) -> None:
    once = clean(REQUEST_TYPES[code], example(code))
    assert clean(REQUEST_TYPES[code], once) == once
    assert problems(REQUEST_TYPES[code], once) == []


@pytest.mark.parametrize("code", CODES)
def test_json_schema_names_every_element_with_its_article(code: str) -> None:
    schema = REQUEST_TYPES[code].schema.model_json_schema()
    assert set(schema["properties"]) == set(REQUEST_TYPES[code].schema.model_fields)
    for name, prop in schema["properties"].items():
        assert str(prop.get("article", "")).startswith("Art."), name
        assert prop.get("title"), name


def _form_can_build(annotation: Any, info: Any = None, inside: bool = False) -> bool:
    """Only what the web form builder supports (see schemas/base.py)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (str, bool, date, datetime) or origin is Literal:
        return True
    if isinstance(annotation, type) and issubclass(annotation, Element):
        return annotation is Money or all(
            _form_can_build(f.annotation, f, inside=True) for f in annotation.model_fields.values()
        )
    if origin in (typing.Union, __import__("types").UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return len(rest) == 1 and (
            rest[0] in (date, datetime) or (isinstance(rest[0], type) and issubclass(rest[0], Element))
        )
    if origin is list and len(args) == 1:
        (item,) = args
        if typing.get_origin(item) is Literal:
            return True
        limit = [m.max_length for m in getattr(info, "metadata", []) if isinstance(m, MaxLen)]
        return (
            isinstance(item, type)
            and issubclass(item, Element)
            and bool(limit)
            and limit[0] <= 50
            and (_form_can_build(item))
        )
    return False


@pytest.mark.parametrize("code", CODES)
def test_every_element_is_one_the_form_can_show(code: str) -> None:
    for name, info in REQUEST_TYPES[code].schema.model_fields.items():
        assert _form_can_build(info.annotation, info), name


@pytest.mark.parametrize("code", CODES)
def test_missing_element_is_named_with_its_article(code: str) -> None:
    request_type = REQUEST_TYPES[code]

    @FAST
    @given(st.sampled_from(required(request_type)))
    def check(name: str) -> None:
        payload = example(code)
        del payload[name]
        found = problems(request_type, payload)
        assert {m.field for m in found} == {name}
        assert all(m.article.startswith("Art.") and m.article in m.message for m in found)

    check()


@pytest.mark.parametrize("code", CODES)
def test_every_removed_element_is_named_at_once(code: str) -> None:
    request_type = REQUEST_TYPES[code]

    @FAST
    @given(st.sets(st.sampled_from(required(request_type)), min_size=1))
    def check(names: set[str]) -> None:
        payload = {k: v for k, v in example(code).items() if k not in names}
        assert names <= {m.field for m in problems(request_type, payload)}

    check()


@pytest.mark.parametrize("code", CODES)
def test_unknown_elements_are_refused(code: str) -> None:
    payload = example(code)
    payload["favourite_colour"] = "blue"
    found = problems(REQUEST_TYPES[code], payload)
    assert [m.field for m in found] == ["favourite_colour"]
    assert "not an element of this request type" in found[0].message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15,
)


@pytest.mark.parametrize("code", CODES)
def test_any_draft_gets_its_problems_named_never_a_crash(code: str) -> None:
    request_type = REQUEST_TYPES[code]
    keys = st.sampled_from(sorted(request_type.schema.model_fields)) | st.text(max_size=8)

    @FAST
    @given(st.dictionaries(keys, JSON, max_size=8))
    def check(payload: dict[str, Any]) -> None:
        found = problems(request_type, payload)
        assert all(isinstance(m, Missing) and m.message for m in found)
        if not found:
            clean(request_type, payload)

    check()


@pytest.mark.parametrize("code", CODES)
def test_an_example_spoilt_anywhere_gets_its_problems_named(code: str) -> None:
    """Junk in place of some elements, deep inside too, reaches the cross-field rules."""
    request_type = REQUEST_TYPES[code]
    fields = sorted(request_type.schema.model_fields)

    @FAST
    @given(st.dictionaries(st.sampled_from(fields), JSON, min_size=1, max_size=4))
    def check(junk: dict[str, Any]) -> None:
        payload = {**example(code), **junk}
        found = problems(request_type, payload)
        assert all(isinstance(m, Missing) for m in found)
        assert {m.field for m in found} <= set(fields)
        if not found:
            assert problems(request_type, clean(request_type, payload)) == []

    check()


@pytest.mark.parametrize("code", ["mla_realtime_traffic", "mla_interception"])
@FAST
@given(start=st.dates(date(2020, 1, 1), date(2035, 1, 1)), days=st.integers(1, 400))
def test_period_of_collection_is_limited(code: str, start: date, days: int) -> None:
    payload = example(code)
    payload["collection_period"] = {"start": start.isoformat(), "end": (start + timedelta(days=days - 1)).isoformat()}
    found = named(problems(REQUEST_TYPES[code], payload))
    article = "Art. 45; Art. 24" if code == "mla_realtime_traffic" else "Art. 46; Art. 24"
    too_long = [("collection_period", article)]
    assert found == (too_long if days > MAX_COLLECTION_DAYS else [])


# --- the lawyer's checks, each named with its article -----------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or, with ..., delete) the value at a dotted path like "identifiers.1.time_zone"."""

    def apply(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is ...:
            del node[key]
        else:
            node[key] = value

    return apply


def _all(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(payload: dict[str, Any]) -> None:
        for change in changes:
            change(payload)

    return apply


LAWYER_CHECKS: dict[str, tuple[str, Callable[[dict[str, Any]], None], str, str]] = {
    # name: (type, change to its example, the elements named (joined by +), their article)
    "ip address without time zone": (
        "mla_stored_data",
        _set("identifiers.1.time_zone", ...),
        "identifiers",
        "Art. 40 (e); Art. 44",
    ),
    "ip address without time of use": (
        "assistance_locate_suspect",
        _set("identifiers.1.observed_at", ...),
        "identifiers",
        "Art. 41 (d)",
    ),
    "not an ip address": ("traffic_disclosure", _set("identifiers.1.value", "203.0.113.300"), "identifiers", "Art. 43"),
    "date range without end": ("traffic_disclosure", _set("period.end", ...), "period", "Art. 43"),
    "date range ending before it starts": ("mla_stored_data", _set("period.end", "2025-12-31"), "period", "Art. 44"),
    "account without service": ("assistance_emergency", _set("identifiers.0.service", ""), "identifiers", "Art. 41"),
    "wallet without network": ("law_enforcement", _set("identifiers.1.service", ""), "identifiers", "Art. 47"),
    "invalid currency": ("proceeds_freezing", _set("total_amount.currency", "XYZ"), "total_amount", "Art. 50 (2)"),
    "crypto-asset is a currency": ("proceeds_freezing", _set("total_amount.currency", "btc"), "", ""),
    "negative amount": ("proceeds_return", _set("amount_to_return.amount", "-5"), "amount_to_return", "Art. 52"),
    "wallet asset without its holder": (
        "proceeds_freezing",
        _set("assets.0.held_by", ""),
        "assets",
        "Art. 50 (2); Art. 2",
    ),
    "jit party without a member": ("joint_investigation", _set("members.2", ...), "members", "Art. 48"),
    "jit member from a State not taking part": (
        "joint_investigation",
        _set("members.1.state", "FRA"),
        "members",
        "Art. 48",
    ),
    # the member from Viet Nam then belongs to no State taking part: that is said too
    "jit with one State twice": ("joint_investigation", _set("parties.1.state", "ESP"), "parties+members", "Art. 48"),
    "jit party not a State": ("joint_investigation", _set("parties.1.state", "VMN"), "parties+members", "Art. 48"),
    "jit agreement not named": (
        "joint_investigation",
        _set("legal_basis", "agreement"),
        "agreement_reference",
        "Art. 48",
    ),
    "real-time period too long": (
        "mla_realtime_traffic",
        _set("collection_period.end", "2026-12-31"),
        "collection_period",
        "Art. 45; Art. 24",
    ),
    "real-time period without end": (
        "mla_realtime_traffic",
        _set("collection_period.end", ...),
        "collection_period",
        "Art. 45; Art. 24",
    ),
    "interception period too long": (
        "mla_interception",
        _set("collection_period.end", "2027-01-31"),
        "collection_period",
        "Art. 46; Art. 24",
    ),
    "interception without proportionality": (
        "mla_interception",
        _set("proportionality", ...),
        "proportionality",
        "Art. 24",
    ),
    "provisional arrest without promise of extradition request": (
        "provisional_arrest",
        _set("extradition_will_follow", False),
        "extradition_will_follow",
        "Art. 37",
    ),
    "extradition person without nationality": ("extradition", _set("person.nationality", ""), "person", "Art. 37"),
    "extradition person with a made-up nationality": (
        "extradition",
        _set("person.nationality", "QQQ"),
        "person",
        "Art. 37",
    ),
    "judgment without the sentence": ("extradition", _set("warrant.kind", "judgment"), "sentence_imposed", "Art. 37"),
    "emergency that is not imminent": (
        "assistance_emergency",
        _set("risk_is_imminent", False),
        "risk_is_imminent",
        "Art. 2",
    ),
    "suspect known by name alone": (
        "assistance_locate_suspect",
        _all(_set("identifiers", []), _set("person", {"name": "Chidi Okoro"})),
        "identifiers",
        "Art. 41 (d)",
    ),
    "stored data without custodian or location": ("mla_stored_data", _set("custodian", ""), "custodian", "Art. 44"),
    "stored data without identifiers": (
        "mla_stored_data",
        _set("identifiers", []),
        "identifiers",
        "Art. 40 (e); Art. 44",
    ),
    "stored data expedited without reason": (
        "mla_stored_data",
        _all(_set("expedite", True), _set("urgency", "")),
        "urgency",
        "Art. 40",
    ),
    "deadline without reasons": ("mla_interception", _set("urgency", " "), "urgency", "Art. 40"),
    "mla kind of data not one of the three": (
        "mla_stored_data",
        _set("data_categories", ["metadata"]),
        "data_categories",
        "Art. 44; Art. 2",
    ),
    "confiscation order not final": (
        "proceeds_confiscation",
        _set("confiscation_order.final", False),
        "confiscation_order",
        "Art. 50 (1)",
    ),
    "return with no victim, owner or reason": ("proceeds_return", _set("victims", []), "victims", "Art. 52; Art. 34"),
    "return to an account with a wrong BIC": (
        "proceeds_return",
        _set("bank_details.bic", "EXMP"),
        "bank_details",
        "Art. 52",
    ),
    "return to a mistyped IBAN": (
        "proceeds_return",
        _set("bank_details.account_number", "GB82 WEST 1234 5698 7654 33"),
        "bank_details",
        "Art. 52",
    ),
    "inquiry on persons without a person": (
        "law_enforcement",
        _all(_set("persons", []), _set("identifiers", [])),
        "persons",
        "Art. 47",
    ),
    "inquiry without a kind": ("law_enforcement", _set("kinds", []), "kinds", "Art. 47"),
}


@pytest.mark.parametrize("case", sorted(LAWYER_CHECKS))
def test_lawyer_check(case: str) -> None:
    code, change, field, article = LAWYER_CHECKS[case]
    payload = example(code)
    change(payload)
    found = problems(REQUEST_TYPES[code], payload)
    assert set(named(found)) == {(name, article) for name in field.split("+") if name}
    assert all(article in m.message for m in found)


def test_the_alternatives_satisfy_the_lawyer() -> None:
    stored = example("mla_stored_data")
    stored["custodian"], stored["system_location"] = "", "Data centre in Da Nang"
    assert problems(REQUEST_TYPES["mla_stored_data"], stored) == []

    back = example("proceeds_return")
    back["victims"], back["no_victim_reason"] = [], "The 1,200 victims cannot be identified one by one."
    assert problems(REQUEST_TYPES["proceeds_return"], back) == []
    back["no_victim_reason"], back["legitimate_owner"] = "", "Example Trading S.L., from which the funds were taken"
    assert problems(REQUEST_TYPES["proceeds_return"], back) == []

    jit = example("joint_investigation")
    jit["legal_basis"], jit["agreement_reference"] = "agreement", "Agreement on joint investigations, 3 May 2026"
    assert problems(REQUEST_TYPES["joint_investigation"], jit) == []

    judged = example("extradition")
    judged["warrant"]["kind"], judged["sentence_imposed"] = "judgment", "Six years; five years and two months to serve"
    assert problems(REQUEST_TYPES["extradition"], judged) == []


def test_all_problems_are_named_in_one_answer() -> None:
    payload = example("joint_investigation")
    del payload["purpose"]
    payload["legal_basis"] = "agreement"
    payload["members"] = payload["members"][:1]
    payload["period"]["end"] = "2026-01-01"
    found = problems(REQUEST_TYPES["joint_investigation"], payload)
    assert {m.field for m in found} == {"purpose", "agreement_reference", "members", "period"}


def test_a_problem_inside_an_element_says_where() -> None:
    payload = example("mla_stored_data")
    del payload["identifiers"][1]["time_zone"]
    (found,) = problems(REQUEST_TYPES["mla_stored_data"], payload)
    assert found.path == "identifiers.1.time_zone"
    assert "item 2" in found.message and "time zone" in found.message


def test_each_type_cites_its_article_and_family() -> None:
    expected = {
        "assistance_technical": ("Art. 41 (a)", "assistance"),
        "assistance_legal_information": ("Art. 41 (c)", "assistance"),
        "assistance_locate_suspect": ("Art. 41 (d)", "assistance"),
        "assistance_emergency": ("Art. 41", "assistance"),
        "preservation": ("Art. 42", "preservation"),
        "traffic_disclosure": ("Art. 43", "disclosure"),
        "mla_stored_data": ("Art. 40; Art. 44", "mla"),
        "mla_realtime_traffic": ("Art. 40; Art. 45", "mla"),
        "mla_interception": ("Art. 40; Art. 46", "mla"),
        "law_enforcement": ("Art. 47", "law_enforcement"),
        "joint_investigation": ("Art. 48", "joint_investigation"),
        "proceeds_freezing": ("Art. 50 (2)", "proceeds"),
        "proceeds_confiscation": ("Art. 50 (1)", "proceeds"),
        "proceeds_return": ("Art. 52", "proceeds"),
        "extradition": ("Art. 37", "extradition"),
        "provisional_arrest": ("Art. 37", "extradition"),
    }
    assert {code: (t.article, t.family) for code, t in REQUEST_TYPES.items()} == expected
    for t in REQUEST_TYPES.values():
        assert set(t.follows) <= set(REQUEST_TYPES)
        assert "human_rights" in t.refusal_grounds
        if t.family in {"mla", "proceeds", "extradition"}:
            assert t.consult_before_refusal
    emergency = REQUEST_TYPES["assistance_emergency"]
    assert emergency.acknowledge_within == timedelta(minutes=15) and emergency.execute_within == timedelta(hours=2)


def test_schemas_are_models() -> None:
    assert all(issubclass(t.schema, BaseModel) for t in REQUEST_TYPES.values())
