"""Art. 37 — extradition, and provisional arrest in urgent cases pending the request.

A State may refuse to extradite its own nationals and must then prosecute them instead
(extradite or prosecute), so the person's nationality is always asked for.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    Element,
    OptionalShort,
    OptionalText,
    Person,
    RequestElements,
    RequestType,
    Short,
    Text,
    element,
    gettext_noop,
    text_of,
)

WarrantKind = Literal["arrest_warrant", "judgment"]
WARRANT_KINDS = {
    "arrest_warrant": gettext_noop("Arrest warrant"),
    "judgment": gettext_noop("Judgment"),
}


class Warrant(Element):
    """The arrest warrant, or the judgment whose sentence is to be enforced."""

    kind: WarrantKind = Field(json_schema_extra=element("", gettext_noop("Kind"), widget="select"))
    issuing_authority: Short = Field(json_schema_extra=element("", gettext_noop("Issued by"), widget="input"))
    issued_on: date = Field(json_schema_extra=element("", gettext_noop("Date"), widget="date"))
    reference: Short = Field(json_schema_extra=element("", gettext_noop("Reference"), widget="input"))


class _Wanted(RequestElements):
    """What both requests say of the person and the case."""

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 37",
            gettext_noop("Requesting authority"),
            gettext_noop("Name of the authority, its unit and how to reach it."),
            "input",
        )
    )
    person: Person = Field(
        json_schema_extra=element(
            "Art. 37", gettext_noop("Person sought"), gettext_noop("Identity, nationality and any other names.")
        )
    )
    offence: Text = Field(json_schema_extra=element("Art. 37", gettext_noop("Offence"), widget="input"))
    legal_provision: Short = Field(
        json_schema_extra=element(
            "Art. 37", gettext_noop("Legal provision"), gettext_noop("The article of the law that defines it."), "input"
        )
    )
    warrant: Warrant = Field(json_schema_extra=element("Art. 37", gettext_noop("Arrest warrant or judgment")))
    summary_of_facts: Text = Field(
        json_schema_extra=element(
            "Art. 37", gettext_noop("Summary of the facts"), gettext_noop("Time, place and the person's part in them.")
        )
    )


class ExtraditionRequest(_Wanted):
    """Art. 37 — extradition."""

    penalty: Short = Field(
        json_schema_extra=element(
            "Art. 37",
            gettext_noop("Penalty"),
            gettext_noop("The maximum penalty the law provides for the offence."),
            "input",
        )
    )
    sentence_imposed: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "Art. 37",
            gettext_noop("Sentence imposed and still to serve"),
            gettext_noop("For a person already convicted."),
            "input",
        ),
    )
    applicable_law: Text = Field(
        json_schema_extra=element(
            "Art. 37",
            gettext_noop("Text of the applicable law"),
            gettext_noop("The provisions defining the offence and its penalty, and those on limitation."),
        )
    )
    assurances: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 37; Art. 6",
            gettext_noop("Assurances"),
            gettext_noop("E.g. on the penalty or the conditions of detention, if given."),
        ),
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        person = payload.get("person") if isinstance(payload, dict) else None
        if isinstance(person, dict) and not text_of(person, "nationality"):
            found.append(
                (
                    "person",
                    gettext(
                        "give the person's nationality: a State may refuse to extradite its own nationals, "
                        "and must then prosecute them"
                    ),
                )
            )
        warrant = payload.get("warrant") if isinstance(payload, dict) else None
        if isinstance(warrant, dict) and warrant.get("kind") == "judgment" and not text_of(payload, "sentence_imposed"):
            found.append(
                ("sentence_imposed", gettext("to enforce a judgment, give the sentence imposed and what remains"))
            )
        return found


class ProvisionalArrestRequest(_Wanted):
    """Art. 37 — provisional arrest, in an urgent case, pending the request for extradition."""

    person_location: Text = Field(
        json_schema_extra=element(
            "Art. 37",
            gettext_noop("Where the person is believed to be"),
            gettext_noop("Address, town, or the flight or vessel."),
            "input",
        )
    )
    urgency: Text = Field(
        json_schema_extra=element(
            "Art. 37", gettext_noop("Why it is urgent"), gettext_noop("E.g. the person is about to leave the country.")
        )
    )
    extradition_will_follow: bool = Field(
        json_schema_extra=element(
            "Art. 37",
            gettext_noop("A request for extradition will follow"),
            gettext_noop("Provisional arrest only holds the person until the request arrives."),
        )
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        if isinstance(payload, dict) and payload.get("extradition_will_follow") is False:
            found.append(("extradition_will_follow", gettext("confirm that a request for extradition will follow")))
        return found


_PERSON = {
    "name": "Dmitri Volkov",
    "aliases": '"Frost"',
    "date_of_birth": "1987-02-11",
    "nationality": "RUS",
    "location": "Hotel near Example Airport, Hanoi",
}
_CASE = {
    "requesting_authority": "Ministry of Justice, Department of International Cooperation, Paris (central authority)",
    "person": _PERSON,
    "offence": "Unlawful access to an information system and extortion, in an organised group",
    "legal_provision": "Penal Code, arts. 323-1, 323-4-1 and 312-1",
    "warrant": {
        "kind": "arrest_warrant",
        "issuing_authority": "Investigating judge, Paris Judicial Court",
        "issued_on": "2026-05-20",
        "reference": "JI-2026-0147/MA-2",
    },
    "summary_of_facts": "Between January and March 2026 the person ran the ransomware group that encrypted the "
    "systems of 14 French municipalities and negotiated the ransoms.",
}

TYPES: list[RequestType] = [
    RequestType(
        code="extradition",
        title=_("Extradition"),
        article="Art. 37",
        family="extradition",
        schema=ExtraditionRequest,
        refusal_grounds=grounds.EXTRADITION,
        consult_before_refusal=True,
        execute_within=timedelta(days=180),
        follows=("provisional_arrest",),
        examples={
            "complete": {
                **_CASE,
                "penalty": "Ten years' imprisonment and a fine of EUR 300,000",
                "sentence_imposed": "",
                "applicable_law": 'Penal Code, art. 323-1: "Fraudulently accessing or remaining in all or part of '
                "an automated data processing system is punishable by three years' imprisonment...\"; "
                "arts. 323-4-1 and 312-1 (texts attached); limitation: six years (Code of Criminal Procedure, art. 8).",
                "assurances": "France will not seek or carry out a penalty beyond ten years' imprisonment.",
            }
        },
    ),
    RequestType(
        code="provisional_arrest",
        title=_("Provisional arrest pending extradition"),
        article="Art. 37",
        family="extradition",
        schema=ProvisionalArrestRequest,
        refusal_grounds=grounds.EXTRADITION,
        consult_before_refusal=True,
        urgent=True,
        acknowledge_within=timedelta(hours=4),
        examples={
            "complete": {
                **_CASE,
                "person_location": "Hotel near Example Airport, Hanoi; booked on a flight to Bangkok on 14 July 2026",
                "urgency": "The person leaves Viet Nam in two days.",
                "extradition_will_follow": True,
            }
        },
    ),
]
