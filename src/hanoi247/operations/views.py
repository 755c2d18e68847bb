"""The 24/7 desk's pages: roster, notification preferences, calendar feeds; and two
machine endpoints, the public on-call document and the metrics."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.models import User
from hanoi247.accounts.services import acting_user, is_local_case_handler
from hanoi247.operations import services
from hanoi247.operations.forms import HandOverForm, PreferenceForm, ShiftForm, WebhookForm
from hanoi247.operations.models import Notification, WebhookEndpoint

case_handler = only_for(is_local_case_handler)


@case_handler
def roster(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = ShiftForm(request.POST or None, initial={"user": user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            services.add_shift(user, **form.cleaned_data)
        except services.OperationsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Shift planned."))
            return redirect("operations:roster")
    now = timezone.now()
    shifts = list(
        services.visible_shifts(user).filter(
            ends_at__gt=now - timedelta(days=1), starts_at__lt=now + timedelta(days=14)
        )
    )
    context = {
        "form": form,
        "shifts": shifts,
        "now": now,
        "zone": services.node_zone(),
        "handover_form": HandOverForm(),
        "published": services.on_call_document(now),
    }
    return render(request, "operations/roster.html", context, status=422 if form.errors else 200)


@require_POST
@case_handler
def hand_over(request: HttpRequest, shift_id: str) -> HttpResponse:
    shift = services.get_shift(request.user, shift_id)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whom to hand over to."))
        return redirect("operations:roster")
    try:
        services.hand_over(acting_user(request), shift, to=form.cleaned_data["to"], note=form.cleaned_data["note"])
    except services.OperationsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Handed over."))
    return redirect("operations:roster")


@case_handler
def preferences(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    pref = services.preference(user)
    form = PreferenceForm(
        request.POST or None,
        initial={"email": pref.email, "webhook": pref.webhook, "quiet_off_duty": pref.quiet_off_duty},
    )
    if request.method == "POST" and form.is_valid():
        services.set_preference(user, **form.cleaned_data)
        messages.success(request, _("Preferences saved."))
        return redirect("operations:preferences")
    context = {
        "form": form,
        "webhook_form": WebhookForm(),
        "webhooks": WebhookEndpoint.objects.filter(user=user).order_by("created_at"),
        "email_enabled": bool(settings.EMAIL_HOST),
        "recent": Notification.objects.filter(user=user).select_related("request").order_by("-created_at")[:20],
    }
    return render(request, "operations/preferences.html", context)


@require_POST
@case_handler
def add_webhook(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    if form.is_valid():
        endpoint = services.add_webhook(acting_user(request), form.cleaned_data["url"])
        messages.success(request, _("Webhook added. Its signing secret: %(secret)s") % {"secret": endpoint.secret})
    else:
        messages.error(request, _("Give the webhook's URL."))
    return redirect("operations:preferences")


@require_POST
@case_handler
def remove_webhook(request: HttpRequest, webhook_id: str) -> HttpResponse:
    services.remove_webhook(acting_user(request), webhook_id)
    messages.success(request, _("Webhook removed."))
    return redirect("operations:preferences")


@case_handler
def calendars(request: HttpRequest) -> HttpResponse:
    token = ""
    if request.method == "POST":
        token = services.issue_calendar_token(acting_user(request))
    return render(request, "operations/calendars.html", {"token": token})


def _ics(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@case_handler
def roster_ics(request: HttpRequest) -> HttpResponse:
    return _ics(services.roster_calendar(acting_user(request)), "roster.ics")


@require_GET
@case_handler
def deadlines_ics(request: HttpRequest) -> HttpResponse:
    return _ics(services.deadline_calendar(acting_user(request)), "deadlines.ics")


@require_GET
def feed(request: HttpRequest, token: str, name: str) -> HttpResponse:
    """The same feeds for a calendar app, which cannot pass a second factor: the secret in
    the URL stands for the user (404 for anything else)."""
    user: User = services.calendar_user(token)
    if name == "roster":
        return _ics(services.roster_calendar(user), "roster.ics")
    if name == "deadlines":
        return _ics(services.deadline_calendar(user), "deadlines.ics")
    raise Http404("No such calendar")


@require_GET
def on_call(request: HttpRequest) -> HttpResponse:
    """Public: the windows of the roster and the published channel, signed by this node
    (ADR 0015). Peers verify it with this node's key from the signed directory."""
    response = HttpResponse(services.signed_on_call(), content_type="application/jose")
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; counts only. A bearer token or an allowed address, else 404."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    allowed = bool(token) and hmac.compare_digest(given.encode(), token.encode())
    allowed = allowed or request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_ADDRESSES
    if not allowed:
        raise Http404("No such page")
    return HttpResponse(services.metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")
