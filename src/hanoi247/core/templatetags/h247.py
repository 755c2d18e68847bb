from typing import Any

from django import template

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
