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
    INFO_REQUESTED = "info_requested", _("Additional information requested")
    CONSULTATION = "consultation", _("In consultation")
    POSTPONED = "postponed", _("Postponed")
    PARTIALLY_EXECUTED = "partially_executed", _("Partially executed")
    EXECUTED = "executed", _("Executed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    LAPSED = "lapsed", _("Lapsed")


FINAL = frozenset({Status.EXECUTED, Status.REFUSED, Status.WITHDRAWN, Status.LAPSED})


class Handling(models.TextChoices):
    """TLP 2.0 codes: how far the content of a request and its answer may be passed on."""

    RED = "TLP:RED", _("TLP:RED — named recipients only")
    AMBER_STRICT = "TLP:AMBER+STRICT", _("TLP:AMBER+STRICT — the receiving authority only")
    AMBER = "TLP:AMBER", _("TLP:AMBER — the receiving authority and those who need to know")
    GREEN = "TLP:GREEN", _("TLP:GREEN — the community, not public")
    CLEAR = "TLP:CLEAR", _("TLP:CLEAR — no restriction")


class Direction(models.TextChoices):
    OUTGOING = "outgoing", _("Outgoing")
    INCOMING = "incoming", _("Incoming")


class Case(models.Model):
    """A group of requests about one matter, in both directions. The id travels with each
    request, so both States' nodes group the same requests under the same case."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    reference = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    origin_state = models.CharField(max_length=3)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


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
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
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
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="requests", null=True)
    urgent = models.BooleanField(default=False)
    language = models.CharField(max_length=8, default="en")
    handling = models.CharField(max_length=20, choices=Handling.choices, default=Handling.AMBER_STRICT)
    # Conditions the requesting State sets on the request (confidentiality, use limitation),
    # and those the requested State sets on its answer (Art. 40). Shown wherever data is shown.
    conditions = models.JSONField(default=dict, blank=True)
    answer_conditions = models.JSONField(default=dict, blank=True)
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")
    # Requests through which this node received personal data that this request passes on
    # (Art. 36: onward transfer needs the originating State's authorisation).
    personal_data_from = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="passed_on_in")
    postponed_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The desk, the dashboard and the API list read the newest rows of one direction
        # (and status): ordered indexes let them stop after the first page (bench/scale.py).
        indexes = [
            models.Index(fields=["direction", "status"]),
            models.Index(fields=["direction", "-urgent", "-submitted_at"], name="req_dir_urgent_submitted"),
            models.Index(fields=["direction", "-submitted_at"], name="req_dir_submitted"),
            models.Index(fields=["direction", "-created_at"], name="req_dir_created"),
            models.Index(fields=["direction", "status", "-created_at"], name="req_dir_status_created"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def counterpart(self) -> str:
        return self.requested_state if self.direction == Direction.OUTGOING else self.requesting_state

    @property
    def is_final(self) -> bool:
        return self.status in FINAL


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


class Deadline(models.Model):
    """A date by which something must happen. Both nodes compute the same deadlines from the
    same events and the requested State's directory entry."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement due")
        EXECUTION = "execution", _("Execution due")
        INFORMATION = "information", _("Additional information due")
        POSTPONEMENT = "postponement", _("Postponement ends")
        PRESERVATION_EXPIRY = "preservation_expiry", _("Preservation expires")
        FOLLOW_UP = "follow_up", _("Follow-up request due")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    due_at = models.DateTimeField(db_index=True)
    met_at = models.DateTimeField(null=True, blank=True)
    # Whose move it is: the requested State, or the requesting State (follow-up, information).
    owner = models.CharField(max_length=12, default="requested")

    class Meta:
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["request", "kind"], name="one_deadline_per_kind")]
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(met_at__isnull=True), name="deadline_open_due"),
        ]


class Translation(models.Model):
    """A translation of a request into another language, attached before it is sent."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    text = models.TextField()
    translator = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["request", "language"], name="one_translation_per_language")]


class TransferAuthorisation(models.Model):
    """Art. 36: the originating State's decision on passing personal data it sent (in
    ``source``) on to a third State. Both nodes keep the same row under the same id."""

    class Decision(models.TextChoices):
        ASKED = "asked", _("Asked")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    source = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="transfer_authorisations")
    originating_state = models.CharField(max_length=3)
    asking_state = models.CharField(max_length=3)
    third_state = models.CharField(max_length=3)
    purpose = models.TextField()
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.ASKED)
    conditions = models.TextField(blank=True)
    asked_at = models.DateTimeField()
    asked_by = models.CharField(max_length=200)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-asked_at"]
