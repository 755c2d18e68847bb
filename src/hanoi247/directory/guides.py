"""Each State's guide to asking it for help (Arts. 54-56): legal requirements, accepted
languages, urgent procedure, what its providers retain and for how long, model forms and
contact hours. A State sets it in its node's configuration (``node.json`` "guide"); it is
published, versioned and signed with the directory, and shown on /network/ and beside the
request form's fields it concerns.
"""

from __future__ import annotations

from typing import Any

import pycountry
from django import template
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

register = template.Library()


class GuideError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Retention(_Strict):
    provider: str = Field(min_length=1, max_length=200, description="A provider or a category of providers")
    data: str = Field(min_length=1, max_length=300, description="The kind of data, e.g. subscriber, traffic, content")
    period: str = Field(min_length=1, max_length=100, description="How long it is kept, e.g. '12 months'")
    note: str = Field(default="", max_length=2000)


class ModelForm(_Strict):
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(default="", max_length=2000, pattern=r"^(https?://\S+)?$")
    text: str = Field(default="", max_length=20000)
    request_types: list[str] = Field(default_factory=list, max_length=20)


class StateGuide(_Strict):
    version: int = Field(ge=1, description="Raised by the State each time the guide changes")
    updated: str = Field(default="", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    legal_requirements: str = Field(default="", max_length=20000)
    languages: list[str] = Field(default_factory=list, max_length=20)
    languages_note: str = Field(default="", max_length=2000)
    urgent_procedure: str = Field(default="", max_length=20000)
    retention: list[Retention] = Field(default_factory=list, max_length=100)
    model_forms: list[ModelForm] = Field(default_factory=list, max_length=50)
    contact_hours: str = Field(default="", max_length=500)

    @field_validator("languages")
    @classmethod
    def _iso_639_1(cls, value: list[str]) -> list[str]:
        for code in value:
            if pycountry.languages.get(alpha_2=code) is None:
                raise ValueError(f"{code!r} is not an ISO 639-1 language code")
        return value


def check_guide(value: Any) -> dict[str, Any]:
    """A valid guide in its normal form, or GuideError naming what is wrong. An empty
    object means the State has published no guide."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise GuideError("the guide must be an object")
    try:
        guide = StateGuide.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise GuideError(f"guide {where}: {first['msg']}") from None
    return guide.model_dump(mode="json")


def check_version(held: dict[str, Any], new: dict[str, Any]) -> None:
    """A changed guide must carry a higher version than the one published: the version
    names one text, so that "version 3 of France's guide" means the same everywhere."""
    if not held or not new or held == new:
        return
    if new["version"] <= held.get("version", 0):
        raise GuideError(
            f"the guide changed but its version ({new['version']}) is not above the published one ({held['version']})"
        )


# -- beside the request form ---------------------------------------------------------------

# Where a part of the guide belongs on the request form: the fields it concerns.
RETENTION_FIELDS = ("data_categories", "identifiers", "data", "data_to_preserve", "records")


def _recipient(context: template.Context) -> str:
    req: Any = context.get("req")
    if req is not None and getattr(req, "requested_state", None):
        return str(req.requested_state)
    form = context.get("form")
    field = getattr(form, "recipient_field", None) if form is not None else None
    value = field.value() if field is not None else None
    return str(value or "")


@register.simple_tag(takes_context=True)
def request_guide(context: template.Context) -> dict[str, Any] | None:
    """The requested State's guide, split by the fields of the form it concerns."""
    from hanoi247.directory import services as directory
    from hanoi247.states import state_name

    state = _recipient(context)
    found = directory.current()
    node = found.node(state) if found and state else None
    guide = (node or {}).get("guide") or {}
    if not guide:
        return None
    kind = context.get("kind")
    schema_fields = set(getattr(getattr(kind, "schema", None), "model_fields", {}) or {})
    retention_field = next((f for f in RETENTION_FIELDS if f in schema_fields), "")
    return {
        "state": state,
        "name": state_name(state),
        "guide": guide,
        "directory_version": found.version if found else None,
        "retention_anchor": f"f-{retention_field}" if retention_field else "",
        "show_urgent": bool(getattr(kind, "urgent", False)) or bool(guide.get("urgent_procedure")),
        "urgent_type": bool(getattr(kind, "urgent", False)),
        "forms": [
            f
            for f in guide.get("model_forms", [])
            if not f.get("request_types") or getattr(kind, "code", "") in f["request_types"]
        ],
    }
