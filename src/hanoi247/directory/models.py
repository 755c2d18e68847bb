from django.db import models


class DirectoryEntry(models.Model):
    """Secretariat side: one node as registered with the secretariat (Art. 41 register)."""

    state = models.CharField(max_length=3, unique=True)
    base_url = models.URLField()
    keys = models.JSONField(default=dict)  # {"sig": [jwk, ...], "enc": [jwk, ...]}, newest first
    languages = models.JSONField(default=list)
    time_zone = models.CharField(max_length=64, default="UTC")
    contacts = models.JSONField(default=dict)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "directory entries"
        ordering = ["state"]

    def __str__(self) -> str:
        return self.state


class DirectorySnapshot(models.Model):
    """A verified, signed directory as this node received (or, at the secretariat, issued) it."""

    version = models.BigIntegerField(unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    document = models.JSONField()
    signed = models.TextField()
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
