"""Who may do what on this node."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest

from hanoi247.accounts.models import CASE_ROLES, Role, User


def acting_user(request: HttpRequest) -> User:
    """The signed-in user of a request that a permission check has already let through."""
    return cast(User, request.user)


def passed_second_factor(user: Any) -> bool:
    """Password and, for every role that needs one, a verified TOTP code (django-otp)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return not user.needs_second_factor or bool(getattr(user, "is_verified", lambda: False)())


def is_local_case_handler(user: Any) -> bool:
    """A user of this node's own State in a role that handles cases.

    Anyone else (another State's user, the secretariat, an outsider) is treated as if the
    node's case records did not exist.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_active and user.state == settings.NODE.state and user.role in CASE_ROLES)


def create_user(
    username: str,
    password: str,
    *,
    role: str,
    state: str,
    full_name: str = "",
    email: str = "",
) -> User:
    first, _, last = full_name.partition(" ")
    return User.objects.create_user(
        username=username,
        password=password,
        role=role,
        state=state,
        first_name=first,
        last_name=last,
        email=email,
        is_staff=role in {Role.NODE_ADMIN, Role.SECRETARIAT},
        is_superuser=role == Role.NODE_ADMIN,
    )
