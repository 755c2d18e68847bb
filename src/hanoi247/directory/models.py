from django.db import models


class DirectoryEntry(models.Model):
    """Secretariat side: one node as registered with the secretariat (Art. 41 register)."""

    state = models.CharField(max_length=3, unique=True)
    base_url = models.URLField()
    keys = models.JSONField(default=dict)  # {"sig": [jwk, ...], "enc": [jwk, ...]}, newest first
    languages = models.JSONField(default=list)
    time_zone = models.CharField(max_length=64, default="UTC")
    contacts = models.JSONField(default=dict)
    # The State's own deadlines per request type, overriding the defaults:
    # {"preservation": {"acknowledge_minutes": 120, "execute_days": 1}, ...}
    deadlines = models.JSONField(default=dict, blank=True)
    # How to ask this State for help (Arts. 54-56), versioned: see directory/guides.py.
    guide = models.JSONField(default=dict, blank=True)
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


class TreatyAction(models.Model):
    """The treaty register: one signature, instrument, declaration or notification of one
    participant (a State by ISO 3166 alpha-3, or an organisation such as "EUU")."""

    class Kind(models.TextChoices):
        SIGNATURE = "signature", "Signature"
        RATIFICATION = "ratification", "Ratification"
        ACCEPTANCE = "acceptance", "Acceptance"
        APPROVAL = "approval", "Approval"
        ACCESSION = "accession", "Accession"
        WITHDRAWAL = "withdrawal_of_instrument", "Withdrawal of instrument"
        DECLARATION = "declaration", "Declaration"
        RESERVATION = "reservation", "Reservation"
        NOTIFICATION = "notification", "Notification"

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        REPORTED = "reported", "Reported (date not confirmed)"

    participant = models.CharField(max_length=3, db_index=True)
    action = models.CharField(max_length=32, choices=Kind.choices)
    date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    note = models.CharField(max_length=255, blank=True, default="")  # e.g. "reported at Hanoi, date not confirmed"
    text = models.TextField(blank=True, default="")  # the text of a declaration or reservation
    source = models.TextField(blank=True, default="")  # URLs, separated by " ; "
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["participant", "date", "action"]

    def __str__(self) -> str:
        return f"{self.participant} {self.action} {self.date or 'undated'}"
