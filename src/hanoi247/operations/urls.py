from django.urls import path

from hanoi247.operations import views

app_name = "operations"
urlpatterns = [
    path("ops/", views.roster, name="roster"),
    path("ops/shifts/<uuid:shift_id>/hand-over/", views.hand_over, name="hand_over"),
    path("ops/preferences/", views.preferences, name="preferences"),
    path("ops/webhooks/", views.add_webhook, name="add_webhook"),
    path("ops/webhooks/<uuid:webhook_id>/delete/", views.remove_webhook, name="remove_webhook"),
    path("ops/calendars/", views.calendars, name="calendars"),
    path("ops/calendars/roster.ics", views.roster_ics, name="roster_ics"),
    path("ops/calendars/deadlines.ics", views.deadlines_ics, name="deadlines_ics"),
    path("ops/feeds/<str:token>/<slug:name>.ics", views.feed, name="feed"),
    path("directory/v1/on-call", views.on_call, name="on_call"),
    path("metrics", views.metrics, name="metrics"),
]
