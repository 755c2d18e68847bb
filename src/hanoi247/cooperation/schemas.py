"""Request types: one schema per legal basis, written once (DESIGN §4).

The same schema checks the API input, the web form, the wire format and the receiving
node's re-validation. Each field names the element of the article it satisfies, so an
error can say what is missing and where the Convention asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
DataCategory = Literal["subscriber", "traffic", "content"]


def element(article: str, title: str, help: str = "", widget: str = "") -> Any:
    return {"article": article, "title": title, "help": help, "widget": widget}


class PreservationRequest(BaseModel):
    """Art. 42 — expedited preservation of stored electronic data."""

    model_config = ConfigDict(extra="forbid")

    requesting_authority: Text = Field(
        json_schema_extra=element(
            "Art. 42 (a)",
            "Authority seeking preservation",
            "Name of the authority, its unit and how to reach it.",
            "input",
        )
    )
    offence: Text = Field(
        json_schema_extra=element(
            "Art. 42 (b)", "Offence", "The criminal offence under investigation, with its legal provision.", "input"
        )
    )
    summary_of_facts: Text = Field(json_schema_extra=element("Art. 42 (b)", "Brief summary of the facts"))
    data_categories: list[DataCategory] = Field(
        min_length=1,
        json_schema_extra=element(
            "Art. 42 (c); Art. 2",
            "Kinds of data to preserve",
            "Subscriber information, traffic data and content data have different legal thresholds.",
            "categories",
        ),
    )
    data_to_preserve: Text = Field(
        json_schema_extra=element(
            "Art. 42 (c)",
            "Stored data to preserve",
            "Accounts, identifiers (with their service), IP addresses with time and time zone, the period concerned.",
        )
    )
    relation_to_offence: Text = Field(json_schema_extra=element("Art. 42 (c)", "Relation of the data to the offence"))
    custodian: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 42 (d)", "Custodian of the data", "The service provider holding the data, if known.", "input"
        ),
    )
    system_location: OptionalText = Field(
        default="",
        json_schema_extra=element(
            "Art. 42 (d)", "Location of the information system", "Where the data is stored, if known.", "input"
        ),
    )
    necessity: Text = Field(
        json_schema_extra=element(
            "Art. 42 (e)", "Why preservation is necessary", "Why the data risks being lost or changed."
        )
    )
    follow_up_mla: bool = Field(
        json_schema_extra=element(
            "Art. 42 (f)",
            "A request for mutual legal assistance will follow",
            "The requesting State intends to ask for search, seizure or disclosure of the data.",
        )
    )
    confidential: bool = Field(
        default=False, json_schema_extra=element("Art. 42 (g)", "Keep this request confidential")
    )
    no_user_notification: bool = Field(
        default=False, json_schema_extra=element("Art. 42 (g)", "Do not notify the user")
    )

    @model_validator(mode="after")
    def _checks(self) -> PreservationRequest:
        for field, text in self.cross_checks(self.model_dump()):
            raise ValueError(f"{field}|{text}")
        return self

    @staticmethod
    def cross_checks(payload: dict[str, Any]) -> list[tuple[str, str]]:
        """Rules across fields, as (field, problem). Also run on an incomplete payload, so
        that one answer names everything missing at once."""
        found = []
        if not (str(payload.get("custodian") or "").strip() or str(payload.get("system_location") or "").strip()):
            found.append(("custodian", "identify the custodian of the data or the location of the information system"))
        if payload.get("follow_up_mla") is False:
            found.append(("follow_up_mla", "confirm that a request for mutual legal assistance will follow"))
        return found


@dataclass(frozen=True)
class RequestType:
    code: str
    title: Any
    article: str
    schema: type[BaseModel]
    version: int
    refusal_grounds: dict[str, Any]
    min_preservation_days: int = 0


# Grounds a requested State may cite when refusing preservation (Art. 42; Arts. 6, 40).
PRESERVATION_REFUSAL_GROUNDS = {
    "essential_interests": _(
        "Execution would prejudice sovereignty, security, ordre public or other essential interests"
    ),
    "political_offence": _("The offence is a political offence or connected with one"),
    "dual_criminality": _("Dual criminality is reserved for this offence and is not met"),
    "human_rights": _(
        "Substantial grounds to believe the request aims to prosecute or punish a person on account of sex, race, "
        "language, religion, nationality, ethnic origin or political opinions (Art. 6)"
    ),
    "not_in_conformity": _("The request does not conform to the Convention"),
}

REQUEST_TYPES: dict[str, RequestType] = {
    "preservation": RequestType(
        code="preservation",
        title=_("Expedited preservation of stored electronic data"),
        article="Art. 42",
        schema=PreservationRequest,
        version=1,
        refusal_grounds=PRESERVATION_REFUSAL_GROUNDS,
        min_preservation_days=60,
    ),
}


@dataclass(frozen=True)
class Missing:
    field: str
    title: str
    article: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "element": self.title, "article": self.article, "message": self.message}


def field_meta(schema: type[BaseModel], name: str) -> dict[str, Any]:
    info = schema.model_fields.get(name)
    extra = info.json_schema_extra if info is not None else None
    return extra if isinstance(extra, dict) else {"title": name, "article": ""}


def problems(request_type: RequestType, payload: dict[str, Any]) -> list[Missing]:
    """Everything that keeps ``payload`` from being a complete request of this type."""
    try:
        request_type.schema.model_validate(payload)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            if err["type"] == "value_error":
                field, _, text = str(err["ctx"]["error"]).partition("|")
            else:
                field = str(err["loc"][0]) if err["loc"] else ""
                text = "missing" if err["type"] in {"missing", "string_too_short", "too_short"} else err["msg"]
            meta = field_meta(request_type.schema, field)
            title, article = str(meta.get("title", field)), str(meta.get("article", ""))
            if err["type"] == "extra_forbidden":
                title, article, text = field, "", "is not an element of this request type"
            out.append(
                Missing(field, title, article, f"{title}: {text} ({article})" if article else f"{title}: {text}")
            )
        # Field errors stop pydantic before the cross-field rules: add what they would say.
        cross = getattr(request_type.schema, "cross_checks", None)
        named = {m.field for m in out}
        for field, text in cross(payload) if cross and isinstance(payload, dict) else []:
            if field not in named:
                meta = field_meta(request_type.schema, field)
                title, article = str(meta.get("title", field)), str(meta.get("article", ""))
                out.append(Missing(field, title, article, f"{title}: {text} ({article})"))
        return out
    return []


def clean(request_type: RequestType, payload: dict[str, Any]) -> dict[str, Any]:
    """The validated payload, normalised as it travels on the wire."""
    return request_type.schema.model_validate(payload).model_dump(mode="json")
