"""The officer's web pages. Views parse and render; services change state."""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.services import acting_user
from hanoi247.audit import services as audit
from hanoi247.cooperation import services
from hanoi247.cooperation.documents import code_labels, display
from hanoi247.cooperation.forms import RequestOptionsForm, initial_of, options_initial, payload_of, request_form
from hanoi247.cooperation.models import Deadline, Direction, Request, Status, TransferAuthorisation
from hanoi247.cooperation.schemas import REQUEST_TYPES, RequestType, field_meta
from hanoi247.cooperation.step_forms import (
    CaseMessageForm,
    StepForm,
    TransferAskForm,
    TransferDecideForm,
    TranslationForm,
)

# Signed in with the second factor, and a case handler of this node's State — or 404.
case_handler = only_for(services.is_local_case_handler)


HTMX_STOP_POLLING = 286  # htmx swaps this answer in, then stops polling
FAMILIES = {
    "assistance": (_lazy("Immediate assistance through the 24/7 network"), "Art. 41"),
    "preservation": (_lazy("Expedited preservation"), "Art. 42"),
    "disclosure": (_lazy("Expedited disclosure of preserved traffic data"), "Art. 43"),
    "mla": (_lazy("Mutual legal assistance"), "Arts. 40, 44-46"),
    "law_enforcement": (_lazy("Law-enforcement cooperation"), "Art. 47"),
    "joint_investigation": (_lazy("Joint investigations"), "Art. 48"),
    "proceeds": (_lazy("Freezing, confiscation and return of proceeds"), "Arts. 49-52"),
    "extradition": (_lazy("Extradition"), "Art. 37"),
}


def _with_kinds(rows: list[Request]) -> list[Request]:
    now = timezone.now()
    for r in rows:
        r.kind = REQUEST_TYPES.get(r.type)  # type: ignore[attr-defined]
        r.overdue = [d for d in r.deadlines.all() if d.met_at is None and d.due_at < now]  # type: ignore[attr-defined]
    return rows


def _rows(qs: Any, limit: int = 50) -> list[Request]:
    open_deadlines = Prefetch("deadlines", queryset=Deadline.objects.filter(met_at__isnull=True))
    return _with_kinds(list(qs.select_related("case").prefetch_related(open_deadlines)[:limit]))


@case_handler
def desk(request: HttpRequest) -> HttpResponse:
    """The officer on duty's dashboard (issue #6): emergencies first, then what waits for an
    acknowledgement, overdue and expiring deadlines, who is on call; then every request."""
    from hanoi247.operations import services as operations

    qs = services.visible_requests(request.user)
    incoming = _rows(qs.filter(direction=Direction.INCOMING).order_by("-urgent", "-submitted_at"))
    outgoing = _rows(qs.filter(direction=Direction.OUTGOING).order_by("-created_at"))
    waiting = qs.filter(direction=Direction.INCOMING, status=Status.DELIVERED).count()
    context = {
        "incoming": incoming,
        "outgoing": outgoing,
        "waiting": waiting,
        "ops": operations.dashboard(request.user),
        "now": timezone.now(),
    }
    template = "operations/_dashboard.html" if request.headers.get("HX-Request") else "cooperation/desk.html"
    return render(request, template, context)


@case_handler
def choose_type(request: HttpRequest) -> HttpResponse:
    """Every request type, by family, with its article: the first step of a new request."""
    kinds = sorted(REQUEST_TYPES.values(), key=lambda k: list(FAMILIES).index(k.family))
    families = [(family, *FAMILIES[family], list(items)) for family, items in groupby(kinds, key=lambda k: k.family)]
    query = request.GET.urlencode()
    return render(request, "cooperation/choose.html", {"families": families, "query": query})


def _form_context(form: Any, options_form: Any, kind: RequestType, req: Request | None) -> dict[str, Any]:
    return {
        "form": form,
        "options_form": options_form,
        "kind": kind,
        "req": req,
        "language_warning": services.language_warning(req) if req else "",
    }


@case_handler
def new_request(request: HttpRequest, type: str = "preservation") -> HttpResponse:
    kind = REQUEST_TYPES.get(type)
    if kind is None:
        raise Http404("No such request type")
    form_class = request_form(kind)
    initial: dict[str, Any] = {}
    if request.GET.get("recipient"):
        initial["recipient"] = request.GET["recipient"]
    form = form_class(request.POST or None, initial=initial)
    opt_initial = {k: request.GET[k] for k in ("case", "follows") if request.GET.get(k)}
    options_form = RequestOptionsForm(request.POST or None, kind=kind, initial=opt_initial, user=request.user)
    if request.method == "POST" and form.is_valid() and options_form.is_valid():
        try:
            req = services.create_draft(
                acting_user(request),
                type=kind.code,
                recipient=form.cleaned_data["recipient"],
                payload=payload_of(form, kind),
                options=options_form.options(),
            )
        except services.WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            return _after_save(request, req, form, options_form)
    status = 422 if request.method == "POST" else 200
    return render(request, "cooperation/form.html", _form_context(form, options_form, kind, None), status=status)


@case_handler
def edit_request(request: HttpRequest, request_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    if req.direction != Direction.OUTGOING or req.status != Status.DRAFT:
        return redirect("cooperation:detail", request_id=req.pk)
    kind = REQUEST_TYPES[req.type]
    form_class = request_form(kind)
    form = form_class(request.POST or None, initial={**initial_of(kind, req.payload), "recipient": req.requested_state})
    options_form = RequestOptionsForm(request.POST or None, kind=kind, initial=options_initial(req), user=request.user)
    if request.method == "POST" and form.is_valid() and options_form.is_valid():
        try:
            services.update_draft(
                acting_user(request),
                req,
                payload=payload_of(form, kind),
                recipient=form.cleaned_data["recipient"],
                options=options_form.options(),
            )
        except services.WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            return _after_save(request, req, form, options_form)
    status = 422 if request.method == "POST" else 200
    return render(request, "cooperation/form.html", _form_context(form, options_form, kind, req), status=status)


def _after_save(request: HttpRequest, req: Request, form: Any, options_form: Any) -> HttpResponse:
    if request.POST.get("action") != "submit":
        messages.info(request, _("Draft saved."))
        return redirect("cooperation:detail", request_id=req.pk)
    try:
        services.submit(acting_user(request), req)
    except services.WorkflowError as exc:
        # Stay on the form with everything typed, each missing element named where it belongs.
        form.add_error(None, exc.message)
        for missing in exc.missing:
            form.add_path_error(missing.path or missing.field, missing.message)
        kind = REQUEST_TYPES[req.type]
        return render(request, "cooperation/form.html", _form_context(form, options_form, kind, req), status=422)
    messages.success(request, _("Request submitted. It is being delivered to the requested State."))
    return redirect("cooperation:detail", request_id=req.pk)


def elements_of(kind: RequestType, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Each element with its article and its value shaped for display, as the PDF shows it."""
    labels = code_labels()
    return [
        {
            "name": name,
            "title": _(field_meta(kind.schema, name)["title"]),
            "article": field_meta(kind.schema, name)["article"],
            "display": display(info.annotation, payload.get(name), labels),
        }
        for name, info in kind.schema.model_fields.items()
    ]


def _detail_context(request: HttpRequest, req: Request) -> dict[str, Any]:
    kind = REQUEST_TYPES[req.type]
    steps = services.available_steps(req)
    transfers = list(
        TransferAuthorisation.objects.filter(source__in=[req, *req.personal_data_from.all()]).select_related("source")
    )
    return {
        "req": req,
        "kind": kind,
        "elements": elements_of(kind, req.payload),
        "events": list(req.events.all()),
        "missing": services.missing_elements(req) if req.status == Status.DRAFT else [],
        "steps": [(s, StepForm(kind=s.kind, req=req)) for s in steps],
        "step_codes": ",".join(s.kind for s in steps),
        "grounds": {g: kind.refusal_grounds.get(g, g) for g in req.refusal_grounds},
        "deadlines": list(req.deadlines.all()),
        "now": timezone.now(),
        "language_warning": services.language_warning(req) if req.status == Status.DRAFT else "",
        "translations": list(req.translations.all()),
        "translation_form": TranslationForm(languages=_language_choices(req)) if req.status == Status.DRAFT else None,
        "blockers": services.transfer_blockers(req) if req.status == Status.DRAFT else [],
        "transfers": transfers,
        "decide_form": TransferDecideForm(),
        "ask_form": TransferAskForm(),
        "follow_up_types": [t for t in REQUEST_TYPES.values() if req.type in t.follows],
        "follow_ups": list(req.follow_ups.all()),
    }


def _language_choices(req: Request) -> list[tuple[str, str]]:
    accepted = services.accepted_languages(req.requested_state)
    codes = [c for c in accepted if c in services.LANGUAGES] or sorted(services.LANGUAGES)
    return [(c, f"{services.LANGUAGES[c]} ({c})") for c in codes if c != req.language]


@case_handler
def detail(request: HttpRequest, request_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    services.record_view(acting_user(request), req)
    return render(request, "cooperation/detail.html", _detail_context(request, req))


@case_handler
def live(request: HttpRequest, request_id: str) -> HttpResponse:
    """The status, actions and timeline, refreshed by htmx every few seconds."""
    req = services.get_request(request.user, request_id)
    context = _detail_context(request, req)
    context["steps_changed"] = request.GET.get("steps", context["step_codes"]) != context["step_codes"]
    response = render(request, "cooperation/_live.html", context)
    if req.is_final:
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


DONE = {
    "acknowledged": _("Acknowledged. The requesting State can see it."),
    "refused": _("Refused. The requesting State sees the grounds and reasons."),
    "executed": _("Marked as executed."),
}


@require_POST
@case_handler
def step(request: HttpRequest, request_id: str, kind: str) -> HttpResponse:
    """Any move of the state machine, from its form on the request page."""
    req = services.get_request(request.user, request_id)
    if kind not in services.STEPS:
        raise Http404("No such action")
    form = StepForm(request.POST, kind=kind, req=req)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[f].label if f in form.fields else ''}: {' '.join(map(str, e))}"
            for f, e in form.errors.items()
        )
        messages.error(request, problems)
        return redirect("cooperation:detail", request_id=req.pk)
    return _act(
        request,
        request_id,
        lambda r: services.act(
            acting_user(request), r, kind, note=form.cleaned_data.get("note", ""), data=form.data_for_service()
        ),
        str(DONE.get(kind, _("Done. The other State's node is told."))),
    )


@require_POST
@case_handler
def add_translation(request: HttpRequest, request_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    form = TranslationForm(request.POST, languages=_language_choices(req))
    if not form.is_valid():
        messages.error(request, _("Choose the language and paste the translation."))
        return redirect("cooperation:detail", request_id=req.pk)
    return _act(
        request,
        request_id,
        lambda r: services.add_translation(acting_user(request), r, **form.cleaned_data),
        _("Translation attached. It travels with the request."),
    )


@require_POST
@case_handler
def ask_transfer(request: HttpRequest, request_id: str, source_id: str) -> HttpResponse:
    req = services.get_request(request.user, request_id)
    source = services.get_request(request.user, source_id)
    form = TransferAskForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the data is to be passed on."))
        return redirect("cooperation:detail", request_id=req.pk)
    try:
        services.ask_transfer_authorisation(
            acting_user(request), source, third_state=req.requested_state, purpose=form.cleaned_data["purpose"]
        )
    except services.WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Authorisation asked of %(state)s.") % {"state": source.counterpart})
    return redirect("cooperation:detail", request_id=req.pk)


@require_POST
@case_handler
def decide_transfer(request: HttpRequest, authorisation_id: str) -> HttpResponse:
    row = TransferAuthorisation.objects.filter(pk=authorisation_id).select_related("source").first()
    if row is None:
        raise Http404("No such authorisation")
    form = TransferDecideForm(request.POST)
    if form.is_valid():
        try:
            services.decide_transfer(
                acting_user(request),
                row,
                granted=form.cleaned_data["decision"] == "granted",
                conditions=form.cleaned_data["conditions"],
            )
        except services.WorkflowError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Decision recorded and sent."))
    return redirect("cooperation:detail", request_id=row.source_id)


@case_handler
def document(request: HttpRequest, request_id: str) -> HttpResponse:
    """The request as a print-ready PDF, in its language."""
    from hanoi247.cooperation.documents import render_pdf

    req = services.get_request(request.user, request_id)
    audit.record(
        "request.printed", actor=f"{acting_user(request).username}", object_type="request", object_id=str(req.pk)
    )
    response = HttpResponse(render_pdf(req), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{req.reference}.pdf"'
    return response


# -- cases and deadlines ------------------------------------------------------------------


@case_handler
def cases(request: HttpRequest) -> HttpResponse:
    rows = list(services.visible_cases(request.user).prefetch_related("requests")[:200])
    return render(request, "cooperation/cases.html", {"cases": rows})


@case_handler
def case_detail(request: HttpRequest, case_id: str) -> HttpResponse:
    case = services.get_case(request.user, case_id)
    requests = _rows(case.requests.order_by("submitted_at", "created_at"), limit=500)
    audit.record("case.viewed", actor=acting_user(request).username, object_type="case", object_id=str(case.pk))
    jit = [r for r in requests if r.type == "joint_investigation" and not r.is_final and r.status != Status.DRAFT]
    return render(
        request,
        "cooperation/case.html",
        {
            "case": case,
            "requests": requests,
            "timeline": services.case_timeline(case),
            "jit": jit,
            "message_form": CaseMessageForm() if jit else None,
            "types": REQUEST_TYPES,
        },
    )


@require_POST
@case_handler
def case_message(request: HttpRequest, case_id: str) -> HttpResponse:
    """The joint investigation's shared workspace: one message to every party of the case."""
    case = services.get_case(request.user, case_id)
    form = CaseMessageForm(request.POST)
    if form.is_valid():
        sent = services.message_joint_investigation(acting_user(request), case, form.cleaned_data["note"])
        messages.success(request, _("Message sent to %(count)s parties.") % {"count": sent})
    else:
        messages.error(request, _("Write the message."))
    return redirect("cooperation:case", case_id=case.pk)


@case_handler
def deadlines(request: HttpRequest) -> HttpResponse:
    rows = list(services.open_deadlines(request.user, within=_window(request)))
    for d in rows:
        d.request.kind = REQUEST_TYPES.get(d.request.type)  # type: ignore[attr-defined]
    return render(request, "cooperation/deadlines.html", {"deadlines": rows, "now": timezone.now()})


def _window(request: HttpRequest) -> Any:
    from datetime import timedelta

    try:
        days = max(1, min(int(request.GET.get("days", "7")), 365))
    except ValueError:
        days = 7
    return timedelta(days=days)
