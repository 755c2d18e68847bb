"""The 24/7 desk (issue #6): who is on call when, the node's escalation ladder, and the
notifications it sends. Times are stored in UTC; rosters are entered and shown in the
node's time zone."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hanoi247.accounts.models import Role
from hanoi247.federation.envelope import uuid7

ON_CALL = "on_call"  # a ladder rung that means "whoever the roster says is on call now"


class Shift(models.Model):
    """One person on call for one window. A hand-over ends a shift early and starts the
    rest of it under the colleague who takes over (``handed_over_from``)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(db_index=True)
    # What the State publishes to the network for this window (e.g. "24/7 desk, +84 24 0000 0000"):
    # the public channel, never the officer's private number.
    public_channel = models.CharField(max_length=200, blank=True)
    # Only this node's case handlers see it (dashboard, escalation mails).
    private_phone = models.CharField(max_length=40, blank=True)
    handed_over_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handover_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%H:%M}"


class EscalationRung(models.Model):
    """One step of the node's ladder: ``after_minutes`` past the acknowledgement deadline,
    the request is escalated to a role (or the officer on call), or to one named person."""

    ROLE_CHOICES = [(ON_CALL, _("Officer on call")), *[(r.value, r.label) for r in Role if r != Role.SECRETARIAT]]

    order = models.PositiveSmallIntegerField(unique=True)
    after_minutes = models.PositiveIntegerField()
    role = models.CharField(max_length=32, choices=ROLE_CHOICES, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    label = models.CharField(max_length=100)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="") | models.Q(user__isnull=False), name="rung_names_role_or_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.label} (+{self.after_minutes} min)"


class Escalation(models.Model):
    """A rung that fired for a request: recorded once, so the worker never fires it twice."""

    request = models.ForeignKey("cooperation.Request", on_delete=models.CASCADE, related_name="escalations")
    rung = models.ForeignKey(EscalationRung, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=100)
    fired_at = models.DateTimeField()

    class Meta:
        ordering = ["fired_at"]
        constraints = [models.UniqueConstraint(fields=["request", "rung"], name="one_escalation_per_rung")]


class Alert(models.Model):
    """The desk was told of a request (once per reason), and whom the worker told."""

    NEW = "new_request"

    request = models.ForeignKey("cooperation.Request", on_delete=models.CASCADE, related_name="alerts")
    reason = models.CharField(max_length=32)
    at = models.DateTimeField()
    recipients = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "reason"], name="one_alert_per_reason")]


class Preference(models.Model):
    """How one user wants to be told. Off duty (no shift now) only emergencies and
    escalations get through when ``quiet_off_duty`` is on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ops_preference")
    email = models.BooleanField(default=True)
    webhook = models.BooleanField(default=True)
    quiet_off_duty = models.BooleanField(default=True)


class WebhookEndpoint(models.Model):
    """A URL that receives a user's alerts as JSON, signed with HMAC-SHA256 under its secret."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64, default=secrets.token_hex)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Notification(models.Model):
    """One alert to one person on one channel, written in the transaction that decides it
    and sent afterwards by the worker (never inside a request's transaction)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        QUIET = "quiet", _("Held: off duty")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    request = models.ForeignKey("cooperation.Request", null=True, on_delete=models.CASCADE, related_name="+")
    # new_request | emergency | escalated — with the request, unique: one alert per reason.
    reason = models.CharField(max_length=64)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    webhook = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE)
    subject = models.CharField(max_length=200)
    body = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)

    # One alert per (user, request, reason, channel, endpoint): the worker may look twice.
    key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["created_at"]


class CalendarToken(models.Model):
    """A secret in a calendar feed's URL: calendar apps cannot log in with a second factor.
    Only its SHA-256 is kept; the feed still answers only while the user is a case handler."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class PeerOnCall(models.Model):
    """The last on-call document fetched from another State's node and verified with its
    key from the signed directory (ADR 0015): what the network page shows as reachable now."""

    state = models.CharField(max_length=3, unique=True)
    document = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["state"]
