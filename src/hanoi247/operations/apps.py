from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.operations"
    label = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the worker's periodic tasks (alerts, escalation, notification delivery).
        from hanoi247.operations import tasks  # noqa: F401
