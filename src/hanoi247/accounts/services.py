"""Who may do what on this node."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from hanoi247.accounts.models import CASE_ROLES, Role, User


def is_local_case_handler(user: User | AnonymousUser | Any) -> bool:
    """A user of this node's own State in a role that handles cases.

    Anyone else (another State's user, the secretariat, an outsider) is treated as if the
    node's case records did not exist.
    """
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.state == settings.NODE.state
        and user.role in CASE_ROLES
    )




def create_user(
    username: str, password: str, *, role: str, state: str, full_name: str = "",
    email: str = "",
) -> User:
    first, _, last = full_name.partition(" ")
    return User.objects.create_user(
        username=username, password=password, role=role, state=state,
        first_name=first, last_name=last, email=email,
        is_staff=role in {Role.NODE_ADMIN, Role.SECRETARIAT},
        is_superuser=role == Role.NODE_ADMIN,
    )
