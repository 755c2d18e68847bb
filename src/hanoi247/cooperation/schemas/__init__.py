"""Request types: one schema per legal basis, written once (DESIGN §4).

The same schema checks the API input, the web form, the wire format and the receiving
node's re-validation. Each field names the element of the article it satisfies, so an
error can say what is missing and where the Convention asks for it. The building blocks
(identifiers, periods, amounts, persons, assets) are in ``base``; each family of types is
one module listing its ``TYPES``.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext
from pydantic import BaseModel, ValidationError

from hanoi247.cooperation.schemas import (
    assistance,
    disclosure,
    extradition,
    joint_investigation,
    law_enforcement,
    mla,
    preservation,
    proceeds,
)
from hanoi247.cooperation.schemas.base import RequestType
from hanoi247.cooperation.schemas.preservation import PreservationRequest
from hanoi247.core.i18n import articles

__all__ = ["REQUEST_TYPES", "Missing", "PreservationRequest", "RequestType", "clean", "field_meta", "problems"]

REQUEST_TYPES: dict[str, RequestType] = {
    t.code: t
    for module in (
        assistance,
        preservation,
        disclosure,
        mla,
        law_enforcement,
        joint_investigation,
        proceeds,
        extradition,
    )
    for t in module.TYPES
}


@dataclass(frozen=True)
class Missing:
    field: str
    title: str
    article: str
    message: str
    path: str = ""  # e.g. "identifiers.0.time_zone" for an error inside an element

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "element": self.title,
            "article": self.article,
            "message": self.message,
            "path": self.path or self.field,
        }


def field_meta(schema: type[BaseModel], name: str) -> dict[str, Any]:
    info = schema.model_fields.get(name)
    extra = info.json_schema_extra if info is not None else None
    return extra if isinstance(extra, dict) else {"title": name.replace("_", " ").capitalize(), "article": ""}


def submodel(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``Model``, ``Model | None`` or ``list[Model]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = submodel(arg)
        if found is not None:
            return found
    return None


def _where(schema: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, str, str, str]:
    """(top field, its title, its article, the words for the place inside it)."""
    top = str(loc[0]) if loc else ""
    meta = field_meta(schema, top)
    words: list[str] = []
    model: type[BaseModel] | None = schema
    for part in loc:
        if isinstance(part, int):
            words.append(gettext("item %(number)s") % {"number": part + 1})
            continue
        info = model.model_fields.get(str(part)) if model is not None else None
        if info is None:
            words.append(str(part))
            model = None
            continue
        if model is not None and model is not schema:
            words.append(gettext(str(field_meta(model, str(part)).get("title", part))).lower())
        model = submodel(info.annotation)
    return top, gettext(str(meta.get("title", top))), str(meta.get("article", "")), ", ".join(words)


def _errors(exc: ValidationError) -> list[tuple[Any, tuple[Any, ...], str]]:
    """Pydantic's errors as (error, location, text), a rule across fields split into one
    entry per problem at the field it names."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        raised = str(err.get("ctx", {}).get("error", ""))
        if err["type"] == "value_error" and "|" in raised:
            for line in raised.splitlines():
                name, _, text = line.partition("|")
                out.append((err, (*loc, name), text))
        else:
            missing = err["type"] in {"missing", "string_too_short", "too_short"}
            out.append((err, loc, gettext("missing") if missing else err["msg"]))
    return out


def problems(request_type: RequestType, payload: dict[str, Any]) -> list[Missing]:
    """Everything that keeps ``payload`` from being a complete request of this type."""
    schema = request_type.schema
    if not isinstance(payload, dict):
        return [
            Missing(
                "", gettext("Request"), request_type.article, gettext("the request's elements must be a JSON object")
            )
        ]
    try:
        schema.model_validate(payload)
    except ValidationError as exc:
        out: list[Missing] = []
        for err, loc, text in _errors(exc):
            top, title, article, inside = _where(schema, loc)
            if err["type"] == "extra_forbidden":
                title, article, text = ".".join(map(str, loc)), "", gettext("is not an element of this request type")
                inside = ""
            label = f"{title} ({inside})" if inside else title
            message = f"{label}: {text}" + (f" ({articles(article)})" if article else "")
            out.append(Missing(top, title, article, message, ".".join(map(str, loc))))
        # Field errors stop pydantic before the cross-field rules: add what they would say.
        named = {m.field for m in out}
        for name, text in schema.cross_checks(payload) if hasattr(schema, "cross_checks") else []:
            if name not in named:
                meta = field_meta(schema, name)
                title, article = gettext(str(meta.get("title", name))), str(meta.get("article", ""))
                out.append(Missing(name, title, article, f"{title}: {text} ({articles(article)})", name))
        return out
    return []


def clean(request_type: RequestType, payload: dict[str, Any]) -> dict[str, Any]:
    """The validated payload, normalised as it travels on the wire."""
    return request_type.schema.model_validate(payload).model_dump(mode="json")
