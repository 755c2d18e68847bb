from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hanoi247.federation.envelope import uuid7


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    DELIVERED = "delivered", _("Delivered")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    EXECUTED = "executed", _("Executed")
    REFUSED = "refused", _("Refused")


class Direction(models.TextChoices):
    OUTGOING = "outgoing", _("Outgoing")
    INCOMING = "incoming", _("Incoming")


class Request(models.Model):
    """A request for cooperation, as this node holds it. The requesting and the requested
    node each keep their own copy under the same id; messages keep the copies in step."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    reference = models.CharField(max_length=32, unique=True)
    type = models.CharField(max_length=32)
    schema_version = models.PositiveSmallIntegerField(default=1)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    requesting_state = models.CharField(max_length=3)
    requested_state = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    payload = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    preserved_until = models.DateField(null=True, blank=True)
    refusal_grounds = models.JSONField(default=list, blank=True)
    refusal_reasons = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["direction", "status"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def counterpart(self) -> str:
        return self.requested_state if self.direction == Direction.OUTGOING else self.requesting_state


class RequestEvent(models.Model):
    """One step of a request's life, with who did it and when. An event made on one node is
    copied to the other under the same id."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    at = models.DateTimeField()
    actor_name = models.CharField(max_length=200)
    actor_role = models.CharField(max_length=32, blank=True)
    actor_state = models.CharField(max_length=3)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
