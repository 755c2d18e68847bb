"""Indicators of a case or request: list, add, import and export STIX 2.1, share."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.services import acting_user, is_local_case_handler
from hanoi247.cooperation import services as cooperation
from hanoi247.directory import services as directory
from hanoi247.indicators import services
from hanoi247.indicators.forms import ImportForm, IndicatorForm, ShareForm

case_handler = only_for(is_local_case_handler)


def _owner(request: HttpRequest, kind: str, owner_id: str) -> dict[str, Any]:
    """{"case": Case} or {"request": Request} that the user may see, or 404."""
    if kind == "cases":
        return {"case": cooperation.get_case(request.user, owner_id)}
    return {"request": cooperation.get_request(request.user, owner_id)}


@case_handler
def index(request: HttpRequest) -> HttpResponse:
    rows = list(services.visible_indicators(request.user).select_related("case", "request")[:500])
    bundles = list(services.visible_bundles(request.user)[:50])
    return render(request, "indicators/index.html", {"indicators": rows, "bundles": bundles})


@case_handler
def owner(request: HttpRequest, kind: str, owner_id: str) -> HttpResponse:
    found = _owner(request, kind, owner_id)
    form = IndicatorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add(acting_user(request), **form.cleaned_data, **found)
            except services.IndicatorError as exc:
                form.add_error("value", exc.message)
                status = 422
            else:
                messages.success(request, _("Indicator added."))
                return redirect(request.path)
        else:
            status = 422
    context = {
        # "request" is the page's HttpRequest in templates: the Request goes as "req".
        "case": found.get("case"),
        "req": found.get("request"),
        "owner": found.get("case") or found.get("request"),
        "kind": kind,
        "indicators": list(services.of(**found)),
        "default_handling": services.default_handling(case=found.get("case"), request=found.get("request")),
        "form": form,
        "import_form": ImportForm(),
        "share_form": ShareForm(peers=directory.peers()),
    }
    return render(request, "indicators/owner.html", context, status=status)


@case_handler
def export(request: HttpRequest, kind: str, owner_id: str) -> HttpResponse:
    found = _owner(request, kind, owner_id)
    document = services.export(acting_user(request), **found)
    response = HttpResponse(json.dumps(document, indent=2), content_type="application/stix+json;version=2.1")
    name = (found.get("case") or found.get("request")).reference  # type: ignore[union-attr]
    response["Content-Disposition"] = f'attachment; filename="{name}-stix.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@case_handler
def import_bundle(request: HttpRequest, kind: str, owner_id: str) -> HttpResponse:
    found = _owner(request, kind, owner_id)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid() and form.document().strip():
        try:
            result = services.import_bundle(acting_user(request), form.document(), **found)
        except services.IndicatorError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Imported: %(c)d new, %(u)d updated, %(s)d skipped.")
                % {"c": result.created, "u": result.updated, "s": len(result.skipped)},
            )
    else:
        messages.error(request, _("Give a STIX 2.1 bundle."))
    return redirect("indicators:owner", kind=kind, owner_id=owner_id)


@require_POST
@case_handler
def share(request: HttpRequest, kind: str, owner_id: str) -> HttpResponse:
    found = _owner(request, kind, owner_id)
    form = ShareForm(request.POST, peers=directory.peers())
    if not form.is_valid():
        messages.error(request, _("Choose the States to share with."))
    else:
        try:
            sent = services.share(acting_user(request), states=form.cleaned_data["states"], **found)
        except services.IndicatorError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Bundle shared with %(s)s as %(h)s.") % {"s": ", ".join(sent.states), "h": sent.handling}
            )
    return redirect("indicators:owner", kind=kind, owner_id=owner_id)


@case_handler
def bundle(request: HttpRequest, bundle_id: str) -> HttpResponse:
    found = services.get_bundle(request.user, bundle_id)
    response = HttpResponse(json.dumps(found.document, indent=2), content_type="application/stix+json;version=2.1")
    response["Cache-Control"] = "no-store"
    return response
