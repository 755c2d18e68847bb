"""Arts. 49-52 — asset recovery: freezing or seizure of proceeds and property, confiscation
at another State's request, and return of confiscated proceeds, with priority to
compensating victims and returning property to its legitimate owners (Art. 52)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    Asset,
    Element,
    Money,
    OptionalShort,
    OptionalText,
    RequestElements,
    RequestType,
    Short,
    Text,
    Victim,
    element,
    gettext_noop,
    items_of,
    text_of,
)

_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def _iban_checks_out(iban: str) -> bool:
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


class CourtOrder(Element):
    """The order or decision a request rests on."""

    issuing_authority: Short = Field(
        json_schema_extra=element("", gettext_noop("Court or authority that issued it"), widget="input")
    )
    issued_on: date = Field(json_schema_extra=element("", gettext_noop("Date"), widget="date"))
    reference: Short = Field(json_schema_extra=element("", gettext_noop("Reference"), widget="input"))
    final: bool = Field(
        default=False,
        json_schema_extra=element(
            "", gettext_noop("The order is final and enforceable"), gettext_noop("No appeal lies against it.")
        ),
    )


class BankDetails(Element):
    """The account into which returned proceeds are paid."""

    account_holder: Short = Field(json_schema_extra=element("", gettext_noop("Account holder"), widget="input"))
    bank: Short = Field(json_schema_extra=element("", gettext_noop("Bank"), widget="input"))
    account_number: Short = Field(json_schema_extra=element("", gettext_noop("IBAN or account number"), widget="input"))
    bic: OptionalShort = Field(
        default="", json_schema_extra=element("", gettext_noop("BIC (SWIFT code)"), widget="input")
    )

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        bic = text_of(p, "bic").replace(" ", "").upper()
        if bic and not _BIC.match(bic):
            found.append(("bic", gettext("a BIC has 8 or 11 letters and digits (e.g. BFTVVNVX)")))
        number = text_of(p, "account_number").replace(" ", "").upper()
        if _IBAN.match(number) and not _iban_checks_out(number):
            found.append(("account_number", gettext("this IBAN's check digits are wrong: check the number")))
        return found


_REQUESTING_AUTHORITY = element(
    "Art. 40 (a)",
    gettext_noop("Requesting authority"),
    gettext_noop("Name of the authority, its unit and how to reach it."),
    "input",
)


class FreezingRequest(RequestElements):
    """Art. 50 (2) — freezing or seizure of proceeds of crime and property."""

    requesting_authority: Text = Field(json_schema_extra=_REQUESTING_AUTHORITY)
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 50 (2)",
            gettext_noop("Offence"),
            gettext_noop("The criminal offence the assets come from, with its legal provision."),
            "input",
        )
    )
    summary_of_facts: Text = Field(
        json_schema_extra=element(
            "Art. 50 (2)",
            gettext_noop("Summary of the facts"),
            gettext_noop("Including how the assets derive from it."),
        )
    )
    assets: list[Asset] = Field(
        min_length=1,
        max_length=50,
        json_schema_extra=element(
            "Art. 50 (2); Art. 2",
            gettext_noop("Assets to freeze or seize"),
            gettext_noop("Virtual assets included: each wallet with its network."),
        ),
    )
    total_amount: Money = Field(
        json_schema_extra=element(
            "Art. 50 (2)", gettext_noop("Total amount to freeze"), gettext_noop("The value of the proceeds at stake.")
        )
    )
    order: CourtOrder = Field(
        json_schema_extra=element("Art. 50 (2)", gettext_noop("Order or decision on which the request rests"))
    )
    urgency: Text = Field(
        json_schema_extra=element(
            "Art. 50 (2)",
            gettext_noop("Why the assets must be frozen now"),
            gettext_noop("The risk that they are moved or dissipated."),
        )
    )


class ConfiscationRequest(RequestElements):
    """Art. 50 (1) — giving effect to a confiscation order of the requesting State."""

    requesting_authority: Text = Field(json_schema_extra=_REQUESTING_AUTHORITY)
    confiscation_order: CourtOrder = Field(
        json_schema_extra=element(
            "Art. 50 (1)", gettext_noop("Confiscation order"), gettext_noop("A copy goes with the request.")
        )
    )
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 50 (1)",
            gettext_noop("Offence"),
            gettext_noop("The criminal offence of which the assets are proceeds."),
            "input",
        )
    )
    summary_of_facts: Text = Field(json_schema_extra=element("Art. 50 (1)", gettext_noop("Summary of the facts")))
    assets: list[Asset] = Field(
        min_length=1,
        max_length=50,
        json_schema_extra=element("Art. 50 (1); Art. 2", gettext_noop("Assets to confiscate")),
    )
    amount: Money = Field(json_schema_extra=element("Art. 50 (1)", gettext_noop("Amount confiscated by the order")))

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        order = payload.get("confiscation_order") if isinstance(payload, dict) else None
        if isinstance(order, dict) and order.get("final") is not True:
            found.append(
                (
                    "confiscation_order",
                    gettext(
                        "a confiscation order is given effect abroad once it is final: "
                        "confirm that it is final and enforceable"
                    ),
                )
            )
        return found


class ReturnRequest(RequestElements):
    """Art. 52 — return and disposal of confiscated proceeds."""

    requesting_authority: Text = Field(json_schema_extra=_REQUESTING_AUTHORITY)
    confiscated_assets: list[Asset] = Field(
        min_length=1,
        max_length=50,
        json_schema_extra=element("Art. 52", gettext_noop("Confiscated assets to return")),
    )
    amount_to_return: Money = Field(json_schema_extra=element("Art. 52", gettext_noop("Amount to return")))
    victims: list[Victim] = Field(
        default_factory=list,
        max_length=50,
        json_schema_extra=element(
            "Art. 52; Art. 34",
            gettext_noop("Victims to compensate"),
            gettext_noop("They have priority; their identity travels only with consent."),
        ),
    )
    legitimate_owner: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 52",
            gettext_noop("Legitimate owner"),
            gettext_noop("The prior legitimate owner of the property, if any."),
        ),
    )
    no_victim_reason: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 52",
            gettext_noop("Why no victim or owner is named"),
            gettext_noop("E.g. the victims cannot be identified."),
        ),
    )
    bank_details: BankDetails = Field(
        json_schema_extra=element(
            "Art. 52",
            gettext_noop("Account for the return"),
            gettext_noop("Where the requested State pays the proceeds."),
        )
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        named = items_of(payload, "victims") or text_of(payload, "legitimate_owner")
        if not named and not text_of(payload, "no_victim_reason"):
            found.append(
                (
                    "victims",
                    gettext(
                        "return goes first to compensating victims or to the legitimate owners: name them, "
                        "or say why none can be named"
                    ),
                )
            )
        return found


_HANOI = "Supreme People's Procuracy, Department of International Cooperation, Hanoi (central authority)"
_WALLET = {
    "kind": "crypto_wallet",
    "description": "Wallet holding the ransom payments",
    "identifier": "bc1qexampleexampleexampleexample0000",
    "held_by": "Example Exchange S.L., Madrid (custodial wallet)",
    "value": {"amount": "12.5", "currency": "BTC"},
}
_BANK = {
    "kind": "bank_account",
    "description": "Current account of Example Trading S.L.",
    "identifier": "ES9121000418450200051332",
    "held_by": "Example Bank S.A., Madrid",
    "value": {"amount": "840000.00", "currency": "EUR"},
}

TYPES: list[RequestType] = [
    RequestType(
        code="proceeds_freezing",
        title=_("Freezing or seizure of proceeds of crime"),
        article="Art. 50 (2)",
        family="proceeds",
        schema=FreezingRequest,
        refusal_grounds=grounds.MLA,
        consult_before_refusal=True,
        examples={
            "complete": {
                "requesting_authority": _HANOI,
                "offence": "Fraud committed by means of an ICT system (Art. 18); Penal Code, art. 290",
                "summary_of_facts": "An investment scam took VND 26 billion from 1,200 victims in 2026; the money "
                "was converted to bitcoin and paid into the accounts below.",
                "assets": [_WALLET, _BANK],
                "total_amount": {"amount": "1000000.00", "currency": "EUR"},
                "order": {
                    "issuing_authority": "People's Court of Hanoi",
                    "issued_on": "2026-10-02",
                    "reference": "45/2026/QD-TA",
                    "final": False,
                },
                "urgency": "The suspects were arrested on 30 September 2026; their accomplices abroad can empty "
                "the wallet within minutes.",
            }
        },
    ),
    RequestType(
        code="proceeds_confiscation",
        title=_("Confiscation of proceeds of crime"),
        article="Art. 50 (1)",
        family="proceeds",
        schema=ConfiscationRequest,
        refusal_grounds=grounds.MLA,
        consult_before_refusal=True,
        follows=("proceeds_freezing",),
        examples={
            "complete": {
                "requesting_authority": _HANOI,
                "confiscation_order": {
                    "issuing_authority": "People's Court of Hanoi",
                    "issued_on": "2027-04-15",
                    "reference": "112/2027/HS-ST",
                    "final": True,
                },
                "offence": "Fraud committed by means of an ICT system (Art. 18); Penal Code, art. 290",
                "summary_of_facts": "The court convicted three members of the scam and confiscated the proceeds "
                "frozen at our request of October 2026.",
                "assets": [_WALLET, _BANK],
                "amount": {"amount": "1000000.00", "currency": "EUR"},
            }
        },
    ),
    RequestType(
        code="proceeds_return",
        title=_("Return of confiscated proceeds"),
        article="Art. 52",
        family="proceeds",
        schema=ReturnRequest,
        refusal_grounds=grounds.MLA,
        consult_before_refusal=True,
        follows=("proceeds_confiscation",),
        examples={
            "complete": {
                "requesting_authority": _HANOI,
                "confiscated_assets": [_BANK],
                "amount_to_return": {"amount": "840000.00", "currency": "EUR"},
                "victims": [
                    {
                        "name": "Tran Thi Mai",
                        "loss": {"amount": "35000.00", "currency": "EUR"},
                        "consents_to_identity_sharing": True,
                    },
                    {"name": "Victim 2 (pseudonym)", "loss": {"amount": "12000.00", "currency": "EUR"}},
                ],
                "legitimate_owner": "",
                "no_victim_reason": "",
                "bank_details": {
                    "account_holder": "Victims' compensation fund, Ministry of Finance",
                    "bank": "Example State Treasury Bank, Hanoi",
                    "account_number": "0011 0040 12345",
                    "bic": "EXMPVNVX",
                },
            }
        },
    ),
]
