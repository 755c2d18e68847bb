"""Non-consensual intimate images (Art. 16) and their removal (Art. 34): cases recorded by
the victim's State, hashes that travel, sightings the requested State's authorities submit,
and the removals they report back. The image itself never leaves the node that recorded it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hanoi247.cooperation.models import Direction, Handling
from hanoi247.federation.envelope import uuid7


class NciiCase(models.Model):
    """One victim's case. The recording (outgoing) node and each requested (incoming) node
    keep a copy under the same id; only the recording node holds the images."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    reference = models.CharField(max_length=40)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    origin_state = models.CharField(max_length=3)
    # The States the hashes were sent to (outgoing side).
    shared_with = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)
    handling = models.CharField(max_length=20, choices=Handling.choices, default=Handling.RED)
    # The victim's identity: kept on the recording node; travels only with recorded consent.
    victim_name = models.CharField(max_length=200, blank=True)
    victim_contact = models.CharField(max_length=300, blank=True)
    consent = models.BooleanField(default=False)
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference


class NciiImage(models.Model):
    """An image as recorded on this node: encrypted under DATA_DIR, never in a message."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    case = models.ForeignKey(NciiCase, on_delete=models.CASCADE, related_name="images")
    blob = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    recorded_by = models.CharField(max_length=200)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at"]


class NciiHash(models.Model):
    """The fingerprints of one image: what travels to the requested States."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    case = models.ForeignKey(NciiCase, on_delete=models.CASCADE, related_name="hashes")
    image = models.OneToOneField(NciiImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="hash")
    pdq = models.CharField(max_length=64)
    pdq_quality = models.PositiveSmallIntegerField(default=0)
    md5 = models.CharField(max_length=32, db_index=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class Sighting(models.Model):
    """Content found by this State's own authorities (e.g. reported to a provider), as
    hashes: matched against every case's hashes this node holds."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    location = models.CharField(max_length=2000)
    provider = models.CharField(max_length=200, blank=True)
    pdq = models.CharField(max_length=64, blank=True)
    md5 = models.CharField(max_length=32, blank=True, db_index=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    submitted_by = models.CharField(max_length=200)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at"]


class Match(models.Model):
    class Method(models.TextChoices):
        SHA256 = "sha256", "SHA-256"
        MD5 = "md5", "MD5"
        PDQ = "pdq", "PDQ"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    sighting = models.ForeignKey(Sighting, on_delete=models.CASCADE, related_name="matches")
    hash = models.ForeignKey(NciiHash, on_delete=models.CASCADE, related_name="matches")
    method = models.CharField(max_length=8, choices=Method.choices)
    distance = models.PositiveSmallIntegerField(default=0)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-found_at"]
        constraints = [models.UniqueConstraint(fields=["sighting", "hash"], name="one_match_per_pair")]


class Removal(models.Model):
    """Content removed or made inaccessible (Art. 34), as the requested State reports it.
    Both nodes keep the same row under the same id."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    case = models.ForeignKey(NciiCase, on_delete=models.CASCADE, related_name="removals")
    hash = models.ForeignKey(NciiHash, on_delete=models.CASCADE, related_name="removals")
    reporting_state = models.CharField(max_length=3)
    location = models.CharField(max_length=2000)
    provider = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=8, choices=Match.Method.choices)
    distance = models.PositiveSmallIntegerField(default=0)
    removed_at = models.DateTimeField()
    reported_by = models.CharField(max_length=200)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-removed_at"]
