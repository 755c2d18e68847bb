"""Art. 41 — immediate assistance through the 24/7 network: technical advice, legal
information, locating suspects, and electronic data to avert an emergency (Art. 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    DataCategory,
    Identifier,
    Person,
    RequestElements,
    RequestType,
    Short,
    Text,
    data_categories_field,
    element,
    gettext_noop,
    identifiers_field,
    items_of,
    text_of,
)


class _Contact(RequestElements):
    """Who asks, and how to reach them now: 24/7 contacts answer on an expedited basis."""

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 41",
            gettext_noop("Requesting point of contact"),
            gettext_noop("The 24/7 point of contact or the authority it acts for."),
            "input",
        )
    )
    contact: Short = Field(
        json_schema_extra=element(
            "Art. 41",
            gettext_noop("How to reach the officer now"),
            gettext_noop("A telephone number in international form or an e-mail address watched around the clock."),
            "input",
        )
    )


class TechnicalAdviceRequest(_Contact):
    """Art. 41 (a) — technical advice."""

    question: Text = Field(
        json_schema_extra=element("Art. 41 (a)", gettext_noop("Question"), gettext_noop("The technical advice sought."))
    )
    context: Text = Field(
        json_schema_extra=element(
            "Art. 41 (a)",
            gettext_noop("Context"),
            gettext_noop("The investigation or incident it concerns, as far as it can be shared."),
        )
    )


class LegalInformationRequest(_Contact):
    """Art. 41 (c) — legal information."""

    legal_question: Text = Field(json_schema_extra=element("Art. 41 (c)", gettext_noop("Legal question")))
    law_concerned: Text = Field(
        json_schema_extra=element(
            "Art. 41 (c)",
            gettext_noop("Law or procedure concerned"),
            gettext_noop(
                "The measure or procedure of the requested State the question is about (e.g. preservation orders)."
            ),
        )
    )
    purpose: Text = Field(
        json_schema_extra=element(
            "Art. 41 (c)",
            gettext_noop("Purpose"),
            gettext_noop("What the answer will be used for (e.g. drafting an MLA request)."),
        )
    )


class LocateSuspectRequest(_Contact):
    """Art. 41 (d) — locating a suspect."""

    person: Person = Field(json_schema_extra=element("Art. 41 (d)", gettext_noop("Person to locate")))
    identifiers: list[Identifier] = identifiers_field(
        "Art. 41 (d)", required=False, title=gettext_noop("Accounts, addresses and other identifiers the person uses")
    )
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 41 (d)",
            gettext_noop("Offence"),
            gettext_noop("The criminal offence the person is suspected of, with its legal provision."),
            "input",
        )
    )
    summary_of_facts: Text = Field(json_schema_extra=element("Art. 41 (d)", gettext_noop("Brief summary of the facts")))
    urgency: Text = Field(
        json_schema_extra=element(
            "Art. 41 (d)",
            gettext_noop("Why it is urgent"),
            gettext_noop("Why this cannot wait for a request for mutual legal assistance."),
        )
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        person = payload.get("person") if isinstance(payload, dict) else None
        known = isinstance(person, dict) and any(
            text_of(person, name) for name in ("aliases", "date_of_birth", "location")
        )
        if isinstance(person, dict) and not items_of(payload, "identifiers") and not known:
            found.append(
                (
                    "identifiers",
                    gettext(
                        "a name alone rarely locates anyone: give an identifier the person uses, "
                        "their other names, date of birth or last known location"
                    ),
                )
            )
        return found


RiskTo = Literal["life", "safety"]
RISKS_TO = {
    "life": gettext_noop("Life"),
    "safety": gettext_noop("Safety"),
}


class EmergencyRequest(_Contact):
    """Art. 41 — electronic data to avert an emergency: a significant and imminent risk to the
    life or safety of a natural person (Art. 2)."""

    risk_to: list[RiskTo] = Field(
        min_length=1,
        json_schema_extra=element(
            "Art. 2", gettext_noop("The risk is to"), gettext_noop("Life, safety, or both."), "categories"
        ),
    )
    nature_of_risk: Text = Field(
        json_schema_extra=element(
            "Art. 2", gettext_noop("Nature of the risk"), gettext_noop("What is about to happen, and what shows it.")
        )
    )
    persons_at_risk: Text = Field(
        json_schema_extra=element(
            "Art. 2",
            gettext_noop("Persons at risk"),
            gettext_noop("Who is in danger, as far as known (a name is not needed)."),
            "",
        )
    )
    risk_is_imminent: bool = Field(
        json_schema_extra=element(
            "Art. 2",
            gettext_noop("The risk is significant and imminent"),
            gettext_noop("Only such a risk to a natural person is an emergency in the sense of the Convention."),
        )
    )
    data_categories: list[DataCategory] = data_categories_field("Art. 41; Art. 2", gettext_noop("Kinds of data needed"))
    data_needed: Text = Field(
        json_schema_extra=element(
            "Art. 41", gettext_noop("Data needed to avert the risk"), gettext_noop("And how it will help avert it.")
        )
    )
    identifiers: list[Identifier] = identifiers_field("Art. 41")
    why_it_cannot_wait: Text = Field(
        json_schema_extra=element(
            "Art. 41",
            gettext_noop("Why it cannot wait"),
            gettext_noop("Why an expedited or ordinary request would come too late."),
        )
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        if isinstance(payload, dict) and payload.get("risk_is_imminent") is False:
            found.append(
                (
                    "risk_is_imminent",
                    gettext(
                        "only a significant and imminent risk to a person's life or safety is an "
                        "emergency: otherwise ask for preservation or mutual legal assistance"
                    ),
                )
            )
        return found


_CONTACT = {
    "requesting_authority": "National 24/7 point of contact, Cybercrime Directorate, Lagos",
    "contact": "+234 1 555 0100",
}

TYPES: list[RequestType] = [
    RequestType(
        code="assistance_technical",
        title=_("Technical advice"),
        article="Art. 41 (a)",
        family="assistance",
        schema=TechnicalAdviceRequest,
        refusal_grounds=grounds.PRESERVATION,
        urgent=True,
        acknowledge_within=timedelta(hours=4),
        execute_within=timedelta(days=3),
        examples={
            "complete": {
                **_CONTACT,
                "question": "How can we tell which of your providers assigned 198.51.100.0/24 on 3 March 2026, "
                "and which log fields identify the customer behind a carrier-grade NAT address?",
                "context": "A ransomware group used the range to reach the servers of a hospital in Lagos; we are "
                "preparing a preservation request and want to name the right provider.",
            }
        },
    ),
    RequestType(
        code="assistance_legal_information",
        title=_("Legal information"),
        article="Art. 41 (c)",
        family="assistance",
        schema=LegalInformationRequest,
        refusal_grounds=grounds.PRESERVATION,
        urgent=True,
        acknowledge_within=timedelta(hours=4),
        execute_within=timedelta(days=3),
        examples={
            "complete": {
                **_CONTACT,
                "legal_question": "Does your law allow a court order for the disclosure of subscriber information to "
                "be based on a foreign request without a treaty, and which authority issues it?",
                "law_concerned": "Production orders for subscriber information held by providers in your territory.",
                "purpose": "Drafting a request for mutual legal assistance that your authorities can execute.",
            }
        },
    ),
    RequestType(
        code="assistance_locate_suspect",
        title=_("Locating a suspect"),
        article="Art. 41 (d)",
        family="assistance",
        schema=LocateSuspectRequest,
        refusal_grounds=grounds.PRESERVATION,
        urgent=True,
        acknowledge_within=timedelta(hours=4),
        execute_within=timedelta(days=3),
        examples={
            "complete": {
                **_CONTACT,
                "person": {
                    "name": "Chidi Okoro",
                    "aliases": '"darkharbour"',
                    "date_of_birth": "1994-05-17",
                    "nationality": "NGA",
                    "location": "Believed to be in Madrid since February 2026",
                },
                "identifiers": [
                    {"kind": "account", "value": "darkharbour", "service": "Example Chat (chat.example.org)"},
                    {
                        "kind": "ip_address",
                        "value": "192.0.2.44",
                        "observed_at": "2026-03-02T08:15:00",
                        "time_zone": "Europe/Madrid",
                    },
                ],
                "offence": "Illegal access and extortion (Criminal Code, s. 6 and s. 12 of the Cybercrimes Act 2015)",
                "summary_of_facts": "The suspect entered the hospital's systems, encrypted its records and demanded "
                "50 BTC; he logged in to his chat account from the address above.",
                "urgency": "He is preparing a second attack, announced on the chat service for 10 March 2026.",
            }
        },
    ),
    RequestType(
        code="assistance_emergency",
        title=_("Electronic data to avert an emergency"),
        article="Art. 41",
        family="assistance",
        schema=EmergencyRequest,
        refusal_grounds=grounds.PRESERVATION,
        urgent=True,
        acknowledge_within=timedelta(minutes=15),
        execute_within=timedelta(hours=2),
        help=_("Only for a significant and imminent risk to the life or safety of a natural person (Art. 2)."),
        examples={
            "complete": {
                **_CONTACT,
                "risk_to": ["life"],
                "nature_of_risk": "A user announced on a live stream, 40 minutes ago, that she will take her life "
                "tonight, and showed the pills.",
                "persons_at_risk": 'A girl, about 15 years old, pseudonym "bluefern"; name and address unknown.',
                "risk_is_imminent": True,
                "data_categories": ["subscriber", "traffic"],
                "data_needed": "The subscriber details of the account and the IP addresses of its last logins, to "
                "find her address and send an ambulance.",
                "identifiers": [
                    {"kind": "account", "value": "bluefern", "service": "Example Video (video.example.org)"},
                ],
                "why_it_cannot_wait": "She said she would act within the hour; any other channel takes days.",
            }
        },
    ),
]
