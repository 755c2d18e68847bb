"""Art. 47 — law-enforcement cooperation between authorities: inquiries, items and data for
analysis, means and methods, liaison. Voluntary: it is given, not owed."""

from __future__ import annotations

from typing import Any, Literal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    Identifier,
    Person,
    RequestElements,
    RequestType,
    Text,
    element,
    gettext_noop,
    identifiers_field,
    items_of,
)

CooperationKind = Literal["inquiry_persons", "movement_of_proceeds", "items_or_data", "means_and_methods", "liaison"]
COOPERATION_KINDS = {
    "inquiry_persons": gettext_noop("Inquiry on the identity, whereabouts and activities of persons"),
    "movement_of_proceeds": gettext_noop("Inquiry on the movement of proceeds of crime or property"),
    "items_or_data": gettext_noop("Items or data for analysis or investigation"),
    "means_and_methods": gettext_noop("Means and methods used to commit offences"),
    "liaison": gettext_noop("Exchange of personnel or liaison officers"),
}


class LawEnforcementRequest(RequestElements):
    """Art. 47 — law-enforcement cooperation."""

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 47",
            gettext_noop("Requesting authority"),
            gettext_noop("Name of the authority, its unit and how to reach it."),
            "input",
        )
    )
    kinds: list[CooperationKind] = Field(
        min_length=1,
        json_schema_extra=element("Art. 47", gettext_noop("Kind of cooperation"), widget="categories"),
    )
    subject: Text = Field(
        json_schema_extra=element(
            "Art. 47", gettext_noop("Subject"), gettext_noop("What is asked, and about what case or phenomenon.")
        )
    )
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 47",
            gettext_noop("Offence"),
            gettext_noop("The criminal offence concerned, with its legal provision."),
            "input",
        )
    )
    persons: list[Person] = Field(
        default_factory=list,
        max_length=50,
        json_schema_extra=element(
            "Art. 47",
            gettext_noop("Persons concerned"),
            gettext_noop("Their identity, location and nationality if known."),
        ),
    )
    identifiers: list[Identifier] = identifiers_field("Art. 47", required=False)
    purpose: Text = Field(
        json_schema_extra=element(
            "Art. 47", gettext_noop("Purpose"), gettext_noop("How the answer serves the detection or investigation.")
        )
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        kinds = payload.get("kinds") if isinstance(payload, dict) else None
        wants_persons = isinstance(kinds, list) and "inquiry_persons" in kinds
        if wants_persons and not (items_of(payload, "persons") or items_of(payload, "identifiers")):
            found.append(("persons", gettext("an inquiry on persons needs the person, or an identifier they use")))
        return found


TYPES: list[RequestType] = [
    RequestType(
        code="law_enforcement",
        title=_("Law-enforcement cooperation"),
        article="Art. 47",
        family="law_enforcement",
        schema=LawEnforcementRequest,
        refusal_grounds=grounds.VOLUNTARY,
        examples={
            "complete": {
                "requesting_authority": "Federal Police, Cybercrime Unit, Brasília",
                "kinds": ["inquiry_persons", "movement_of_proceeds"],
                "subject": "Whereabouts of a money mule recruiter and the accounts through which the proceeds of "
                "a romance scam passed.",
                "offence": "Computer-related fraud and money laundering (Penal Code, art. 171 §2-A; Law 9.613/1998)",
                "persons": [
                    {
                        "name": "Ana Souza Lima",
                        "date_of_birth": "1988-11-23",
                        "nationality": "BRA",
                        "location": "Possibly Lisbon",
                    }
                ],
                "identifiers": [
                    {"kind": "account", "value": "@ana.invest.example", "service": "Example Social"},
                    {"kind": "wallet", "value": "bc1qexampleexampleexampleexample0000", "service": "Bitcoin"},
                ],
                "purpose": "To identify the recruiter's current address and the exchanges used, before a request "
                "for mutual legal assistance.",
            }
        },
    ),
]
