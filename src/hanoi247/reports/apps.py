from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the federation handler for statistics.report messages.
        from hanoi247.reports import services  # noqa: F401
