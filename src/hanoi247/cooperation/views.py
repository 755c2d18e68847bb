"""The officer's web pages. Views parse and render; services change state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.services import acting_user
from hanoi247.cooperation import services
from hanoi247.cooperation.forms import ExecuteForm, RefuseForm, payload_of, request_form
from hanoi247.cooperation.models import Direction, Request, Status
from hanoi247.cooperation.schemas import REQUEST_TYPES, field_meta

# Signed in with the second factor, and a case handler of this node's State — or 404.
case_handler = only_for(services.is_local_case_handler)


OPEN_INCOMING = [Status.DELIVERED, Status.ACKNOWLEDGED]
FINAL = {Status.EXECUTED, Status.REFUSED}
HTMX_STOP_POLLING = 286  # htmx swaps this answer in, then stops polling


@case_handler
def desk(request: HttpRequest) -> HttpResponse:
    qs = services.visible_requests(request.user)
    incoming = list(qs.filter(direction=Direction.INCOMING).order_by("-submitted_at")[:100])
    outgoing = list(qs.filter(direction=Direction.OUTGOING).order_by("-created_at")[:100])
    waiting = qs.filter(direction=Direction.INCOMING, status__in=OPEN_INCOMING).count()
    template = "cooperation/_desk_lists.html" if request.headers.get("HX-Request") else "cooperation/desk.html"
    return render(request, template, {"incoming": incoming, "outgoing": outgoing, "waiting": waiting})


@case_handler
def new_request(request: HttpRequest, type: str = "preservation") -> HttpResponse:
    kind = REQUEST_TYPES.get(type)
    if kind is None:
        raise Http404("No such request type")
    form_class = request_form(kind)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            req = services.create_draft(
                acting_user(request),
                type=kind.code,
                recipient=form.cleaned_data["recipient"],
                payload=payload_of(form, kind),
            )
        except services.WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            return _after_save(request, req, form)
    return render(request, "cooperation/form.html", {"form": form, "kind": kind, "req": None})


@case_handler
def edit_request(request: HttpRequest, request_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    if req.direction != Direction.OUTGOING or req.status != Status.DRAFT:
        return redirect("cooperation:detail", request_id=req.pk)
    kind = REQUEST_TYPES[req.type]
    form_class = request_form(kind)
    form = form_class(request.POST or None, initial={**req.payload, "recipient": req.requested_state})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_draft(
                acting_user(request), req, payload=payload_of(form, kind), recipient=form.cleaned_data["recipient"]
            )
        except services.WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            return _after_save(request, req, form)
    return render(request, "cooperation/form.html", {"form": form, "kind": kind, "req": req})


def _after_save(request: HttpRequest, req: Request, form: Any) -> HttpResponse:
    if request.POST.get("action") != "submit":
        messages.info(request, _("Draft saved."))
        return redirect("cooperation:detail", request_id=req.pk)
    try:
        services.submit(acting_user(request), req)
    except services.WorkflowError as exc:
        # Stay on the form with everything typed, each missing element named where it belongs.
        form.add_error(None, exc.message)
        for missing in exc.missing:
            form.add_error(missing.field if missing.field in form.fields else None, missing.message)
        kind = REQUEST_TYPES[req.type]
        return render(request, "cooperation/form.html", {"form": form, "kind": kind, "req": req}, status=422)
    messages.success(request, _("Request submitted. It is being delivered to the requested State."))
    return redirect("cooperation:detail", request_id=req.pk)


def _detail_context(request: HttpRequest, req: Request) -> dict[str, Any]:
    kind = REQUEST_TYPES[req.type]
    elements = [
        {
            "name": name,
            "title": field_meta(kind.schema, name)["title"],
            "article": field_meta(kind.schema, name)["article"],
            "value": req.payload.get(name),
        }
        for name in kind.schema.model_fields
    ]
    return {
        "req": req,
        "kind": kind,
        "elements": elements,
        "events": list(req.events.all()),
        "missing": services.missing_elements(req) if req.status == Status.DRAFT else [],
        "execute_form": ExecuteForm(),
        "refuse_form": RefuseForm(grounds=kind.refusal_grounds),
        "grounds": {g: kind.refusal_grounds.get(g, g) for g in req.refusal_grounds},
    }


@case_handler
def detail(request: HttpRequest, request_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    services.record_view(acting_user(request), req)
    return render(request, "cooperation/detail.html", _detail_context(request, req))


@case_handler
def live(request: HttpRequest, request_id: str) -> HttpResponse:
    """The status, actions and timeline, refreshed by htmx every few seconds."""
    req = services.get_request(request.user, request_id)
    response = render(request, "cooperation/_live.html", _detail_context(request, req))
    if req.status in FINAL:
        response.status_code = HTMX_STOP_POLLING
    return response


def _act(request: HttpRequest, request_id: str, act: Callable[[Request], Any], done: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    try:
        act(req)
    except services.WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("cooperation:detail", request_id=req.pk)


@require_POST
@case_handler
def submit(request: HttpRequest, request_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    if req.direction == Direction.OUTGOING and req.status == Status.DRAFT and services.missing_elements(req):
        return redirect("cooperation:edit", request_id=req.pk)
    return _act(request, request_id, lambda r: services.submit(acting_user(request), r), _("Request submitted."))


@require_POST
@case_handler
def acknowledge(request: HttpRequest, request_id: str) -> HttpResponse:
    return _act(
        request,
        request_id,
        lambda r: services.acknowledge(acting_user(request), r),
        _("Acknowledged. The requesting State can see it."),
    )


@require_POST
@case_handler
def execute(request: HttpRequest, request_id: str) -> HttpResponse:
    form = ExecuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date until which the data is preserved."))
        return redirect("cooperation:detail", request_id=request_id)
    return _act(
        request,
        request_id,
        lambda r: services.execute(
            acting_user(request),
            r,
            preserved_until=form.cleaned_data["preserved_until"],
            note=form.cleaned_data["note"],
        ),
        _("Marked as executed."),
    )


@require_POST
@case_handler
def refuse(request: HttpRequest, request_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    form = RefuseForm(request.POST, grounds=REQUEST_TYPES[req.type].refusal_grounds)
    if not form.is_valid():
        messages.error(request, _("A refusal must cite at least one ground and give reasons."))
        return redirect("cooperation:detail", request_id=request_id)
    return _act(
        request,
        request_id,
        lambda r: services.refuse(
            acting_user(request), r, grounds=form.cleaned_data["grounds"], reasons=form.cleaned_data["reasons"]
        ),
        _("Refused. The requesting State sees the grounds and reasons."),
    )
