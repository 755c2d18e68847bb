from datetime import timedelta

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
