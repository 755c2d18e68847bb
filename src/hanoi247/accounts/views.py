"""Log-in with password, then a TOTP code for every role that handles cases or the node."""

from __future__ import annotations

import base64

import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from hanoi247.accounts.forms import TokenForm
from hanoi247.accounts.models import ApiToken, User
from hanoi247.accounts.services import acting_user, is_local_case_handler, passed_second_factor
from hanoi247.audit import services as audit

PENDING = "h247_pending_user"
NEXT = "h247_after_login"


def landing(user: User) -> str:
    """Where a user starts: case handlers at the desk, administrators in the admin."""
    return reverse("cooperation:desk") if is_local_case_handler(user) else reverse("admin:index")


class PasswordLoginView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = False

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not user.needs_second_factor:
            return super().form_valid(form)
        # Password alone does not log in an officer: remember who passed it, ask for the code.
        self.request.session.cycle_key()
        self.request.session[PENDING] = user.pk
        self.request.session[NEXT] = self.get_redirect_url()
        has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        return redirect("accounts:verify" if has_device else "accounts:enrol")


def _pending_user(request: HttpRequest) -> User | None:
    pk = request.session.get(PENDING)
    return User.objects.filter(pk=pk, is_active=True).first() if pk else None


def _complete(request: HttpRequest, user: User, device: TOTPDevice) -> HttpResponse:
    request.session.pop(PENDING, None)
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    audit.record("user.login", actor=user.username, object_type="user", object_id=str(user.pk))
    # ``next`` was checked to be a safe, same-site URL by LoginView.get_redirect_url().
    return redirect(request.session.pop(NEXT, "") or landing(user))


def verify(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                return _complete(request, user, device)
        form.add_error("token", _("This code is not valid. Check your device's clock and try the current code."))
    return render(request, "accounts/verify.html", {"form": form, "pending": user})


def enrol(request: HttpRequest) -> HttpResponse:
    """First log-in of an officer: set up the authenticator app, prove it works."""
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name="authenticator", confirmed=False
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return _complete(request, user, device)
        form.add_error("token", _("This code is not valid. Check your device's clock and try the current code."))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(request, "accounts/enrol.html", {"form": form, "secret": secret, "qr": qr, "pending": user})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("accounts:login")


def tokens(request: HttpRequest) -> HttpResponse:
    """API tokens of the signed-in user (shown once when issued)."""
    if not passed_second_factor(request.user):
        return HttpResponseRedirect(reverse("accounts:login"))
    user = acting_user(request)
    issued = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100] or "API token"
        issued = ApiToken.issue(user, name)[1]
        audit.record("token.issued", actor=user.username, object_type="user", object_id=str(user.pk))
        messages.success(request, _("Token issued. Copy it now: it will not be shown again."))
    return render(request, "accounts/tokens.html", {"tokens": user.api_tokens.all(), "issued": issued})
