from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the worker's periodic checkpoint.
        from hanoi247.audit import tasks  # noqa: F401
