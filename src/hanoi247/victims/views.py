"""Pages of the NCII removal workflow. Views parse and render; services change state."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.services import acting_user, is_local_case_handler
from hanoi247.directory import services as directory
from hanoi247.victims import services
from hanoi247.victims.forms import CaseForm, ConsentForm, ImageForm, RemovalForm, ShareForm, SightingForm

case_handler = only_for(is_local_case_handler)
# The images and the victim's identity: central authority and supervisors; others get 404.
victim_role = only_for(services.can_see_victim)


@case_handler
def cases(request: HttpRequest) -> HttpResponse:
    rows = list(services.visible_cases(request.user).prefetch_related("hashes", "removals")[:200])
    form = CaseForm() if services.can_see_victim(request.user) else None
    return render(request, "victims/cases.html", {"cases": rows, "form": form})


@require_POST
@victim_role
def record_case(request: HttpRequest) -> HttpResponse:
    form = CaseForm(request.POST)
    if not form.is_valid():
        rows = list(services.visible_cases(request.user)[:200])
        return render(request, "victims/cases.html", {"cases": rows, "form": form}, status=422)
    case = services.record_case(acting_user(request), **form.cleaned_data)
    messages.success(request, _("Case recorded. Add the images: only their hashes will be sent."))
    return redirect("victims:case", case_id=case.pk)


@case_handler
def case(request: HttpRequest, case_id: str) -> HttpResponse:
    found = services.get_case(request.user, case_id)
    full = services.can_see_victim(request.user)
    context = {
        "case": found,
        "full": full,
        "hashes": list(found.hashes.select_related("image")),
        "removals": list(found.removals.select_related("hash")),
        "image_form": ImageForm() if full and found.direction == "outgoing" else None,
        "consent_form": ConsentForm(initial={"consent": found.consent}) if full else None,
        "share_form": ShareForm(peers=directory.peers()) if found.direction == "outgoing" else None,
    }
    response = render(request, "victims/case.html", context)
    response["Cache-Control"] = "no-store, private"
    return response


@require_POST
@victim_role
def add_image(request: HttpRequest, case_id: str) -> HttpResponse:
    found = services.get_case(request.user, case_id)
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_image(acting_user(request), found, form.cleaned_data["image"].read())
        except services.VictimsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Image recorded and hashed. It stays on this node."))
    else:
        messages.error(request, _("Choose an image."))
    return redirect("victims:case", case_id=found.pk)


@victim_role
def image(request: HttpRequest, image_id: str) -> HttpResponse:
    """The image itself: never cached, never framed, only for the roles allowed to see it."""
    found = services.get_image(request.user, image_id)
    response = HttpResponse(services.image_content(acting_user(request), found), content_type=found.content_type)
    response["Cache-Control"] = "no-store, private, max-age=0"
    response["Pragma"] = "no-cache"
    response["Content-Disposition"] = "inline"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_POST
@victim_role
def consent(request: HttpRequest, case_id: str) -> HttpResponse:
    found = services.get_case(request.user, case_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.record_consent(acting_user(request), found, consent=form.cleaned_data["consent"])
        except services.VictimsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Consent recorded."))
    return redirect("victims:case", case_id=found.pk)


@require_POST
@case_handler
def share(request: HttpRequest, case_id: str) -> HttpResponse:
    found = services.get_case(request.user, case_id)
    form = ShareForm(request.POST, peers=directory.peers())
    if not form.is_valid():
        messages.error(request, _("Choose the States to send the hashes to."))
        return redirect("victims:case", case_id=found.pk)
    try:
        sent = services.share(acting_user(request), found, form.cleaned_data["states"])
    except services.VictimsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Hashes sent to %(states)s.") % {"states": ", ".join(sent)})
    return redirect("victims:case", case_id=found.pk)


@case_handler
def sightings(request: HttpRequest) -> HttpResponse:
    """This State's authorities submit what they found; it is matched against the hashes."""
    form = SightingForm(request.POST or None, request.FILES or None)
    found: list[services.Match] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data.pop("image")
            try:
                _sighting, found = services.submit_sighting(
                    acting_user(request), image=upload.read() if upload else None, **form.cleaned_data
                )
            except services.VictimsError as exc:
                form.add_error(None, exc.message)
                status = 422
            else:
                messages.success(request, _("%(n)d match(es) found.") % {"n": len(found)})
                form = SightingForm()
        else:
            status = 422
    rows = list(services.visible_sightings(request.user).prefetch_related("matches__hash__case")[:100])
    context = {"form": form, "found": found, "sightings": rows, "removal_form": RemovalForm()}
    return render(request, "victims/sightings.html", context, status=status)


@require_POST
@case_handler
def remove(request: HttpRequest, match_id: str) -> HttpResponse:
    match = services.get_match(request.user, match_id)
    form = RemovalForm(request.POST)
    if form.is_valid():
        try:
            services.report_removal(
                acting_user(request), match, removed_at=form.cleaned_data["removed_at"], note=form.cleaned_data["note"]
            )
        except services.VictimsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Removal recorded and reported to %(s)s.") % {"s": match.hash.case.origin_state}
            )
    return redirect("victims:sightings")
