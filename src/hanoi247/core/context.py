from typing import Any

from django.conf import settings
from django.http import HttpRequest


def node(request: HttpRequest) -> dict[str, Any]:
    from hanoi247.states import state_name

    return {"node": settings.NODE, "node_state_name": state_name(settings.NODE.state)}
