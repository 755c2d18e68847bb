from django.apps import AppConfig


class Config(AppConfig):
    name = "hanoi247.directory"
    label = "directory"
    default_auto_field = "django.db.models.BigAutoField"
