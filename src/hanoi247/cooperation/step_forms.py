"""Forms for the moves on a request after it is sent (``services.STEPS``): one form class
per move, each asking for exactly what ``services.validate_step`` checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hanoi247.cooperation.models import Request
from hanoi247.cooperation.schemas import REQUEST_TYPES

NOTE_LABELS = {
    "info_requested": _("Information needed"),
    "info_provided": _("The information asked for"),
    "consultation_opened": _("Why refusal or postponement is considered, and the conditions that could allow it"),
    "consultation_reply": _("Answer to the consultation"),
    "postponed": _("Reason for postponing"),
    "resumed": _("Note"),
    "partially_executed": _("What was done, and what remains"),
    "executed": _("Note to the requesting State"),
    "refused": _("Reasons (the requesting State sees them)"),
    "withdrawn": _("Why the assistance is no longer needed"),
    "extension_requested": _("Why the data must be kept longer"),
    "extended": _("Note"),
    "message": _("Message"),
    "acknowledged": _("Note"),
}


class StepForm(forms.Form):
    note = forms.CharField(required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, kind: str, req: Request, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["note"].label = NOTE_LABELS.get(kind, _("Note"))
        rtype = REQUEST_TYPES[req.type]
        date_widget = forms.DateInput(attrs={"type": "date"})
        grounds = [(k, v) for k, v in rtype.refusal_grounds.items()]
        if kind == "consultation_opened":
            self.fields["contemplating"] = forms.ChoiceField(
                label=_("Considered"), choices=[("refusal", _("Refusal")), ("postponement", _("Postponement"))]
            )
            self.fields["grounds"] = forms.MultipleChoiceField(
                label=_("Grounds considered"), choices=grounds, required=False, widget=forms.CheckboxSelectMultiple
            )
        elif kind == "consultation_reply":
            self.fields["accepts_conditions"] = forms.BooleanField(
                label=_("The requesting State accepts the conditions proposed"), required=False
            )
        elif kind == "postponed":
            self.fields["until"] = forms.DateField(label=_("Postponed until"), widget=date_widget)
        elif kind == "refused":
            self.fields["grounds"] = forms.MultipleChoiceField(
                label=_("Grounds for refusal"), choices=grounds, widget=forms.CheckboxSelectMultiple
            )
        elif kind in {"executed", "partially_executed"}:
            if kind == "executed" and rtype.min_preservation_days:
                self.fields["preserved_until"] = forms.DateField(
                    label=_("Data preserved until"),
                    widget=date_widget,
                    initial=timezone.localdate() + timedelta(days=90),
                    help_text=_("At least %(days)s days from today (%(article)s).")
                    % {"days": rtype.min_preservation_days, "article": rtype.article},
                )
            self.fields["use_limitation"] = forms.CharField(
                label=_("Use limitation on what is provided"),
                required=False,
                max_length=2000,
                help_text=_("E.g. only for the investigation named in the request (Art. 40)."),
            )
            self.fields["confidential"] = forms.BooleanField(
                label=_("What is provided is confidential"), required=False
            )
        elif kind == "extension_requested":
            self.fields["until"] = forms.DateField(label=_("Preserve until"), widget=date_widget)
        elif kind == "extended":
            self.fields["preserved_until"] = forms.DateField(label=_("Preserved until"), widget=date_widget)
        # The note comes last, after what it explains.
        self.order_fields([f for f in self.fields if f != "note"] + ["note"])

    def data_for_service(self) -> dict[str, Any]:
        """``act``'s data from the cleaned form (dates as ISO strings)."""
        out: dict[str, Any] = {}
        cd = self.cleaned_data
        for key in ("contemplating", "grounds", "accepts_conditions"):
            if key in cd:
                out[key] = cd[key]
        for key in ("until", "preserved_until"):
            if cd.get(key):
                out[key] = cd[key].isoformat()
        if "use_limitation" in cd:
            out["conditions"] = {k: cd[k] for k in ("use_limitation", "confidential") if cd.get(k)}
        return out


class TranslationForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the translation"))
    translator = forms.CharField(label=_("Translated by"), required=False, max_length=200)
    text = forms.CharField(label=_("Translation of the whole request"), widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args: Any, languages: list[tuple[str, str]], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "tr")
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages  # type: ignore[attr-defined]


class TransferAskForm(forms.Form):
    purpose = forms.CharField(
        label=_("Purpose of passing the data on"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The State that sent the data decides (Art. 36)."),
    )


class TransferDecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("granted", _("Authorise")), ("refused", _("Refuse"))])
    conditions = forms.CharField(label=_("Conditions"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CaseMessageForm(forms.Form):
    note = forms.CharField(
        label=_("Message to every party of the joint investigation"), widget=forms.Textarea(attrs={"rows": 3})
    )
