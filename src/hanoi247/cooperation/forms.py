"""Web forms built from the request type's schema, so the form asks exactly for the
elements the article requires and names the article beside each."""

from __future__ import annotations

import typing
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from hanoi247.cooperation.schemas import RequestType, field_meta
from hanoi247.directory import services as directory

CATEGORY_LABELS = {
    "subscriber": _("Subscriber information"),
    "traffic": _("Traffic data"),
    "content": _("Content data"),
}


def _field(schema: type[BaseModel], name: str) -> forms.Field:
    info = schema.model_fields[name]
    meta = field_meta(schema, name)
    label, help_text = str(meta["title"]), str(meta.get("help", ""))
    annotation = info.annotation
    common: dict[str, Any] = {"label": label, "help_text": help_text, "required": False}
    if annotation is bool:
        return forms.BooleanField(**common)
    if typing.get_origin(annotation) is list:
        choices = [(c, CATEGORY_LABELS.get(c, c)) for c in typing.get_args(typing.get_args(annotation)[0])]
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    widget = forms.TextInput if meta.get("widget") == "input" else forms.Textarea(attrs={"rows": 3})
    return forms.CharField(widget=widget, max_length=20000, **common)


def request_form(kind: RequestType, *, include_recipient: bool = True) -> type[forms.Form]:
    fields: dict[str, forms.Field] = {}
    if include_recipient:
        fields["recipient"] = forms.ChoiceField(
            label=_("Requested State"),
            choices=[("", "—")] + [(n["state"], f"{n['name']} ({n['state']})") for n in directory.peers()],
        )
    for name in kind.schema.model_fields:
        fields[name] = _field(kind.schema, name)
    form_class: type[forms.Form] = type(f"{kind.schema.__name__}Form", (forms.Form,), fields)
    form_class.articles = {n: str(field_meta(kind.schema, n).get("article", "")) for n in kind.schema.model_fields}  # type: ignore[attr-defined]
    return form_class


def payload_of(form: forms.Form, kind: RequestType) -> dict[str, Any]:
    """What the officer typed, kept as typed (empty fields dropped) so a draft loses nothing."""
    data = {}
    for name in kind.schema.model_fields:
        value = form.cleaned_data.get(name)
        if value not in (None, "", []):
            data[name] = value
    return data


class ExecuteForm(forms.Form):
    preserved_until = forms.DateField(
        label=_("Data preserved until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At least 60 days from today (Art. 42)."),
    )
    note = forms.CharField(
        label=_("Note to the requesting State"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preserved_until"].initial = timezone.localdate() + timedelta(days=90)


class RefuseForm(forms.Form):
    grounds = forms.MultipleChoiceField(label=_("Grounds for refusal"), widget=forms.CheckboxSelectMultiple)
    reasons = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requesting State sees these reasons (Art. 40)."),
    )

    def __init__(self, *args: Any, grounds: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grounds"].choices = [(k, v) for k, v in grounds.items()]  # type: ignore[attr-defined]
