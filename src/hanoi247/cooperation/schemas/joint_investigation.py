"""Art. 48 — joint investigations, under an agreement or case by case: the parties, their
members, what the team investigates, for how long, and how it shares evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from pydantic import Field

from hanoi247.cooperation.schemas import grounds
from hanoi247.cooperation.schemas.base import (
    Element,
    OptionalShort,
    Period,
    RequestElements,
    RequestType,
    Short,
    Text,
    element,
    gettext_noop,
    items_of,
    text_of,
)
from hanoi247.states import is_state_code

JITRole = Literal["leader", "member", "expert"]
LegalBasis = Literal["agreement", "case_by_case"]
JIT_ROLES = {
    "leader": gettext_noop("Leader"),
    "member": gettext_noop("Member"),
    "expert": gettext_noop("Expert"),
}
LEGAL_BASES = {
    "agreement": gettext_noop("Agreement"),
    "case_by_case": gettext_noop("Case by case"),
}


def _state(item: dict[str, Any]) -> str:
    return text_of(item, "state").upper()


class JITParty(Element):
    """A State taking part in the joint investigation, with its competent authority."""

    state: Short = Field(
        json_schema_extra=element("", gettext_noop("State"), gettext_noop("ISO 3166 alpha-3 code (e.g. VNM)."), "input")
    )
    authority: Short = Field(json_schema_extra=element("", gettext_noop("Competent authority"), widget="input"))

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        code = _state(p)
        if code and not is_state_code(code):
            return [("state", gettext("%(code)s is not an ISO 3166 alpha-3 country code") % {"code": repr(code[:8])})]
        return []


class JITMember(Element):
    """A member of the joint investigative body."""

    name: Short = Field(json_schema_extra=element("", gettext_noop("Name"), widget="input"))
    state: Short = Field(
        json_schema_extra=element(
            "", gettext_noop("State"), gettext_noop("ISO 3166 alpha-3 code of the party."), "input"
        )
    )
    authority: Short = Field(json_schema_extra=element("", gettext_noop("Authority"), widget="input"))
    role: JITRole = Field(json_schema_extra=element("", gettext_noop("Role"), widget="select"))

    @classmethod
    def cross_checks(cls, p: dict[str, Any]) -> list[tuple[str, str]]:
        code = _state(p)
        if code and not is_state_code(code):
            return [("state", gettext("%(code)s is not an ISO 3166 alpha-3 country code") % {"code": repr(code[:8])})]
        return []


class JointInvestigationRequest(RequestElements):
    """Art. 48 — a joint investigative body."""

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 48",
            gettext_noop("Requesting authority"),
            gettext_noop("Name of the authority, its unit and how to reach it."),
            "input",
        )
    )
    purpose: Text = Field(json_schema_extra=element("Art. 48", gettext_noop("Purpose of the joint investigation")))
    legal_basis: LegalBasis = Field(
        json_schema_extra=element(
            "Art. 48",
            gettext_noop("Legal basis"),
            gettext_noop("A bilateral or multilateral agreement, or an agreement case by case."),
            "select",
        )
    )
    agreement_reference: OptionalShort = Field(
        default="",
        json_schema_extra=element(
            "Art. 48", gettext_noop("Agreement"), gettext_noop("Its title and date, if there is one."), "input"
        ),
    )
    parties: list[JITParty] = Field(
        min_length=2,
        max_length=50,
        json_schema_extra=element(
            "Art. 48", gettext_noop("States taking part"), gettext_noop("At least two, the requested State among them.")
        ),
    )
    members: list[JITMember] = Field(
        min_length=1,
        max_length=50,
        json_schema_extra=element(
            "Art. 48", gettext_noop("Members"), gettext_noop("At least one for each State taking part.")
        ),
    )
    period: Period = Field(
        json_schema_extra=element(
            "Art. 48", gettext_noop("Period of operation"), gettext_noop("When the team starts and ends its work.")
        )
    )
    offences: Text = Field(
        json_schema_extra=element(
            "Art. 48", gettext_noop("Offences investigated"), gettext_noop("With their legal provisions.")
        )
    )
    evidence_sharing: Text = Field(
        json_schema_extra=element(
            "Art. 48; Art. 36",
            gettext_noop("How evidence and information are shared and used"),
            gettext_noop("Including the conditions on personal data and its onward transfer."),
        )
    )

    @classmethod
    def cross_checks(cls, payload: dict[str, Any]) -> list[tuple[str, str]]:
        found = super().cross_checks(payload)
        if not isinstance(payload, dict):
            return found
        if payload.get("legal_basis") == "agreement" and not text_of(payload, "agreement_reference"):
            found.append(("agreement_reference", gettext("name the agreement on which the joint investigation rests")))
        parties = [_state(p) for p in items_of(payload, "parties") if _state(p)]
        repeated = sorted({code for code in parties if parties.count(code) > 1})
        if repeated:
            named = ", ".join(c[:8] for c in repeated)
            found.append(
                (
                    "parties",
                    ngettext("%(states)s is named more than once", "%(states)s are named more than once", len(repeated))
                    % {"states": named},
                )
            )
        if isinstance(payload.get("parties"), list) and len(set(parties)) < 2:
            found.append(("parties", gettext("a joint investigation needs at least two States")))
        if parties and isinstance(payload.get("members"), list):
            staffed = {_state(m) for m in items_of(payload, "members") if _state(m)}
            for code in sorted(set(parties) - staffed):
                found.append(("members", gettext("no member is named for %(state)s") % {"state": code[:8]}))
            for code in sorted(staffed - set(parties)):
                found.append(
                    (
                        "members",
                        gettext("a member comes from %(state)s, which is not among the States taking part")
                        % {"state": code[:8]},
                    )
                )
        return found


TYPES: list[RequestType] = [
    RequestType(
        code="joint_investigation",
        title=_("Joint investigation"),
        article="Art. 48",
        family="joint_investigation",
        schema=JointInvestigationRequest,
        refusal_grounds=grounds.VOLUNTARY,
        execute_within=timedelta(days=60),
        examples={
            "complete": {
                "requesting_authority": "Prosecutor General's Office, International Cooperation Department, Madrid",
                "purpose": "To investigate together an investment-fraud call centre operating from both countries "
                "and share evidence without separate requests.",
                "legal_basis": "case_by_case",
                "agreement_reference": "",
                "parties": [
                    {"state": "ESP", "authority": "Prosecutor General's Office"},
                    {"state": "VNM", "authority": "Ministry of Public Security"},
                ],
                "members": [
                    {
                        "name": "Elena Ruiz Ortega",
                        "state": "ESP",
                        "authority": "Prosecutor General's Office",
                        "role": "leader",
                    },
                    {"name": "Javier Martín Gil", "state": "ESP", "authority": "Guardia Civil", "role": "expert"},
                    {
                        "name": "Nguyen Van An",
                        "state": "VNM",
                        "authority": "Ministry of Public Security",
                        "role": "member",
                    },
                ],
                "period": {"start": "2026-09-01", "end": "2027-08-31"},
                "offences": "Computer-related fraud (Art. 18) and laundering of its proceeds (Art. 17); Spanish "
                "Penal Code, arts. 248 and 301",
                "evidence_sharing": "Evidence gathered by either party is shared through the team leader and may be "
                "used in both States' proceedings; personal data is not passed to a third State without the "
                "consent of the party that gathered it.",
            }
        },
    ),
]
