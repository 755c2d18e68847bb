"""Evidence items, the uploads that make them, and transfers between nodes (DESIGN §6)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Origin(models.TextChoices):
    ACQUIRED = "acquired", _("Acquired on this node")
    IMPORTED = "imported", _("Imported from an age file")
    RECEIVED = "received", _("Received from another State")


class EvidenceItem(models.Model):
    """One file of electronic evidence, held encrypted at rest (age, to this node's
    X25519 key). ``sha256`` and ``size`` are of the plaintext: they identify the evidence
    in every custody event and in every manifest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    filename = models.CharField(max_length=255)
    media_type = models.CharField(max_length=127, default="application/octet-stream")
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    blob_name = models.CharField(max_length=255, unique=True)  # in the evidence storage
    blob_size = models.BigIntegerField()
    origin = models.CharField(max_length=16, choices=Origin.choices)
    # The cooperation request this evidence answers or belongs to (a UUID, or empty).
    request_id = models.CharField(max_length=36, blank=True, db_index=True)
    source_state = models.CharField(max_length=3)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    intact = models.BooleanField(default=True)
    # For received evidence: the sender's signed manifest and its custody chain up to sending.
    manifest = models.TextField(blank=True)
    prior_custody = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]


class UploadSession(models.Model):
    """A resumable upload: chunks are appended at the offset the node already holds."""

    class Status(models.TextChoices):
        OPEN = "open"
        FINISHED = "finished"
        ABORTED = "aborted"

    class Format(models.TextChoices):
        PLAIN = "plain"
        AGE = "age"  # an age file encrypted to this node's recipient, imported as is

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    filename = models.CharField(max_length=255)
    media_type = models.CharField(max_length=127, default="application/octet-stream")
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.PLAIN)
    request_id = models.CharField(max_length=36, blank=True)
    size = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    item = models.ForeignKey(EvidenceItem, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class Transfer(models.Model):
    """Evidence travelling to (outgoing) or from (incoming) another State's node, bound by
    the sender's signed manifest."""

    class Direction(models.TextChoices):
        OUTGOING = "outgoing"
        INCOMING = "incoming"

    class Status(models.TextChoices):
        SENDING = "sending"  # outgoing, not yet confirmed
        RECEIVING = "receiving"  # incoming, bytes still arriving
        VERIFIED = "verified"  # complete and checked by the recipient (receipt held)
        FAILED = "failed"  # outgoing: gave up for now, can be resumed
        REFUSED = "refused"  # the bytes did not match the manifest: never accepted

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    peer = models.CharField(max_length=3)
    request_id = models.CharField(max_length=36)
    item = models.ForeignKey(EvidenceItem, null=True, blank=True, on_delete=models.PROTECT)
    manifest = models.TextField()  # compact JWS, signed by the sender
    blob_size = models.BigIntegerField()
    transferred = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices)
    receipt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
