from datetime import timedelta
from typing import Any

from django import template

register = template.Library()


@register.filter
def elapsed(value: timedelta | None) -> str:
    """A step's time after submission: "0.4 s", "38 s", "12 min 5 s", "3 h 2 min"."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.simple_tag
def on_call_now(state: str) -> dict[str, Any] | None:
    """``{% on_call_now n.state as oc %}``: the channels reachable now in that State, from its
    last verified on-call document, or None when none was fetched (or this is our own node)."""
    from django.conf import settings

    from hanoi247.operations.models import PeerOnCall
    from hanoi247.operations.services import channels_now, on_call_document

    if state == settings.NODE.state:
        document = on_call_document()
        return {"channels": channels_now(document), "fetched_at": None, "error": ""}
    row = PeerOnCall.objects.filter(state=state).first()
    if row is None:
        return None
    return {"channels": channels_now(row.document), "fetched_at": row.fetched_at, "error": row.error}
