from django.urls import path

from hanoi247.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.conference, name="conference"),
    path("conference.csv", views.conference_csv, name="conference-csv"),
]
