from django.contrib import admin

from hanoi247.operations.models import EscalationRung


@admin.register(EscalationRung)
class EscalationRungAdmin(admin.ModelAdmin):
    """The node administrator sets the ladder (on-call officer, supervisor, head of unit)."""

    list_display = ("order", "after_minutes", "role", "user", "label")
    ordering = ("order",)
