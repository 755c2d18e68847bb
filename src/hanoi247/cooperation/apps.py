from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.cooperation"
    label = "cooperation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the federation handlers for request messages.
        from hanoi247.cooperation import services  # noqa: F401
