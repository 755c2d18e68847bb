from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hanoi247.accounts.models import User
from hanoi247.operations import services

LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class LocalDateTimeField(forms.DateTimeField):
    """A time typed in the node's time zone (the roster's), stored in UTC."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=LOCAL, **kwargs)

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        naive = timezone.make_naive(parsed, UTC) if timezone.is_aware(parsed) else parsed
        return naive.replace(tzinfo=services.node_zone())


def _people() -> Any:
    return services.local_case_handlers().order_by("username")


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display()} ({obj.get_role_display()})"


class ShiftForm(forms.Form):
    user = PersonField(queryset=User.objects.none(), label=_("Who"))
    starts_at = LocalDateTimeField(label=_("From"))
    ends_at = LocalDateTimeField(label=_("Until"))
    public_channel = forms.CharField(
        label=_("Channel published to the network"),
        max_length=200,
        required=False,
        help_text=_("What other States may use to reach the desk, e.g. the desk's line. Empty: the directory's."),
    )
    private_phone = forms.CharField(label=_("Private phone (this node only)"), max_length=40, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _people()  # type: ignore[attr-defined]


class HandOverForm(forms.Form):
    to = PersonField(queryset=User.objects.none(), label=_("Hand over to"))
    note = forms.CharField(label=_("What is open"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = _people()  # type: ignore[attr-defined]


class PreferenceForm(forms.Form):
    email = forms.BooleanField(label=_("Alerts by e-mail"), required=False)
    webhook = forms.BooleanField(label=_("Alerts to my webhooks"), required=False)
    quiet_off_duty = forms.BooleanField(
        label=_("Quiet when I am off duty (emergencies and escalations still come through)"), required=False
    )


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("Webhook URL"), max_length=500, assume_scheme="https")
