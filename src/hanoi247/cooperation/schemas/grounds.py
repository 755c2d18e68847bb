"""Grounds for refusal, by article, as codes with their text. Each request type names the
set it may be refused on; the human-rights ground (Art. 6, and the discrimination clause of
Arts. 37 and 40) is in every set."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

HUMAN_RIGHTS = _(
    "Substantial grounds to believe the request aims to prosecute or punish a person on account of sex, race, "
    "language, religion, nationality, ethnic origin or political opinions (Art. 6)"
)
ESSENTIAL_INTERESTS = _("Execution would prejudice sovereignty, security, ordre public or other essential interests")
POLITICAL = _("The offence is a political offence or connected with one")
NOT_IN_CONFORMITY = _("The request does not conform to the Convention")

# Art. 42 expedited preservation (and Art. 41 assistance): narrow grounds.
PRESERVATION: dict[str, Any] = {
    "essential_interests": ESSENTIAL_INTERESTS,
    "political_offence": POLITICAL,
    "dual_criminality": _("Dual criminality is reserved for this offence and is not met"),
    "human_rights": HUMAN_RIGHTS,
    "not_in_conformity": NOT_IN_CONFORMITY,
}

# Art. 43 expedited disclosure of preserved traffic data: only these.
DISCLOSURE: dict[str, Any] = {
    "political_offence": POLITICAL,
    "essential_interests": ESSENTIAL_INTERESTS,
    "human_rights": HUMAN_RIGHTS,
}

# Art. 40 mutual legal assistance (also Arts. 44-52 executed through it). Fiscal matters and
# bank secrecy are deliberately absent: they are not grounds (Art. 40).
MLA: dict[str, Any] = {
    "not_in_conformity": NOT_IN_CONFORMITY,
    "essential_interests": ESSENTIAL_INTERESTS,
    "domestic_law_forbids": _("Domestic law would forbid the action for a similar offence at home"),
    "contrary_to_legal_system": _("Granting the request would be contrary to the legal system of the requested State"),
    "human_rights": HUMAN_RIGHTS,
}

# Art. 37 extradition.
EXTRADITION: dict[str, Any] = {
    "human_rights": HUMAN_RIGHTS,
    "dual_criminality": _("The conduct is not an offence under the law of both States"),
    "minimum_penalty": _("The offence does not carry the minimum penalty the requested State's law requires"),
    "nationality": _("The person is a national of the requested State, which will prosecute instead (Art. 37)"),
    "political_offence": POLITICAL,
    "not_in_conformity": NOT_IN_CONFORMITY,
}

# Art. 47 law-enforcement cooperation and Art. 48 joint investigations: voluntary.
VOLUNTARY: dict[str, Any] = {
    "essential_interests": ESSENTIAL_INTERESTS,
    "no_capacity": _("The requested authority cannot take part or provide this information"),
    "domestic_law_forbids": _("Domestic law does not allow this form of cooperation"),
    "human_rights": HUMAN_RIGHTS,
}
