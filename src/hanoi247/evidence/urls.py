from django.urls import path

from hanoi247.evidence import views

app_name = "evidence"
urlpatterns = [
    path("", views.evidence_list, name="list"),
    path("uploads/", views.upload_start, name="upload-start"),
    path("uploads/<uuid:upload_id>/", views.upload_chunk, name="upload-chunk"),
    path("uploads/<uuid:upload_id>/finish/", views.upload_finish, name="upload-finish"),
    path("<uuid:item_id>/", views.detail, name="detail"),
    path("<uuid:item_id>/download/", views.download, name="download"),
    path("<uuid:item_id>/case.jsonld", views.case_export, name="case"),
    path("<uuid:item_id>/send/", views.send, name="send"),
]
