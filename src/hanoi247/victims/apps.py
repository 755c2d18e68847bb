from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.victims"
    label = "victims"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the federation handlers for this app's messages.
        from hanoi247.victims import services  # noqa: F401
