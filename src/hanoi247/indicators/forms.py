from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hanoi247.cooperation.models import Handling
from hanoi247.indicators.models import Kind


class IndicatorForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    value = forms.CharField(label=_("Value"), max_length=2000)
    currency = forms.CharField(label=_("Currency (wallets)"), required=False, max_length=16)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    handling = forms.ChoiceField(
        label=_("Handling"),
        required=False,
        choices=[("", _("As the case or request")), *Handling.choices],
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("STIX 2.1 bundle (JSON)"), required=False)
    text = forms.CharField(label=_("or paste it"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def document(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload:
            return str(upload.read().decode("utf-8", "replace"))
        return str(self.cleaned_data.get("text") or "")


class ShareForm(forms.Form):
    states = forms.MultipleChoiceField(label=_("Share with"), widget=forms.CheckboxSelectMultiple, choices=[])

    def __init__(self, *args: Any, peers: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["states"].choices = [(p["state"], f"{p['name']} ({p['state']})") for p in peers]  # type: ignore[attr-defined]
