"""Art. 40 — mutual legal assistance, through the central authorities: stored data (Art. 44),
real-time collection of traffic data (Art. 45) and interception of content data (Art. 46).

Every request carries what Art. 40 asks of any request; each type adds what its own article
asks. Real-time measures are limited in duration (Art. 24): a longer period is asked for in
successive requests, each showing why collection is still needed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    DataCategory,
    Identifier,
    OptionalShort,
    OptionalText,
    Period,
    Person,
    RequestElements,
    RequestType,
    Short,
    Text,
    data_categories_field,
    element,
    gettext_noop,
    identifiers_field,
    period_days,
    text_of,
)

# Longest period of real-time collection or interception asked for in one request.
MAX_COLLECTION_DAYS = 90

Proceeding = Literal["investigation", "prosecution", "judicial_proceeding"]
StoredDataMeasure = Literal["search", "seize", "disclose"]
PROCEEDINGS = {
    "investigation": gettext_noop("Investigation"),
    "prosecution": gettext_noop("Prosecution"),
    "judicial_proceeding": gettext_noop("Judicial proceeding"),
}
STORED_DATA_MEASURES = {
    "search": gettext_noop("Search"),
    "seize": gettext_noop("Seize"),
    "disclose": gettext_noop("Disclose"),
}


class MLARequest(RequestElements):
    """What Art. 40 asks of every request for mutual legal assistance."""

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 40 (a)",
            gettext_noop("Requesting authority"),
            gettext_noop("Name of the authority, its unit and how to reach it."),
            "input",
        )
    )
    proceeding: Proceeding = Field(
        json_schema_extra=element("Art. 40 (b)", gettext_noop("Nature of the matter"), widget="select")
    )
    subject_of_proceeding: Text = Field(
        json_schema_extra=element(
            "Art. 40 (b)",
            gettext_noop("Subject of the investigation, prosecution or proceeding"),
            gettext_noop("What the case is about and its reference number."),
        )
    )
    conducting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 40 (b)",
            gettext_noop("Authority conducting it"),
            gettext_noop("The prosecutor, investigating judge or court in charge."),
            "input",
        )
    )
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 40 (b); Art. 35", gettext_noop("Offence"), gettext_noop("The criminal offence, in words."), "input"
        )
    )
    legal_provision: Short = Field(
        json_schema_extra=element(
            "Art. 40 (b); Art. 35",
            gettext_noop("Legal provision"),
            gettext_noop("The article of the law that defines the offence."),
            "input",
        )
    )
    penalty: Short = Field(
        json_schema_extra=element(
            "Art. 35; Art. 2",
            gettext_noop("Maximum penalty"),
            gettext_noop("Evidence of any serious crime (at least four years' deprivation of liberty) is in scope."),
            "input",
        )
    )
    dual_criminality: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 35",
            gettext_noop("Dual criminality"),
            gettext_noop(
                "Where the requested State requires it: why the conduct is also criminal there, whatever its name."
            ),
        ),
    )
    summary_of_facts: Text = Field(
        json_schema_extra=element("Art. 40 (c)", gettext_noop("Summary of the relevant facts"))
    )
    assistance_sought: Text = Field(
        json_schema_extra=element(
            "Art. 40 (d)", gettext_noop("Assistance sought"), gettext_noop("What the requested State is asked to do.")
        )
    )
    procedure_to_follow: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 40 (d)",
            gettext_noop("Particular procedure to follow"),
            gettext_noop("E.g. a certificate of authenticity so that the evidence is admissible."),
        ),
    )
    persons: list[Person] = Field(
        default_factory=list,
        max_length=50,
        json_schema_extra=element(
            "Art. 40 (e)",
            gettext_noop("Persons concerned"),
            gettext_noop("Where possible, their identity, location and nationality."),
        ),
    )
    identifiers: list[Identifier] = identifiers_field("Art. 40 (e)", required=False)
    purpose: Text = Field(
        json_schema_extra=element(
            "Art. 40 (f)",
            gettext_noop("Purpose of the evidence or action"),
            gettext_noop("What it will prove or serve."),
        )
    )
    suggested_deadline: date | None = Field(
        default=None,
        json_schema_extra=element(
            "Art. 40",
            gettext_noop("Suggested deadline"),
            gettext_noop("The requested State honours it as far as possible."),
            "date",
        ),
    )
    urgency: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 40", gettext_noop("Reasons for urgency"), gettext_noop("E.g. a trial date or a suspect in custody.")
        ),
    )
    confidential: bool = Field(
        default=False,
        json_schema_extra=element("Art. 40", gettext_noop("Keep the request and its subject confidential")),
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        if isinstance(payload, dict) and payload.get("suggested_deadline") and not text_of(payload, "urgency"):
            found.append(
                (
                    "urgency",
                    gettext("a suggested deadline needs its reasons, so that the requested State can honour it"),
                )
            )
        return found


class StoredDataRequest(MLARequest):
    """Arts. 40 and 44 — search, seizure and disclosure of stored electronic data."""

    identifiers: list[Identifier] = identifiers_field("Art. 40 (e); Art. 44")
    data_categories: list[DataCategory] = data_categories_field("Art. 44; Art. 2", gettext_noop("Kinds of data sought"))
    measures: list[StoredDataMeasure] = Field(
        min_length=1,
        json_schema_extra=element(
            "Art. 44",
            gettext_noop("Measures requested"),
            gettext_noop("Search or access the data, seize or secure it, disclose it."),
            "categories",
        ),
    )
    period: Period = Field(
        json_schema_extra=element(
            "Art. 44", gettext_noop("Period of the data"), gettext_noop("The dates the stored data covers.")
        )
    )
    custodian: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 44",
            gettext_noop("Custodian of the data"),
            gettext_noop("The service provider holding the data, if known."),
            "input",
        ),
    )
    system_location: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 44",
            gettext_noop("Location of the information system"),
            gettext_noop("Where the data is stored, if known."),
            "input",
        ),
    )
    expedite: bool = Field(
        default=False,
        json_schema_extra=element(
            "Art. 44",
            gettext_noop("The data is vulnerable to loss or modification"),
            gettext_noop("Asks for expedited execution; say why under the reasons for urgency."),
        ),
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        if not (text_of(payload, "custodian") or text_of(payload, "system_location")):
            found.append(
                ("custodian", gettext("identify the custodian of the data or the location of the information system"))
            )
        expedite = isinstance(payload, dict) and payload.get("expedite") is True
        if expedite and not text_of(payload, "urgency") and all(name != "urgency" for name, _ in found):
            found.append(("urgency", gettext("say why the data is vulnerable to loss or modification")))
        return found


class _CollectionRequest(MLARequest):
    """The limit on duration that Arts. 45 and 46 share (Art. 24); each type names its fields."""

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        days = period_days(payload.get("collection_period") if isinstance(payload, dict) else None)
        if days is not None and days > MAX_COLLECTION_DAYS:
            found.append(
                (
                    "collection_period",
                    gettext(
                        "a period of collection of %(days)s days is longer than %(max)s: "
                        "limit it, and ask for a renewal in a successive request"
                    )
                    % {"days": days, "max": MAX_COLLECTION_DAYS},
                )
            )
        return found


def _targets(article: str) -> Any:
    return Field(
        min_length=1,
        max_length=50,
        json_schema_extra=element(
            f"Art. 40 (e); {article}",
            gettext_noop("What identifies the owner or user, or the location"),
            gettext_noop("Accounts, numbers, addresses or devices whose communications are to be collected."),
        ),
    )


def _relation(article: str) -> Any:
    return Field(json_schema_extra=element(article, gettext_noop("Relation of the data to the offence")))


def _necessity(article: str) -> Any:
    return Field(
        json_schema_extra=element(
            article,
            gettext_noop("Why collection is needed"),
            gettext_noop("Why the evidence cannot be obtained by less intrusive means."),
        )
    )


def _collection_period(article: str) -> Any:
    return Field(
        json_schema_extra=element(
            f"{article}; Art. 24",
            gettext_noop("Period of collection"),
            # Written out (not formatted from MAX_COLLECTION_DAYS) so that it is a message to translate.
            gettext_noop("From the first to the last day of collection: at most 90 days in one request."),
        )
    )


class RealTimeTrafficRequest(_CollectionRequest):
    """Arts. 40 and 45 — real-time collection of traffic data."""

    identifiers: list[Identifier] = _targets("Art. 45")
    data_to_collect: Text = Field(
        json_schema_extra=element(
            "Art. 45",
            gettext_noop("Traffic data to collect"),
            gettext_noop("Origin, destination, route, time, date, size, duration, service."),
        )
    )
    relation_to_offence: Text = _relation("Art. 45")
    necessity: Text = _necessity("Art. 45")
    collection_period: Period = _collection_period("Art. 45")


class InterceptionRequest(_CollectionRequest):
    """Arts. 40 and 46 — interception of content data."""

    identifiers: list[Identifier] = _targets("Art. 46")
    data_to_collect: Text = Field(
        json_schema_extra=element(
            "Art. 46",
            gettext_noop("Content data to intercept"),
            gettext_noop("Which communications, on which services."),
        )
    )
    relation_to_offence: Text = _relation("Art. 46")
    necessity: Text = _necessity("Art. 46")
    collection_period: Period = _collection_period("Art. 46")
    proportionality: Text = Field(
        json_schema_extra=element(
            "Art. 24",
            gettext_noop("Seriousness, necessity and proportionality"),
            gettext_noop(
                "Why the seriousness of the offence justifies intercepting content, and how the scope is limited."
            ),
        )
    )
    authorisation: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "Art. 24",
            gettext_noop("Authorisation in the requesting State"),
            gettext_noop("The judge or independent authority that authorised the interception, with its reference."),
            "input",
        ),
    )


_COMMON: dict[str, Any] = {
    "requesting_authority": "Ministry of Justice, Department of International Cooperation, Paris (central authority)",
    "proceeding": "investigation",
    "subject_of_proceeding": "Judicial investigation no. JI-2026-0147 into a ransomware group that encrypted the "
    "systems of 14 French municipalities.",
    "conducting_authority": "Investigating judge, cybercrime section, Paris Judicial Court",
    "offence": "Unlawful access to an information system, extortion, in an organised group",
    "legal_provision": "Penal Code, arts. 323-1, 323-4-1 and 312-1",
    "penalty": "Ten years' imprisonment and a fine of EUR 300,000",
    "dual_criminality": "The conduct is illegal access (Art. 7) and computer-related extortion under your Penal Code.",
    "summary_of_facts": "Between January and March 2026, the group encrypted the municipalities' servers and "
    "demanded 30 BTC each. Ransom notes named an e-mail account hosted in your territory.",
    "procedure_to_follow": "Please attach a certificate of authenticity signed by the provider's records custodian.",
    "persons": [
        {
            "name": "Lucas Moreau",
            "aliases": '"k0rv"',
            "date_of_birth": "1991-09-02",
            "nationality": "FRA",
            "location": "Believed to live in Ho Chi Minh City",
        }
    ],
    "purpose": "To identify the members of the group and prove their use of the account before the investigating "
    "judge.",
    "suggested_deadline": "2026-09-30",
    "urgency": "Two of the suspects are in pre-trial detention, which may last until 31 October 2026.",
    "confidential": True,
}

_MAILBOX = {"kind": "email_address", "value": "k0rv@example.org", "service": "Example Mail JSC"}

TYPES: list[RequestType] = [
    RequestType(
        code="mla_stored_data",
        title=_("Mutual legal assistance: stored electronic data"),
        article="Art. 40; Art. 44",
        family="mla",
        schema=StoredDataRequest,
        refusal_grounds=grounds.MLA,
        consult_before_refusal=True,
        acknowledge_within=timedelta(days=2),
        execute_within=timedelta(days=90),
        follows=("preservation",),
        examples={
            "complete": {
                **_COMMON,
                "assistance_sought": "Search the provider's records for the account below, seize them, and disclose "
                "them to us with the certificate requested.",
                "identifiers": [
                    _MAILBOX,
                    {
                        "kind": "ip_address",
                        "value": "203.0.113.45",
                        "observed_at": "2026-02-14T03:12:00",
                        "time_zone": "Europe/Paris",
                    },
                ],
                "data_categories": ["subscriber", "traffic", "content"],
                "measures": ["search", "seize", "disclose"],
                "period": {"start": "2026-01-01", "end": "2026-03-31", "time_zone": "Europe/Paris"},
                "custodian": "Example Mail JSC, Ho Chi Minh City",
                "system_location": "",
                "expedite": False,
            }
        },
    ),
    RequestType(
        code="mla_realtime_traffic",
        title=_("Mutual legal assistance: real-time collection of traffic data"),
        article="Art. 40; Art. 45",
        family="mla",
        schema=RealTimeTrafficRequest,
        refusal_grounds=grounds.MLA,
        consult_before_refusal=True,
        acknowledge_within=timedelta(days=2),
        execute_within=timedelta(days=90),
        examples={
            "complete": {
                **_COMMON,
                "assistance_sought": "Collect in real time the traffic data of the account below and transmit it to "
                "us weekly.",
                "identifiers": [_MAILBOX],
                "data_to_collect": "For each connection to the account: source IP address and port, date, time and "
                "time zone, and the addresses of the messages' senders and recipients.",
                "relation_to_offence": "The account negotiates the ransoms; its connections reveal where the "
                "negotiator is.",
                "necessity": "The stored logs show only a VPN; live collection is the only way to catch a "
                "connection made without it.",
                "collection_period": {"start": "2026-07-01", "end": "2026-08-29", "time_zone": "Europe/Paris"},
            }
        },
    ),
    RequestType(
        code="mla_interception",
        title=_("Mutual legal assistance: interception of content data"),
        article="Art. 40; Art. 46",
        family="mla",
        schema=InterceptionRequest,
        refusal_grounds=grounds.MLA,
        consult_before_refusal=True,
        acknowledge_within=timedelta(days=2),
        execute_within=timedelta(days=90),
        examples={
            "complete": {
                **_COMMON,
                "assistance_sought": "Intercept the content of the messages sent and received by the account below "
                "and transmit it to us.",
                "identifiers": [_MAILBOX],
                "data_to_collect": "The text and attachments of the e-mails sent and received by the account.",
                "relation_to_offence": "The account negotiates the ransoms with the victims.",
                "necessity": "The next victims and the wallets used are announced only in these messages.",
                "collection_period": {"start": "2026-07-01", "end": "2026-07-30", "time_zone": "Europe/Paris"},
                "proportionality": "The group is extorting public services; interception is limited to one account "
                "used only for the ransoms, for 30 days.",
                "authorisation": "Order of the investigating judge of 12 June 2026, ref. JI-2026-0147/INT-3",
            }
        },
    ),
]
