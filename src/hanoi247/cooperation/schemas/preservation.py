"""Art. 42 — expedited preservation of stored electronic data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    DataCategory,
    Identifier,
    OptionalText,
    Period,
    RequestElements,
    RequestType,
    Text,
    data_categories_field,
    element,
    gettext_noop,
    identifiers_field,
)


class PreservationRequest(RequestElements):
    """Art. 42 — expedited preservation of stored electronic data."""

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 42 (a)",
            gettext_noop("Authority seeking preservation"),
            gettext_noop("Name of the authority, its unit and how to reach it."),
            "input",
        )
    )
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 42 (b)",
            gettext_noop("Offence"),
            gettext_noop("The criminal offence under investigation, with its legal provision."),
            "input",
        )
    )
    summary_of_facts: Text = Field(json_schema_extra=element("Art. 42 (b)", gettext_noop("Brief summary of the facts")))
    data_categories: list[DataCategory] = data_categories_field(
        "Art. 42 (c); Art. 2", gettext_noop("Kinds of data to preserve")
    )
    identifiers: list[Identifier] = identifiers_field("Art. 42 (c)")
    period: Period = Field(
        json_schema_extra=element(
            "Art. 42 (c)", gettext_noop("Period of the data"), gettext_noop("The dates the stored data covers.")
        )
    )
    data_to_preserve: Text = Field(
        json_schema_extra=element(
            "Art. 42 (c)",
            gettext_noop("Stored data to preserve"),
            gettext_noop("What is to be preserved for the identifiers above."),
        )
    )
    relation_to_offence: Text = Field(
        json_schema_extra=element("Art. 42 (c)", gettext_noop("Relation of the data to the offence"))
    )
    custodian: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 42 (d)",
            gettext_noop("Custodian of the data"),
            gettext_noop("The service provider holding the data, if known."),
            "input",
        ),
    )
    system_location: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 42 (d)",
            gettext_noop("Location of the information system"),
            gettext_noop("Where the data is stored, if known."),
            "input",
        ),
    )
    necessity: Text = Field(
        json_schema_extra=element(
            "Art. 42 (e)",
            gettext_noop("Why preservation is necessary"),
            gettext_noop("Why the data risks being lost or changed."),
        )
    )
    follow_up_mla: bool = Field(
        json_schema_extra=element(
            "Art. 42 (f)",
            gettext_noop("A request for mutual legal assistance will follow"),
            gettext_noop("The requesting State intends to ask for search, seizure or disclosure of the data."),
        )
    )
    confidential: bool = Field(
        default=False, json_schema_extra=element("Art. 42 (g)", gettext_noop("Keep this request confidential"))
    )
    no_user_notification: bool = Field(
        default=False, json_schema_extra=element("Art. 42 (g)", gettext_noop("Do not notify the user"))
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = []
        if not (str(payload.get("custodian") or "").strip() or str(payload.get("system_location") or "").strip()):
            found.append(
                ("custodian", gettext("identify the custodian of the data or the location of the information system"))
            )
        if payload.get("follow_up_mla") is False:
            found.append(("follow_up_mla", gettext("confirm that a request for mutual legal assistance will follow")))
        return found


EXAMPLE: dict[str, Any] = {
    "requesting_authority": "Department of Cybersecurity and High-Tech Crime Prevention, Hanoi",
    "offence": "Fraud committed by means of an ICT system (Art. 18)",
    "summary_of_facts": "A phishing campaign took savings from 300 victims between 1 and 20 November 2026.",
    "data_categories": ["subscriber", "traffic"],
    "identifiers": [
        {"kind": "email_address", "value": "contact@example.fr", "service": "Example Mail SAS"},
        {"kind": "ip_address", "value": "203.0.113.7", "observed_at": "2026-11-12T21:04:00", "time_zone": "UTC+07:00"},
    ],
    "period": {"start": "2026-11-01", "end": "2026-11-20", "time_zone": "Asia/Ho_Chi_Minh"},
    "data_to_preserve": "Subscriber records and connection logs of the account, and the IP address's assignment.",
    "relation_to_offence": "The account sent the phishing messages.",
    "custodian": "Example Mail SAS, Paris",
    "necessity": "The provider keeps connection logs for 30 days only.",
    "follow_up_mla": True,
}


TYPES = [
    RequestType(
        code="preservation",
        title=_("Expedited preservation of stored electronic data"),
        article="Art. 42",
        family="preservation",
        schema=PreservationRequest,
        version=2,
        refusal_grounds=grounds.PRESERVATION,
        urgent=True,
        acknowledge_within=timedelta(hours=4),
        execute_within=timedelta(days=2),
        min_preservation_days=60,
        examples={"complete": EXAMPLE},
    ),
]
