from django.urls import path

from hanoi247.victims import views

app_name = "victims"
urlpatterns = [
    path("", views.cases, name="cases"),
    path("new/", views.record_case, name="record"),
    path("cases/<uuid:case_id>/", views.case, name="case"),
    path("cases/<uuid:case_id>/images/", views.add_image, name="add_image"),
    path("cases/<uuid:case_id>/consent/", views.consent, name="consent"),
    path("cases/<uuid:case_id>/share/", views.share, name="share"),
    path("images/<uuid:image_id>", views.image, name="image"),
    path("sightings/", views.sightings, name="sightings"),
    path("matches/<uuid:match_id>/removal/", views.remove, name="remove"),
]
