from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from hanoi247.accounts.models import ApiToken

LAST_USED_PRECISION = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer h247_…`` — a token issued to one user, acting as that user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.objects.select_related("user").filter(digest=ApiToken.hash(token)).first()
        if found is None or not found.user.is_active:
            return None
        # "Last used" to the minute is enough, and spares a database write on most calls.
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user
