from django.db import models


class AuditEntry(models.Model):
    """One append-only line of the node's audit log, chained to the one before by hash."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True, db_index=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """The chain's head; locking this single row serialises appends on every database."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)


class AuditCheckpoint(models.Model):
    """The node's signed word that its audit chain held ``hash`` at entry ``seq``.

    ``signature`` is a JWS (compact, Ed25519, the node's signing key) over the State, seq,
    hash, count and time: anyone with the node's public key from the directory can check it,
    and a chain rewritten after it no longer matches it."""

    seq = models.BigIntegerField(db_index=True)
    hash = models.CharField(max_length=64)
    count = models.BigIntegerField()
    created_at = models.DateTimeField()
    signature = models.TextField()

    class Meta:
        ordering = ["seq", "id"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.hash[:12]}… at {self.created_at:%Y-%m-%d %H:%M}Z"
