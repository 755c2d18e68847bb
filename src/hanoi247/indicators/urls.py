from django.urls import path, re_path

from hanoi247.indicators import views

app_name = "indicators"
OWNER = r"^(?P<kind>cases|requests)/(?P<owner_id>[0-9a-f-]{36})/"
urlpatterns = [
    path("", views.index, name="index"),
    path("bundles/<uuid:bundle_id>.json", views.bundle, name="bundle"),
    re_path(OWNER + r"$", views.owner, name="owner"),
    re_path(OWNER + r"stix\.json$", views.export, name="export"),
    re_path(OWNER + r"import/$", views.import_bundle, name="import"),
    re_path(OWNER + r"share/$", views.share, name="share"),
]
