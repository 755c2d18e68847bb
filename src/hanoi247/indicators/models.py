"""Indicators of a case or request (Arts. 54-56: sharing information and experience),
exchanged as STIX 2.1 bundles."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hanoi247.cooperation.models import Case, Handling, Request
from hanoi247.federation.envelope import uuid7


class Kind(models.TextChoices):
    IPV4 = "ipv4", _("IPv4 address")
    IPV6 = "ipv6", _("IPv6 address")
    DOMAIN = "domain", _("Domain name")
    URL = "url", _("URL")
    MD5 = "md5", _("File hash (MD5)")
    SHA1 = "sha1", _("File hash (SHA-1)")
    SHA256 = "sha256", _("File hash (SHA-256)")
    EMAIL = "email", _("E-mail address")
    WALLET = "wallet", _("Crypto-currency wallet")


class Indicator(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # STIX ids are UUIDv4 (the spec's SHOULD); kept so that a re-import updates, not duplicates.
    stix_id = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=2000)
    currency = models.CharField(max_length=16, blank=True)  # wallets: BTC, ETH, XMR, ...
    description = models.TextField(blank=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="indicators")
    request = models.ForeignKey(Request, null=True, blank=True, on_delete=models.CASCADE, related_name="indicators")
    handling = models.CharField(max_length=20, choices=Handling.choices, default=Handling.AMBER_STRICT)
    source_state = models.CharField(max_length=3)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def new_stix_id() -> str:
    return f"indicator--{uuid.uuid4()}"


class Bundle(models.Model):
    """A STIX bundle this node shared with chosen States, or received from one."""

    class Direction(models.TextChoices):
        SENT = "sent", _("Sent")
        RECEIVED = "received", _("Received")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    states = models.JSONField(default=list)  # recipients (sent) or [sender] (received)
    handling = models.CharField(max_length=20, choices=Handling.choices)
    document = models.JSONField()
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="stix_bundles")
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
