from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.indicators"
    label = "indicators"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the federation handlers for this app's messages.
        from hanoi247.indicators import services  # noqa: F401
