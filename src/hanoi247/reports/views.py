from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from hanoi247.accounts.decorators import only_for
from hanoi247.accounts.models import Role
from hanoi247.reports import services
from hanoi247.reports.charts import bar_chart
from hanoi247.states import state_name


def _is_secretariat_here(user: Any) -> bool:
    return settings.NODE.is_secretariat and getattr(user, "role", None) == Role.SECRETARIAT


# Signed in with the second factor, on the secretariat's node, in its role — or 404.
secretariat_only = only_for(_is_secretariat_here)


def _period(request: HttpRequest) -> str:
    period = request.GET.get("period", "")
    return period if services.PERIOD_RE.match(period) else services.default_period()


@secretariat_only
def conference(request: HttpRequest) -> HttpResponse:
    """GET /reports/ — the States' aggregate figures combined, for the Conference."""
    period = _period(request)
    combined = services.combine(period)
    rows = [(state_name(r.state), r.sent, r.received) for r in combined.states]
    chart = bar_chart(
        rows,
        title=gettext("Requests sent and received by reporting State, %(period)s") % {"period": period},
        desc=gettext("%(n)d States reported; cells from 1 to below %(k)d are suppressed and not counted.")
        % {"n": len(rows), "k": services.K},
        legend=(gettext("Sent"), gettext("Received")),
    )
    context = {
        "combined": combined,
        "period": period,
        "k": services.K,
        "chart": mark_safe(chart),  # noqa: S308 -- built by bar_chart, every text escaped
        "lapse_note": services.LAPSE_NOTE,
    }
    return render(request, "reports/conference.html", context)


@secretariat_only
def conference_csv(request: HttpRequest) -> HttpResponse:
    """GET /reports/conference.csv — every State's latest report for the period, one figure a row."""
    period = _period(request)
    response = HttpResponse(services.export_csv(period), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="hanoi247-statistics-{period}.csv"'
    return response
