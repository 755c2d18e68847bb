from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hanoi247.cooperation.models import Handling


class CaseForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stays on this node: it is not sent with the hashes."),
    )
    victim_name = forms.CharField(label=_("Victim's name"), required=False, max_length=200)
    victim_contact = forms.CharField(label=_("Victim's contact"), required=False, max_length=300)
    consent = forms.BooleanField(
        label=_("The victim consents to their identity being passed to the requested States"), required=False
    )
    handling = forms.ChoiceField(label=_("Handling"), choices=Handling.choices, initial=Handling.RED)


class ImageForm(forms.Form):
    image = forms.FileField(
        label=_("Image"), help_text=_("JPEG, PNG, GIF or WebP. Hashed here; it never leaves this node.")
    )


class ConsentForm(forms.Form):
    consent = forms.BooleanField(label=_("The victim consents to their identity being passed on"), required=False)


class ShareForm(forms.Form):
    states = forms.MultipleChoiceField(
        label=_("Send the hashes to"), widget=forms.CheckboxSelectMultiple, choices=[], required=True
    )

    def __init__(self, *args: Any, peers: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["states"].choices = [(p["state"], f"{p['name']} ({p['state']})") for p in peers]  # type: ignore[attr-defined]


class SightingForm(forms.Form):
    location = forms.CharField(label=_("Where it was found (URL or place)"), max_length=2000)
    provider = forms.CharField(label=_("Provider"), required=False, max_length=200)
    image = forms.FileField(
        label=_("Image"), required=False, help_text=_("Hashed here and discarded; or give the hashes below.")
    )
    pdq = forms.CharField(label=_("PDQ hash"), required=False, max_length=64)
    md5 = forms.CharField(label=_("MD5"), required=False, max_length=32)
    sha256 = forms.CharField(label=_("SHA-256"), required=False, max_length=64)


class RemovalForm(forms.Form):
    removed_at = forms.DateTimeField(label=_("Removed at (UTC)"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
