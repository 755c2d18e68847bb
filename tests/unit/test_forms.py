"""The request form built from each type's schema: what an officer types comes back as the
payload, nothing lost, empty rows dropped, errors placed on the input they concern."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.forms import BooleanField, Form
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory

from hanoi247.cooperation.forms import (
    EXTRA_ROWS,
    MAX_ROWS,
    RequestOptionsForm,
    initial_of,
    options_initial,
    payload_of,
    request_form,
)
from hanoi247.cooperation.models import Case, Direction, Handling, Request, Status
from hanoi247.cooperation.schemas import REQUEST_TYPES, clean, problems
from hanoi247.cooperation.services import Options
from hanoi247.demo import EXAMPLE_PRESERVATION

TYPES = sorted(REQUEST_TYPES)


def example(code: str) -> dict[str, Any]:
    kind = REQUEST_TYPES[code]
    found = kind.examples.get("complete") or (EXAMPLE_PRESERVATION if code == "preservation" else None)
    if not found:
        pytest.skip(f"{code} has no complete example")
    return dict(found)


def post_data(form: Form) -> QueryDict:
    """What a browser posts for ``form`` as rendered: checked boxes as "on", unchecked
    boxes and empty selections absent, several values for a multiple choice."""
    data = QueryDict(mutable=True)
    for bound in form:
        value = bound.value()
        if isinstance(bound.field, BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data.setlist(bound.html_name, [str(v) for v in value])
        elif value is not None:
            data[bound.html_name] = value.isoformat() if isinstance(value, date) else str(value)
    return data


def bind(code: str, data: QueryDict | dict[str, Any]) -> Any:
    return request_form(REQUEST_TYPES[code], include_recipient=False)(data)


@pytest.mark.parametrize("code", TYPES)
def test_example_round_trips_through_the_form(code: str) -> None:
    kind = REQUEST_TYPES[code]
    payload = example(code)
    form_class = request_form(kind, include_recipient=False)
    shown = form_class(initial=initial_of(kind, payload))
    form = form_class(post_data(shown))
    assert form.is_valid(), form.errors
    typed = payload_of(form, kind)
    assert problems(kind, typed) == []
    assert clean(kind, typed) == clean(kind, payload)


@pytest.mark.parametrize("code", TYPES)
def test_every_element_has_its_place_and_rows_have_room(code: str) -> None:
    kind = REQUEST_TYPES[code]
    form = request_form(kind, include_recipient=False)()
    assert [g.name for g in form.groups] == list(kind.schema.model_fields)
    for group in form.groups:
        assert group.title and group.shape
        assert form.articles[group.name] == group.article
        if group.shape == "rows":
            assert len(group.rows) == EXTRA_ROWS
            assert all(p.key.startswith(f"{group.name}-0-") for p in group.rows[0].parts)


@pytest.mark.parametrize("code", TYPES)
def test_garbage_in_every_field_gives_errors_not_a_crash(code: str) -> None:
    kind = REQUEST_TYPES[code]
    shown = request_form(kind, include_recipient=False)(initial=initial_of(kind, example(code)))
    data = QueryDict(mutable=True)
    for bound in shown:
        data.setlist(bound.html_name, ["\x01garbage", "2026-99-99"])
    data["identifiers-99999999-kind"] = "url"
    form = bind(code, data)
    form.is_valid()
    assert all(n.count("-") < 6 for n in form.fields)
    assert not any(n.startswith(f"{g}-{MAX_ROWS}-") for g in kind.schema.model_fields for n in form.fields)
    form.error_summary()


def test_a_malformed_date_is_an_error_on_that_field_and_is_kept() -> None:
    kind = REQUEST_TYPES["preservation"]
    data = post_data(request_form(kind, include_recipient=False)(initial=initial_of(kind, EXAMPLE_PRESERVATION)))
    data["period-start"] = "31.02.2026 perhaps"
    data["identifiers-0-observed_at"] = "yesterday evening"
    form = bind("preservation", data)
    assert not form.is_valid()
    assert "period-start" in form.errors and "identifiers-0-observed_at" in form.errors
    assert form["period-start"].value() == "31.02.2026 perhaps"
    html = str(form["identifiers-0-observed_at"])
    assert 'value="yesterday evening"' in html and 'aria-invalid="true"' in html


def test_datetimes_stay_as_typed_without_a_time_zone() -> None:
    data = {"identifiers-0-kind": "ip_address", "identifiers-0-observed_at": "2026-09-12T21:47"}
    form = bind("preservation", data)
    assert form.is_valid(), form.errors
    assert payload_of(form, REQUEST_TYPES["preservation"])["identifiers"] == [
        {"kind": "ip_address", "observed_at": "2026-09-12T21:47:00"}
    ]


def test_empty_rows_and_empty_nested_elements_are_dropped() -> None:
    data = {
        "offence": "  Fraud  ",
        "identifiers-0-kind": "",
        "identifiers-0-value": "",
        "identifiers-1-kind": "account",
        "identifiers-1-value": "k0rv",
        "identifiers-2-value": "   ",
        "period-start": "",
        "period-end": "",
        "data_categories": ["traffic", "content"],
    }
    form = bind("preservation", data)
    assert form.is_valid(), form.errors
    payload = payload_of(form, REQUEST_TYPES["preservation"])
    assert payload["identifiers"] == [{"kind": "account", "value": "k0rv"}]
    assert "period" not in payload and "summary_of_facts" not in payload
    assert payload["offence"] == "Fraud"
    assert payload["data_categories"] == ["traffic", "content"]
    # the rows typed so far (up to the last one filled) and two empty ones
    assert len(form.groups[[g.name for g in form.groups].index("identifiers")].rows) == 2 + EXTRA_ROWS


def test_a_draft_shows_its_rows_and_two_empty_ones() -> None:
    kind = REQUEST_TYPES["preservation"]
    payload = {"identifiers": [{"kind": "url", "value": "https://a.example"}] * 3}
    form = request_form(kind, include_recipient=False)(initial=initial_of(kind, payload))
    rows = next(g for g in form.groups if g.name == "identifiers").rows
    assert len(rows) == 3 + EXTRA_ROWS
    assert form["identifiers-2-value"].value() == "https://a.example"
    assert form["identifiers-3-value"].value() is None


def test_nested_elements_inside_rows() -> None:
    code = "proceeds_return"
    if code not in REQUEST_TYPES:
        pytest.skip("no proceeds_return type")
    form = bind(code, {"victims-0-name": "A", "victims-0-loss-amount": "10.50", "victims-0-loss-currency": "eur"})
    assert form.is_valid(), form.errors
    assert payload_of(form, REQUEST_TYPES[code])["victims"] == [
        {"name": "A", "loss": {"amount": "10.50", "currency": "eur"}, "consents_to_identity_sharing": False}
    ]


def test_path_errors_land_on_the_input() -> None:
    kind = REQUEST_TYPES["preservation"]
    data = post_data(request_form(kind, include_recipient=False)(initial=initial_of(kind, EXAMPLE_PRESERVATION)))
    data["identifiers-1-kind"] = "ip_address"
    data["identifiers-1-value"] = "192.0.2.1"
    form = bind("preservation", data)
    assert form.is_valid(), form.errors
    form.add_path_error("identifiers.1.time_zone", "Time zone: missing")
    form.add_path_error("period.end", "Period: a period needs its end date")
    form.add_path_error("identifiers", "Identifiers: missing")
    form.add_path_error("identifiers.1.nonsense", "odd")
    form.add_path_error("nonsense.0", "Something else")
    form.add_path_error("", "The whole request")
    assert form.errors["identifiers-1-time_zone"] == ["Time zone: missing"]
    assert form.errors["period-end"] == ["Period: a period needs its end date"]
    assert form.errors["identifiers"] == ["Identifiers: missing", "odd"]
    assert form.non_field_errors() == ["Something else", "The whole request"]
    anchors = dict(form.error_summary())
    assert anchors["id_identifiers-1-time_zone"] == "Time zone: missing"
    assert 'aria-describedby="id_identifiers-1-time_zone_helptext id_identifiers-1-time_zone_error"' in str(
        form["identifiers-1-time_zone"]
    )


def test_path_errors_count_only_the_rows_kept() -> None:
    data = {"identifiers-0-kind": "", "identifiers-1-kind": "ip_address", "identifiers-1-value": "192.0.2.1"}
    form = bind("preservation", data)
    assert form.is_valid()
    form.add_path_error("identifiers.0.time_zone", "Time zone: missing")
    assert form.errors["identifiers-1-time_zone"] == ["Time zone: missing"]


def _request(reference: str, type: str, status: str = Status.DELIVERED, state: str = "FRA") -> Request:
    return Request.objects.create(
        reference=reference,
        type=type,
        direction=Direction.OUTGOING,
        requesting_state="VNM",
        requested_state=state,
        status=status,
        payload={},
    )


@pytest.mark.django_db
def test_options_form_builds_the_options() -> None:
    kind = REQUEST_TYPES["traffic_disclosure"]
    case = Case.objects.create(reference="VNM-C2026-00001", title="Ransomware", origin_state="VNM")
    earlier = _request("VNM-2026-00001", "preservation")
    source = _request("VNM-2026-00002", "mla_stored_data")
    draft = _request("VNM-2026-00003", "preservation", status=Status.DRAFT)
    data = {
        "opt-case": str(case.pk),
        "opt-language": "fr",
        "opt-handling": Handling.RED,
        "opt-confidential": "on",
        "opt-use_limitation": " Only for case 12 ",
        "opt-follows": str(earlier.pk),
        "opt-personal_data_from": [str(source.pk)],
    }
    form = RequestOptionsForm(data, kind=kind)
    choices = dict(form.fields["personal_data_from"].choices)  # type: ignore[attr-defined]
    assert str(draft.pk) not in choices and str(source.pk) in choices
    assert str(source.pk) not in dict(form.fields["follows"].choices)  # type: ignore[attr-defined]
    assert form.is_valid(), form.errors
    assert form.options() == Options(
        case=case,
        case_title="",
        language="fr",
        handling=Handling.RED,
        conditions={"confidential": True, "use_limitation": "Only for case 12"},
        follows=str(earlier.pk),
        personal_data_from=(str(source.pk),),
    )


@pytest.mark.django_db
def test_options_form_for_a_new_case_and_a_type_that_follows_nothing() -> None:
    form = RequestOptionsForm({"opt-case": "", "opt-case_title": " New matter "}, kind=REQUEST_TYPES["preservation"])
    assert "follows" not in form.fields
    assert form.is_valid(), form.errors
    options = form.options()
    assert options.case is None and options.case_title == "New matter"
    assert options.conditions == {} and options.follows is None and options.personal_data_from == ()
    assert RequestOptionsForm({"opt-case": "not-a-uuid"}, kind=REQUEST_TYPES["preservation"]).errors["case"]


@pytest.mark.django_db
def test_options_initial_round_trips() -> None:
    kind = REQUEST_TYPES["traffic_disclosure"]
    earlier = _request("VNM-2026-00001", "preservation")
    source = _request("VNM-2026-00002", "mla_stored_data")
    req = _request("VNM-2026-00003", "traffic_disclosure", status=Status.DRAFT)
    req.language, req.handling, req.follows = "es", Handling.GREEN, earlier
    req.conditions = {"no_user_notification": True}
    req.save()
    req.personal_data_from.set([source])
    initial = options_initial(req)
    form = RequestOptionsForm(post_data(RequestOptionsForm(kind=kind, initial=initial)), kind=kind)
    assert form.is_valid(), form.errors
    options = form.options()
    assert (options.language, options.handling) == ("es", Handling.GREEN)
    assert options.conditions == {"no_user_notification": True}
    assert options.follows == str(earlier.pk) and options.personal_data_from == (str(source.pk),)


@pytest.mark.django_db
@pytest.mark.parametrize("code", TYPES)
def test_form_page_shows_every_element_with_its_article(code: str) -> None:
    kind = REQUEST_TYPES[code]
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    form = request_form(kind)(initial=initial_of(kind, kind.examples.get("complete") or {}))
    options_form = RequestOptionsForm(kind=kind)
    html = render_to_string(
        "cooperation/form.html",
        {"form": form, "options_form": options_form, "kind": kind, "req": None},
        request=request,
    )
    assert "Case, language and handling" in html and 'value="submit"' in html and "rows.js" in html
    for group in form.groups:
        assert f">{group.title}" in html.replace("&#x27;", "'"), group.title
        if group.article:
            assert f'<span class="article">{group.article}</span>' in html
    assert " style=" not in html and "<script>" not in html


def test_errors_on_the_page_link_to_the_inputs() -> None:
    kind = REQUEST_TYPES["preservation"]
    form = bind("preservation", {"period-start": "soon"})
    form.is_valid()
    form.add_path_error("identifiers", "Accounts, addresses and other identifiers: missing (Art. 42 (c))")
    html = render_to_string("cooperation/_element.html", {"form": form, "part": form.groups[5]})
    assert 'id="id_period-start_error"' in html and 'aria-describedby="id_period-start_error"' in html
    summary = dict(form.error_summary())
    assert summary["f-identifiers"].startswith("Accounts")
    assert summary["id_period-start"] == "Period of the data, from: Enter a valid date."
    assert kind.schema.model_fields
