from typing import Any

from django.conf import settings
from django.http import HttpRequest


def node(request: HttpRequest) -> dict[str, Any]:
    from hanoi247.accounts.services import is_local_case_handler
    from hanoi247.core.i18n import state_name

    return {
        "node": settings.NODE,
        "node_state_name": state_name(settings.NODE.state),
        # Links to pages the user could only get a 404 from are not shown.
        "is_case_handler": is_local_case_handler(getattr(request, "user", None)),
    }
