"""Building blocks every request type is made of, and the checks a careful
central-authority lawyer makes on them: an IP address needs its time and time zone, an
account its service, a period its end, an amount its currency.

A rule across fields raises ``ValueError("field|problem")`` (one line per problem) so that the error can be
placed on the field it concerns (``problems`` in ``schemas/__init__.py`` reads it).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import pycountry
from django.utils.translation import gettext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hanoi247.states import is_state_code

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
OptionalShort = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
DataCategory = Literal["subscriber", "traffic", "content"]

_ZONES = available_timezones()
_OFFSET = re.compile(r"^(UTC|GMT)?\s*[+-](0\d|1[0-4])(:?[0-5]\d)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](-*[a-z0-9])*\.)+[a-z][a-z0-9-]{0,62}$", re.IGNORECASE)
_PHONE = re.compile(r"^\+[1-9][0-9 ()-]{5,20}$")


def element(article: str, title: str, help: str = "", widget: str = "") -> Any:
    """Metadata of one element: the article that asks for it, its title and help text, and
    a widget hint for the form ("input": one line; default: several lines)."""
    return {"article": article, "title": title, "help": help, "widget": widget}


def is_time_zone(value: str) -> bool:
    value = value.strip()
    return value in _ZONES or value.upper() in {"UTC", "GMT", "Z"} or bool(_OFFSET.match(value.upper()))


def is_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


class Element(BaseModel):
    """A structured element (a row in a form). Extra keys are refused, as in a request."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _checks(self) -> Any:
        if found := self.cross_checks(self.model_dump(mode="json")):
            raise ValueError("\n".join(f"{name}|{text}" for name, text in found))
        return self

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        return []


def gettext_noop(message: str) -> str:
    """Marks a string for makemessages without touching Django's translation machinery at
    import time (Django's own ``gettext_noop`` reads the settings), so the schemas import
    before settings are configured (``hanoi247 demo``, the benchmarks)."""
    return message


ASSET_KINDS = {
    "bank_account": gettext_noop("Bank account"),
    "crypto_wallet": gettext_noop("Crypto wallet"),
    "real_estate": gettext_noop("Real estate"),
    "vehicle": gettext_noop("Vehicle"),
    "company_shares": gettext_noop("Company shares"),
    "cash": gettext_noop("Cash"),
    "other": gettext_noop("Other"),
}

IdentifierKind = Literal[
    "ip_address", "account", "email_address", "phone_number", "url", "domain", "device", "wallet", "other"
]
IDENTIFIER_KINDS = {
    "ip_address": gettext_noop("IP address"),
    "account": gettext_noop("Account (user name or id)"),
    "email_address": gettext_noop("E-mail address"),
    "phone_number": gettext_noop("Telephone number"),
    "url": gettext_noop("URL"),
    "domain": gettext_noop("Domain name"),
    "device": gettext_noop("Device (IMEI, serial number)"),
    "wallet": gettext_noop("Crypto-asset wallet address"),
    "other": gettext_noop("Other identifier"),
}


class Identifier(Element):
    """Something that identifies an account, a person's use of a service, or a device."""

    kind: IdentifierKind = Field(json_schema_extra=element("", gettext_noop("Kind"), widget="select"))
    value: Short = Field(json_schema_extra=element("", gettext_noop("Identifier"), widget="input"))
    service: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "",
            gettext_noop("Service or network"),
            gettext_noop("The provider or platform (for an account), the chain (for a wallet)."),
            "input",
        ),
    )
    observed_at: datetime | None = Field(
        default=None,
        json_schema_extra=element(
            "", gettext_noop("Time of use"), gettext_noop("For an IP address: the time it was seen in use."), "datetime"
        ),
    )
    time_zone: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "",
            gettext_noop("Time zone"),
            gettext_noop("An IANA zone (Asia/Ho_Chi_Minh) or an offset (UTC+07:00)."),
            "input",
        ),
    )

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        kind, value = p.get("kind"), str(p.get("value") or "").strip()
        zone = str(p.get("time_zone") or "").strip()
        if zone and not is_time_zone(zone):
            found.append(
                (
                    "time_zone",
                    gettext("%(zone)s is not a time zone (use e.g. Europe/Paris or UTC+01:00)") % {"zone": repr(zone)},
                )
            )
        if kind == "ip_address":
            try:
                ipaddress.ip_address(value)
            except ValueError:
                found.append(("value", gettext("%(value)s is not an IPv4 or IPv6 address") % {"value": repr(value)}))
            if not p.get("observed_at"):
                found.append(
                    ("observed_at", gettext("an IP address is shared over time: give the date and time it was used"))
                )
            if not zone:
                found.append(("time_zone", gettext("an IP address's time of use means nothing without its time zone")))
        elif kind == "account" and not str(p.get("service") or "").strip():
            found.append(("service", gettext("an account needs the service or provider that holds it")))
        elif kind == "wallet" and not str(p.get("service") or "").strip():
            found.append(
                ("service", gettext("a wallet address needs its network or crypto-asset (e.g. Bitcoin, Ethereum)"))
            )
        elif kind == "email_address" and value and not _EMAIL.match(value):
            found.append(("value", gettext("%(value)s is not an e-mail address") % {"value": repr(value)}))
        elif kind == "domain" and value and not _DOMAIN.match(value):
            found.append(("value", gettext("%(value)s is not a domain name") % {"value": repr(value)}))
        elif kind == "url" and value and not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value, re.IGNORECASE):
            found.append(
                (
                    "value",
                    gettext("%(value)s is not a URL (it needs its scheme, e.g. https://)") % {"value": repr(value)},
                )
            )
        elif kind == "phone_number" and value and not _PHONE.match(value):
            found.append(
                ("value", gettext("give the number in international form, starting with + and the country code"))
            )
        return found


IDENTIFIERS_TITLE = gettext_noop("Accounts, addresses and other identifiers")
IDENTIFIERS_HELP = gettext_noop("Each with its service; an IP address with its time of use and time zone.")
DATA_CATEGORIES_HELP = gettext_noop(
    "Subscriber information, traffic data and content data have different legal thresholds."
)


def identifiers_field(article: str, *, required: bool = True, title: str = IDENTIFIERS_TITLE) -> Any:
    """A request's list of identifiers (at most 50), each checked as an ``Identifier``."""
    extra = element(article, title, IDENTIFIERS_HELP)
    if required:
        return Field(min_length=1, max_length=50, json_schema_extra=extra)
    return Field(default_factory=list, max_length=50, json_schema_extra=extra)


def data_categories_field(article: str, title: str) -> Any:
    """Which of the three kinds of data (Art. 2) a request concerns: at least one."""
    return Field(min_length=1, json_schema_extra=element(article, title, DATA_CATEGORIES_HELP, "categories"))


class Period(Element):
    """A date range. Both ends are needed: an open-ended request cannot be executed."""

    start: date = Field(json_schema_extra=element("", gettext_noop("From"), widget="date"))
    end: date | None = Field(default=None, json_schema_extra=element("", gettext_noop("To"), widget="date"))
    time_zone: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "", gettext_noop("Time zone"), gettext_noop("If the period's ends are local dates."), "input"
        ),
    )

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        start, end = p.get("start"), p.get("end")
        if not end:
            found.append(("end", gettext("a period needs its end date")))
        elif start and _as_date(end) < _as_date(start):
            found.append(("end", gettext("the period ends before it starts")))
        zone = str(p.get("time_zone") or "").strip()
        if zone and not is_time_zone(zone):
            found.append(("time_zone", gettext("%(zone)s is not a time zone") % {"zone": repr(zone)}))
        return found

    def days(self) -> int:
        return ((self.end or self.start) - self.start).days + 1


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class Money(Element):
    amount: Decimal = Field(
        gt=0, max_digits=20, decimal_places=8, json_schema_extra=element("", gettext_noop("Amount"))
    )
    currency: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=3, max_length=8)] = (
        Field(
            json_schema_extra=element(
                "",
                gettext_noop("Currency"),
                gettext_noop("ISO 4217 code (EUR, USD, VND) or a crypto-asset (BTC)."),
                "input",
            )
        )
    )

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        code = str(p.get("currency") or "").strip().upper()
        if code and not (is_currency(code) or code in CRYPTO_ASSETS):
            return [
                (
                    "currency",
                    gettext("%(code)s is not an ISO 4217 currency or a known crypto-asset") % {"code": repr(code)},
                )
            ]
        return []


CRYPTO_ASSETS = {"BTC", "ETH", "USDT", "USDC", "XMR", "LTC", "TRX", "BNB", "SOL", "XRP"}


class Person(Element):
    name: Short = Field(json_schema_extra=element("", gettext_noop("Name"), widget="input"))
    aliases: OptionalShort = Field(
        default="", json_schema_extra=element("", gettext_noop("Other names"), widget="input")
    )
    date_of_birth: date | None = Field(
        default=None, json_schema_extra=element("", gettext_noop("Date of birth"), widget="date")
    )
    nationality: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "", gettext_noop("Nationality"), gettext_noop("ISO 3166 alpha-3 code (e.g. VNM)."), "input"
        ),
    )
    location: OptionalShort = Field(
        default="", json_schema_extra=element("", gettext_noop("Known or suspected location"), widget="input")
    )

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        code = str(p.get("nationality") or "").strip().upper()
        if code and not is_state_code(code):
            return [("nationality", gettext("%(code)s is not an ISO 3166 alpha-3 country code") % {"code": repr(code)})]
        return []


AssetKind = Literal["bank_account", "crypto_wallet", "real_estate", "vehicle", "company_shares", "cash", "other"]


class Asset(Element):
    """Property, virtual assets included (Art. 2)."""

    kind: AssetKind = Field(json_schema_extra=element("", gettext_noop("Kind of asset"), widget="select"))
    description: Short = Field(json_schema_extra=element("", gettext_noop("Description"), widget="input"))
    identifier: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "", gettext_noop("Account number, IBAN, wallet address or registry number"), widget="input"
        ),
    )
    held_by: OptionalShort = Field(
        default="", json_schema_extra=element("", gettext_noop("Held by (bank, exchange, registry)"), widget="input")
    )
    value: Money | None = Field(default=None, json_schema_extra=element("", gettext_noop("Estimated value")))

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        kind = p.get("kind")
        if kind in {"bank_account", "crypto_wallet"} and not str(p.get("identifier") or "").strip():
            found.append(("identifier", gettext("an account or wallet needs its number or address")))
        if kind in {"bank_account", "crypto_wallet"} and not str(p.get("held_by") or "").strip():
            found.append(("held_by", gettext("name the bank, exchange or network that holds it")))
        return found


class Victim(Element):
    name: Short = Field(
        json_schema_extra=element(
            "",
            gettext_noop("Name or pseudonym"),
            gettext_noop("The victim's identity travels only with consent."),
            "input",
        )
    )
    loss: Money | None = Field(default=None, json_schema_extra=element("", gettext_noop("Loss")))
    consents_to_identity_sharing: bool = Field(
        default=False, json_schema_extra=element("", gettext_noop("The victim consents to their identity being shared"))
    )


class RequestElements(BaseModel):
    """Base of every request type's schema: extra keys are refused, and top-level rules
    across fields are ``cross_checks`` (also run on incomplete drafts)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _checks(self) -> Any:
        if found := self.cross_checks(self.model_dump(mode="json")):
            raise ValueError("\n".join(f"{name}|{text}" for name, text in found))
        return self

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        return []


@dataclass(frozen=True)
class RequestType:
    """One legal basis: its schema, the grounds on which it may be refused, its default
    deadlines (a requested State may set its own in its directory entry), and its rules."""

    code: str
    title: Any
    article: str
    family: (
        str  # assistance, preservation, disclosure, mla, law_enforcement, joint_investigation, proceeds, extradition
    )
    schema: type[BaseModel]
    refusal_grounds: dict[str, Any]
    version: int = 1
    urgent: bool = False
    acknowledge_within: timedelta = timedelta(hours=24)
    execute_within: timedelta = timedelta(days=30)
    min_preservation_days: int = 0
    consult_before_refusal: bool = False  # Art. 40: consult before refusing or postponing
    follows: tuple[str, ...] = ()  # types of the earlier request this one follows up
    help: Any = ""
    examples: dict[str, Any] = field(default_factory=dict)


# Readers for ``cross_checks``, which also run on raw drafts (``problems``): they never
# trust a value's type, so a malformed draft gets its problems named instead of a crash.


def text_of(payload: Any, name: str) -> str:
    """The text of ``payload[name]`` on one line, or "" if it is not text."""
    value = payload.get(name) if isinstance(payload, dict) else None
    return " ".join(value.split()) if isinstance(value, str) else ""


def items_of(payload: Any, name: str) -> list[dict[str, Any]]:
    """The objects in the list ``payload[name]``, or [] if it is not a list."""
    value = payload.get(name) if isinstance(payload, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def date_of(value: Any) -> date | None:
    """A date from a date or an ISO string, or None if it is neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def period_days(value: Any) -> int | None:
    """The number of days a period covers, both ends counted, or None if it is not a period."""
    if not isinstance(value, dict):
        return None
    start, end = date_of(value.get("start")), date_of(value.get("end"))
    return (end - start).days + 1 if start and end else None
