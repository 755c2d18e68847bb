from __future__ import annotations

from django.db import models


class StatisticsReport(models.Model):
    """(Secretariat) the latest aggregate figures a State's node sent for a period."""

    state = models.CharField(max_length=3)
    period = models.CharField(max_length=16)
    body = models.JSONField()
    received_at = models.DateTimeField()
    message_id = models.UUIDField()

    class Meta:
        ordering = ["period", "state"]
        constraints = [models.UniqueConstraint(fields=["state", "period"], name="one_report_per_state_and_period")]

    def __str__(self) -> str:
        return f"{self.state} {self.period}"
