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
    from hanoi247.core.i18n import state_name as name

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


@register.filter
def articles(text: Any) -> str:
    """``{{ kind.article|articles }}``: article references in the page's language (core/i18n.py)."""
    from hanoi247.core.i18n import articles as localised

    return localised(text)


@register.filter
def when(value: Any) -> str:
    """``{{ event.at|when }}``: the moment in UTC and in the node's time zone, in the locale's format."""
    from hanoi247.core.i18n import local_time, node_zone_name

    return local_time(value, node_zone_name())


CUSTODY_LABELS = {
    "acquired": _("Acquired"),
    "sealed": _("Sealed (encrypted at rest)"),
    "opened": _("Opened"),
    "exported": _("Exported"),
    "transferred": _("Transferred"),
    "received": _("Received"),
    "verified": _("Verified"),
    "integrity_failed": _("Integrity check failed"),
}


@register.filter
def custody_action(action: str) -> str:
    """``{{ event.action|custody_action }}``: an evidence custody event in the page's language."""
    return str(CUSTODY_LABELS.get(action, action.replace("_", " ")))
