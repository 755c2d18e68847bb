from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICER = "officer", _("24/7 officer")
    CENTRAL_AUTHORITY = "central_authority", _("Central authority")
    SUPERVISOR = "supervisor", _("Supervisor")
    NODE_ADMIN = "node_admin", _("Node administrator")
    SECRETARIAT = "secretariat", _("Secretariat")


# Roles that handle cases: they must use a second factor and may see the node's requests.
CASE_ROLES = {Role.OFFICER, Role.CENTRAL_AUTHORITY, Role.SUPERVISOR}
SECOND_FACTOR_ROLES = CASE_ROLES | {Role.NODE_ADMIN, Role.SECRETARIAT}


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.OFFICER)
    # The State the user works for (ISO 3166 alpha-3). Only users of the node's own State
    # may see its records; anyone else is an outsider to them.
    state = models.CharField(max_length=3)
    time_zone = models.CharField(max_length=64, default="UTC")

    @property
    def needs_second_factor(self) -> bool:
        return self.role in SECOND_FACTOR_ROLES

    def display(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        token = "h247_" + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, digest=cls.hash(token)), token
