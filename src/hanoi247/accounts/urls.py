from django.urls import path

from hanoi247.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.PasswordLoginView.as_view(), name="login"),
    path("login/code/", views.verify, name="verify"),
    path("login/enrol/", views.enrol, name="enrol"),
    path("logout/", views.logout, name="logout"),
    path("tokens/", views.tokens, name="tokens"),
]
