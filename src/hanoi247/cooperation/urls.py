from django.urls import path

from hanoi247.cooperation import views

app_name = "cooperation"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("requests/new/<slug:type>/", views.new_request, name="new"),
    path("requests/<uuid:request_id>/", views.detail, name="detail"),
    path("requests/<uuid:request_id>/live/", views.live, name="live"),
    path("requests/<uuid:request_id>/edit/", views.edit_request, name="edit"),
    path("requests/<uuid:request_id>/submit/", views.submit, name="submit"),
    path("requests/<uuid:request_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("requests/<uuid:request_id>/execute/", views.execute, name="execute"),
    path("requests/<uuid:request_id>/refuse/", views.refuse, name="refuse"),
]
