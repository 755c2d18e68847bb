from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def lookup(mapping: Any, key: str) -> Any:
    """``{{ dict|lookup:key }}``: a mapping's value by a variable key."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def state_name(code: str) -> str:
    from hanoi247.states import state_name as name

    return name(code)


EVENT_LABELS = {
    "created": _("Created"),
    "edited": _("Edited"),
    "submitted": _("Submitted"),
    "delivered": _("Delivered"),
    "received": _("Received"),
    "acknowledged": _("Acknowledged"),
    "info_requested": _("Additional information requested"),
    "info_provided": _("Additional information provided"),
    "consultation_opened": _("Consultation opened"),
    "consultation_reply": _("Consultation reply"),
    "postponed": _("Postponed"),
    "resumed": _("Execution resumed"),
    "partially_executed": _("Partially executed"),
    "executed": _("Executed"),
    "refused": _("Refused"),
    "withdrawn": _("Withdrawn"),
    "extension_requested": _("Extension requested"),
    "extended": _("Preservation extended"),
    "lapsed": _("Preservation lapsed"),
    "message": _("Message"),
    "translation_attached": _("Translation attached"),
    "escalated": _("Escalated"),
}


@register.filter
def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind.replace("_", " ").capitalize()))
