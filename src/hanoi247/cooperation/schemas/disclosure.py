"""Art. 43 — expedited disclosure of preserved traffic data, enough to identify a provider in
another State and the path of the communication. The preservation it follows is the link
between the two requests, not an element of this one."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    Identifier,
    OptionalShort,
    Period,
    RequestElements,
    RequestType,
    Text,
    element,
    gettext_noop,
    identifiers_field,
)


class TrafficDisclosureRequest(RequestElements):
    """Art. 43 — expedited disclosure of preserved traffic data."""

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 43",
            gettext_noop("Requesting authority"),
            gettext_noop("Name of the authority, its unit and how to reach it."),
            "input",
        )
    )
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 43",
            gettext_noop("Offence"),
            gettext_noop("The criminal offence under investigation, with its legal provision."),
            "input",
        )
    )
    summary_of_facts: Text = Field(json_schema_extra=element("Art. 43", gettext_noop("Brief summary of the facts")))
    identifiers: list[Identifier] = identifiers_field(
        "Art. 43", title=gettext_noop("The communication concerned: accounts, addresses and other identifiers")
    )
    period: Period = Field(
        json_schema_extra=element(
            "Art. 43",
            gettext_noop("Period of the communication"),
            gettext_noop("The dates the communication took place."),
        )
    )
    other_provider_indication: Text = Field(
        json_schema_extra=element(
            "Art. 43",
            gettext_noop("What shows that a provider in another State carried the communication"),
            gettext_noop(
                "What was learnt in preserving the traffic data (e.g. the connection came from another network)."
            ),
        )
    )
    other_provider: OptionalShort = Field(
        default="",
        json_schema_extra=element("Art. 43", gettext_noop("That provider or State, if known"), widget="input"),
    )
    traffic_data_needed: Text = Field(
        json_schema_extra=element(
            "Art. 43",
            gettext_noop("Traffic data needed"),
            gettext_noop("Only what identifies the other provider and the path of the communication."),
        )
    )


TYPES: list[RequestType] = [
    RequestType(
        code="traffic_disclosure",
        title=_("Expedited disclosure of preserved traffic data"),
        article="Art. 43",
        family="disclosure",
        schema=TrafficDisclosureRequest,
        refusal_grounds=grounds.DISCLOSURE,
        urgent=True,
        acknowledge_within=timedelta(hours=4),
        execute_within=timedelta(days=3),
        follows=("preservation",),
        examples={
            "complete": {
                "requesting_authority": "Department of Cybersecurity and High-Tech Crime Prevention, Hanoi",
                "offence": "Fraud committed by means of an ICT system (Art. 18); Penal Code, art. 290",
                "summary_of_facts": "A phishing campaign took savings from 300 victims between 1 and 20 November "
                "2026; the messages were sent from the e-mail account below.",
                "identifiers": [
                    {"kind": "email_address", "value": "contact@example.org", "service": "Example Mail SAS"},
                    {
                        "kind": "ip_address",
                        "value": "203.0.113.7",
                        "observed_at": "2026-11-12T21:04:00",
                        "time_zone": "UTC+07:00",
                    },
                ],
                "period": {"start": "2026-11-01", "end": "2026-11-20", "time_zone": "Asia/Ho_Chi_Minh"},
                "other_provider_indication": "Your preservation notice says the account was reached only through "
                "a VPN service whose exit address 198.51.100.23 belongs to a network outside France.",
                "other_provider": "A VPN service using 198.51.100.0/24",
                "traffic_data_needed": "The source addresses, ports and times of the connections to the account "
                "from 198.51.100.23 between 1 and 20 November 2026, and the network they came from.",
            }
        },
    ),
]
