from django.urls import path

from hanoi247.cooperation import views

app_name = "cooperation"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("requests/new/", views.choose_type, name="choose"),
    path("requests/new/<slug:type>/", views.new_request, name="new"),
    path("requests/<uuid:request_id>/", views.detail, name="detail"),
    path("requests/<uuid:request_id>/live/", views.live, name="live"),
    path("requests/<uuid:request_id>/edit/", views.edit_request, name="edit"),
    path("requests/<uuid:request_id>/submit/", views.submit, name="submit"),
    path("requests/<uuid:request_id>/do/<slug:kind>/", views.step, name="step"),
    path("requests/<uuid:request_id>/translations/", views.add_translation, name="translate"),
    path("requests/<uuid:request_id>/transfers/<uuid:source_id>/", views.ask_transfer, name="ask_transfer"),
    path("requests/<uuid:request_id>/document.pdf", views.document, name="document"),
    path("transfers/<uuid:authorisation_id>/decide/", views.decide_transfer, name="decide_transfer"),
    path("cases/", views.cases, name="cases"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case"),
    path("cases/<uuid:case_id>/message/", views.case_message, name="case_message"),
    path("deadlines/", views.deadlines, name="deadlines"),
]
