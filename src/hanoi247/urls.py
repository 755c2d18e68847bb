from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from hanoi247.api import api
from hanoi247.directory import views as directory_views
from hanoi247.evidence import views as evidence_views
from hanoi247.federation import views as federation_views

# The admin asks for the second factor too, and does not show anyone's TOTP secret.
admin.site.__class__ = OTPAdminSite
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


def health(request: HttpRequest) -> JsonResponse:
    from django.conf import settings

    return JsonResponse({"status": "ok", "state": settings.NODE.state, "kind": settings.NODE.kind})


urlpatterns = [
    path("", include("hanoi247.cooperation.urls")),
    path("accounts/", include("hanoi247.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("network/", directory_views.network, name="network"),
    path("network/outbox/", include("hanoi247.federation.urls")),
    path("treaty/", directory_views.treaty_status, name="treaty"),
    path("reports/", include("hanoi247.reports.urls")),
    path("directory/v1/directory.jws", directory_views.signed_directory, name="signed-directory"),
    path("federation/v1/inbox", federation_views.inbox, name="federation-inbox"),
    path("evidence/", include("hanoi247.evidence.urls")),
    path("victims/", include("hanoi247.victims.urls")),
    path("indicators/", include("hanoi247.indicators.urls")),
    path("federation/v1/evidence/<uuid:transfer_id>", evidence_views.federation_transfer, name="federation-evidence"),
    path("federation/v1/ping", federation_views.ping, name="federation-ping"),
    path("", include("hanoi247.operations.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),
]
