from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.federation"
    label = "federation"
    default_auto_field = "django.db.models.BigAutoField"
