from django.db import models


class OutboxMessage(models.Model):
    """A message waiting to leave, written in the same transaction as the change it reports
    (transactional outbox). Delivered in ``seq`` order per (recipient, case)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"

    message_id = models.UUIDField(unique=True)
    type = models.CharField(max_length=64)
    recipient = models.CharField(max_length=3)
    case_ref = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    message = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Who holds the lease ("host:pid"), so that a restarted worker can take back at once the
    # messages of a process that died (kill -9) instead of waiting for the lease to run out.
    lease_owner = models.CharField(max_length=128, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    receipt = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "case_ref", "seq"], name="outbox_order")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class InboxMessage(models.Model):
    """A verified message as received, with the sender's signature kept as proof."""

    message_id = models.UUIDField(unique=True)
    type = models.CharField(max_length=64)
    sender = models.CharField(max_length=3)
    case_ref = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    message = models.JSONField()
    signed = models.TextField()
    envelope_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    receipt = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sender", "case_ref", "seq"], name="inbox_order")]


class RefusedEnvelope(models.Model):
    """Why an envelope was refused. The envelope itself is never kept."""

    at = models.DateTimeField(auto_now_add=True)
    code = models.CharField(max_length=32)
    reason = models.TextField()
    claimed_sender = models.CharField(max_length=16, blank=True)
    envelope_sha256 = models.CharField(max_length=64)
    remote_addr = models.CharField(max_length=64, blank=True)


class DeliveryAlert(models.Model):
    """A message that has waited longer than its type allows (``services.MAX_WAIT``).
    Raised once per message; resolved when the message is delivered."""

    message = models.OneToOneField(OutboxMessage, on_delete=models.CASCADE, related_name="alert")
    raised_at = models.DateTimeField()
    waited_seconds = models.PositiveIntegerField()
    allowed_seconds = models.PositiveIntegerField()
    last_error = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
