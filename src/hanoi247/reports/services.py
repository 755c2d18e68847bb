"""Statistics for the Conference of the States Parties (issue #8, docs/reports.md).

Each node computes aggregate figures only — counts and percentiles, never a case — and
sends them to the secretariat as a signed ``statistics.report`` message. Any count under
``K`` is suppressed, and percentiles are only computed from ``K`` values or more."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import pydantic
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hanoi247.cooperation.models import Direction, Request, Status
from hanoi247.federation import services as federation
from hanoi247.federation.envelope import EnvelopeError
from hanoi247.federation.models import OutboxMessage
from hanoi247.reports.models import StatisticsReport
from hanoi247.states import SECRETARIAT

MESSAGE_TYPE = "statistics.report"
FORMAT = "hanoi247-statistics/1"
K = 3  # smallest count that is reported; percentiles need at least K values
# Follow-up requests (Art. 40/44 MLA linked to a preservation) are not modelled yet, so no
# preservation has one: every executed preservation whose term has passed counts.
LAPSE_NOTE = "preservations that ended with no follow-up request"
# Reports of the first release carried this note (follow-ups were not modelled then).
OLD_LAPSE_NOTE = "follow-up requests are not modelled yet: every preservation past its term counts"
PERIOD_RE = re.compile(r"^(19|20|21)\d\d$")  # a calendar year the Convention can have seen

# -- the body's schema (what the secretariat accepts) --------------------------------------

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
StateCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Period = Annotated[str, StringConstraints(pattern=r"^(19|20|21)\d\d$")]
DirectionName = Literal["outgoing", "incoming"]
Hours = Annotated[float, Field(ge=0, le=1_000_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Count(_Strict):
    count: Annotated[int, Field(ge=K)] | None
    suppressed: bool

    @model_validator(mode="after")
    def _suppressed_means_null(self) -> Count:
        if self.suppressed != (self.count is None):
            raise ValueError("a count is null exactly when it is suppressed")
        return self


class RequestCell(Count):
    direction: DirectionName
    type: Code
    counterpart: StateCode


class RefusalCell(Count):
    direction: DirectionName
    type: Code
    ground: Code


class Timing(_Strict):
    n: Annotated[int, Field(ge=K)] | None
    suppressed: bool
    median_hours: Hours | None
    p90_hours: Hours | None

    @model_validator(mode="after")
    def _complete_or_suppressed(self) -> Timing:
        values = (self.n, self.median_hours, self.p90_hours)
        if self.suppressed and any(v is not None for v in values):
            raise ValueError("a suppressed timing carries no figures")
        if not self.suppressed and any(v is None for v in values):
            raise ValueError("an unsuppressed timing carries n, median_hours and p90_hours")
        return self


class TimingCell(_Strict):
    direction: DirectionName
    type: Code
    acknowledgement: Timing
    execution: Timing


class Lapsed(_Strict):
    count: Annotated[int, Field(ge=0)] | None
    suppressed: bool
    note: Literal[
        "preservations that ended with no follow-up request",
        "follow-up requests are not modelled yet: every preservation past its term counts",
    ]


class StatisticsBody(_Strict):
    format: Literal["hanoi247-statistics/1"]
    state: StateCode
    period: Period
    period_start: date
    period_end: date
    k: Literal[3]
    requests: Annotated[list[RequestCell], Field(max_length=10_000)]
    timings: Annotated[list[TimingCell], Field(max_length=1_000)]
    refusals: Annotated[list[RefusalCell], Field(max_length=10_000)]
    lapsed_preservations: Lapsed


# -- a node computes and sends ----------------------------------------------------------


class ReportError(Exception):
    pass


def default_period() -> str:
    return str(timezone.now().year)


def _bounds(period: str) -> tuple[datetime, datetime]:
    if not PERIOD_RE.match(period):
        raise ReportError(f"period {period!r} is not a calendar year (YYYY)")
    year = int(period)
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _count(n: int) -> dict[str, Any]:
    """A count as sent: 1 to K-1 could point at a single case, so it is withheld; none
    (0) points at nothing."""
    return {"count": n, "suppressed": False} if n >= K or n == 0 else {"count": None, "suppressed": True}


def _hours(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds() / 3600, 0.0)


def _timing(values: list[float]) -> dict[str, Any]:
    if len(values) < K:
        return {"n": None, "suppressed": True, "median_hours": None, "p90_hours": None}
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1]
    return {
        "n": len(values),
        "suppressed": False,
        "median_hours": round(statistics.median(values), 1),
        "p90_hours": round(p90, 1),
    }


def compute(period: str | None = None) -> dict[str, Any]:
    """This node's aggregate figures for a calendar year: requests submitted in it (sent
    or received), by type and counterpart State. Only the columns needed are read."""
    period = period or default_period()
    start, end = _bounds(period)
    rows = (
        Request.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .exclude(status=Status.DRAFT)
        .values_list(
            "direction",
            "type",
            "requesting_state",
            "requested_state",
            "status",
            "submitted_at",
            "acknowledged_at",
            "closed_at",
            "refusal_grounds",
        )
    )
    lapsed = 0
    counts: Counter[tuple[str, str, str]] = Counter()
    ack: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    exe: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    refusals: Counter[tuple[str, str, str]] = Counter()
    for direction, kind, requesting, requested, status, submitted, acknowledged, closed, grounds in rows:
        if submitted is None:  # excluded by the filter; says so to the type checker
            continue
        counterpart = requested if direction == Direction.OUTGOING else requesting
        counts[(direction, kind, counterpart)] += 1
        if acknowledged is not None:
            ack[(direction, kind)].append(_hours(submitted, acknowledged))
        if status == Status.EXECUTED and closed is not None:
            exe[(direction, kind)].append(_hours(submitted, closed))
        if status == Status.LAPSED:  # cooperation.services.check_deadlines: no follow-up came
            lapsed += 1
        if status == Status.REFUSED:
            for ground in sorted(set(grounds or [])):
                refusals[(direction, kind, str(ground))] += 1
    body = {
        "format": FORMAT,
        "state": settings.NODE.state,
        "period": period,
        "period_start": start.date().isoformat(),
        "period_end": end.date().isoformat(),
        "k": K,
        "requests": [
            {"direction": d, "type": t, "counterpart": c, **_count(n)} for (d, t, c), n in sorted(counts.items())
        ],
        "timings": [
            {"direction": d, "type": t, "acknowledgement": _timing(ack[(d, t)]), "execution": _timing(exe[(d, t)])}
            for d, t in sorted({(d, t) for d, t, _ in counts})
        ],
        "refusals": [
            {"direction": d, "type": t, "ground": g, **_count(n)} for (d, t, g), n in sorted(refusals.items())
        ],
        "lapsed_preservations": {**_count(lapsed), "note": LAPSE_NOTE},
    }
    # What leaves the node is exactly what the secretariat will accept.
    return StatisticsBody.model_validate(body).model_dump(mode="json")


def case_ref(state: str, period: str) -> str:
    return f"stats-{state}-{period}"


def send(period: str | None = None) -> OutboxMessage:
    """Queue this node's report for the secretariat (signed and encrypted on delivery)."""
    if settings.NODE.is_secretariat:
        raise ReportError("the secretariat receives reports; it does not send one")
    period = period or default_period()
    body = compute(period)
    with transaction.atomic():
        return federation.enqueue(
            type=MESSAGE_TYPE,
            recipient=SECRETARIAT,
            case_ref=case_ref(settings.NODE.state, period),
            body=body,
            handling="TLP:GREEN",  # aggregates for the Conference: shareable within the community
        )


# -- the secretariat receives -------------------------------------------------------------


@federation.on_receive(MESSAGE_TYPE)
def _receive_report(message: dict[str, Any]) -> None:
    if not settings.NODE.is_secretariat:
        raise EnvelopeError(422, "unknown_type", "only the secretariat receives statistics reports")
    try:
        report = StatisticsBody.model_validate(message["body"])
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise EnvelopeError(422, "invalid_body", f"statistics report does not fit the schema: {problems}") from None
    if report.state != message["sender"]:
        raise EnvelopeError(422, "invalid_body", "a State reports only its own figures")
    if message["case_ref"] != case_ref(report.state, report.period):
        raise EnvelopeError(422, "invalid_body", "case reference does not match the report's State and period")
    StatisticsReport.objects.update_or_create(
        state=report.state,
        period=report.period,
        defaults={
            "body": report.model_dump(mode="json"),
            "received_at": timezone.now(),
            "message_id": message["id"],
        },
    )


# -- the secretariat combines ------------------------------------------------------------


@dataclass
class StateRow:
    state: str
    sent: int = 0
    received: int = 0
    suppressed: int = 0
    received_at: datetime | None = None


@dataclass
class Conference:
    period: str
    periods: list[str]
    states: list[StateRow] = field(default_factory=list)
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    lapsed: int = 0  # preservations past their term without follow-up (see LAPSE_NOTE)
    suppressed_cells: int = 0

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.states)

    @property
    def received(self) -> int:
        return sum(r.received for r in self.states)


def periods() -> list[str]:
    return sorted(set(StatisticsReport.objects.values_list("period", flat=True)), reverse=True)


def reports(period: str) -> list[StatisticsBody]:
    found = StatisticsReport.objects.filter(period=period).order_by("state")
    return [StatisticsBody.model_validate(r.body) for r in found]


def combine(period: str) -> Conference:
    """Totals over the States' latest reports. Suppressed cells are not in any total."""
    result = Conference(period=period, periods=periods())
    by_type: defaultdict[str, Counter[str]] = defaultdict(Counter)
    refusals: Counter[str] = Counter()
    for row in StatisticsReport.objects.filter(period=period).order_by("state"):
        report = StatisticsBody.model_validate(row.body)
        state = StateRow(state=report.state, received_at=row.received_at)
        for cell in report.requests:
            if cell.count is None:
                state.suppressed += 1
                continue
            if cell.direction == "outgoing":
                state.sent += cell.count
                by_type[cell.type]["sent"] += cell.count
            else:
                state.received += cell.count
                by_type[cell.type]["received"] += cell.count
        for ref in report.refusals:
            if ref.count is None:
                state.suppressed += 1
            else:
                refusals[ref.ground] += ref.count
        if report.lapsed_preservations.count is None:
            state.suppressed += 1
        else:
            result.lapsed += report.lapsed_preservations.count
        result.suppressed_cells += state.suppressed
        result.states.append(state)
    result.by_type = {t: {"sent": c["sent"], "received": c["received"]} for t, c in sorted(by_type.items())}
    result.refusals = dict(sorted(refusals.items()))
    return result


CSV_FIELDS = [
    "state",
    "period",
    "section",
    "direction",
    "type",
    "counterpart",
    "ground",
    "metric",
    "value",
    "suppressed",
]


def _figure(value: Any, suppressed: bool) -> dict[str, Any]:
    """A figure as a CSV row writes it: a withheld one has an empty value."""
    return {"value": "" if value is None else value, "suppressed": str(suppressed).lower()}


def _csv_rows(report: StatisticsBody) -> Iterable[dict[str, Any]]:
    base = {"state": report.state, "period": report.period}
    for cell in report.requests:
        yield {
            **base,
            "section": "requests",
            "direction": cell.direction,
            "type": cell.type,
            "counterpart": cell.counterpart,
            "metric": "count",
            **_figure(cell.count, cell.suppressed),
        }
    for timing in report.timings:
        for name, t in (("acknowledgement", timing.acknowledgement), ("execution", timing.execution)):
            for metric, value in (("n", t.n), ("median_hours", t.median_hours), ("p90_hours", t.p90_hours)):
                yield {
                    **base,
                    "section": name,
                    "direction": timing.direction,
                    "type": timing.type,
                    "metric": metric,
                    **_figure(value, t.suppressed),
                }
    for ref in report.refusals:
        yield {
            **base,
            "section": "refusals",
            "direction": ref.direction,
            "type": ref.type,
            "ground": ref.ground,
            "metric": "count",
            **_figure(ref.count, ref.suppressed),
        }
    lapsed = report.lapsed_preservations
    yield {
        **base,
        "section": "lapsed_preservations",
        "metric": "count",
        **_figure(lapsed.count, lapsed.suppressed),
    }


def export_csv(period: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n", restval="")
    writer.writeheader()
    for report in reports(period):
        writer.writerows(_csv_rows(report))
    return out.getvalue()
