from django.contrib import admin

from hanoi247.directory.models import TreatyAction


@admin.register(TreatyAction)
class TreatyActionAdmin(admin.ModelAdmin):
    list_display = ("participant", "action", "date", "status", "updated_at")
    list_filter = ("action", "status")
    search_fields = ("participant", "text", "source", "note")
    date_hierarchy = "date"
    readonly_fields = ("created_at", "updated_at")
