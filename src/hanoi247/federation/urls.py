"""Pages about this node's deliveries, mounted under ``network/outbox/``."""

from django.urls import path

from hanoi247.federation import views

app_name = "federation"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("undelivered.json", views.outbox_json, name="outbox-json"),
]
