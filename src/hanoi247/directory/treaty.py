"""The treaty register's pure rules: participants, entry into force (Art. 65), regions, chart.

Free of the database so that the rules are easy to test: the functions take plain records
(anything with ``participant``, ``action`` and ``date`` attributes).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from typing import Protocol

import pycountry

# Art. 65(1): the 90th day after the deposit of the 40th instrument.
THRESHOLD = 40
EIF_DELAY = timedelta(days=90)
# Art. 65(2): for a State depositing later, the 30th day after its own deposit (or the
# Convention's entry into force, whichever is later).
LATER_DELAY = timedelta(days=30)

SIGNATURE = "signature"
# Instruments expressing consent to be bound (Art. 64); only these count under Art. 65.
CONSENT = frozenset({"ratification", "acceptance", "approval", "accession"})
WITHDRAWAL = "withdrawal_of_instrument"

# Participants that are not States. The European Union has no ISO 3166-1 code; "EUU" is the
# code the UN Treaty Collection and ISO 3166-1 exceptional reservations use for it.
ORGANISATIONS: dict[str, str] = {"EUU": "European Union"}

# UN (Treaty Collection) names that pycountry's ISO 3166 names do not match exactly.
UN_NAMES: dict[str, str] = {
    "democratic republic of the congo": "COD",
    "iran (islamic republic of)": "IRN",
    "venezuela (bolivarian republic of)": "VEN",
    "state of palestine": "PSE",
    "european union": "EUU",
}

# UN geoscheme (M49) regions of the participants in the register, from the UN Statistics
# Division's "Standard country or area codes for statistical use (M49)",
# https://unstats.un.org/unsd/methodology/m49/ . Written by hand for the States present in the
# shipped data; a State missing here is shown as "Not classified", never guessed.
_M49: dict[str, str] = {
    "Africa": "DZA AGO BFA CIV COD DJI EGY GHA GNB LBY MAR MOZ NAM NGA TZA TGO MLI RWA MUS",
    "Americas": "BRA CHL CRI CUB DOM ECU JAM NIC PER VEN",
    "Asia": "AZE BRN KHM CHN PRK IRN KAZ LAO MYS MDV PSE PHL QAT LKA THA TUR UZB SAU VNM",
    "Europe": "AUT BLR BEL CZE FRA GRC IRL LUX POL PRT RUS SVK SVN ESP SWE GBR",
    "Oceania": "AUS NRU PLW PNG",
}
M49_REGIONS: dict[str, str] = {code: name for name, codes in _M49.items() for code in codes.split()}
REGIONS = ("Africa", "Americas", "Asia", "Europe", "Oceania")
UNCLASSIFIED = "Not classified"


class Record(Protocol):
    @property
    def participant(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def date(self) -> date | None: ...


@dataclass(frozen=True)
class Action:
    participant: str
    action: str
    date: date | None


# -- participants -------------------------------------------------------------------------


def is_organisation(code: str) -> bool:
    return code in ORGANISATIONS


def is_participant_code(code: str) -> bool:
    return code in ORGANISATIONS or (len(code) == 3 and pycountry.countries.get(alpha_3=code) is not None)


def participant_name(code: str) -> str:
    if code in ORGANISATIONS:
        return ORGANISATIONS[code]
    country = pycountry.countries.get(alpha_3=code)
    return country.name if country else code


def resolve(name: str) -> str | None:
    """The alpha-3 code (or organisation code) of a participant's name, or None.

    UN names first, then ISO 3166 names, official names and codes; a fuzzy match is taken
    only when it is unambiguous."""
    cleaned = " ".join(name.split())
    if not cleaned:
        return None
    if cleaned.lower() in UN_NAMES:
        return UN_NAMES[cleaned.lower()]
    if cleaned.upper() in ORGANISATIONS:
        return cleaned.upper()
    try:
        return str(pycountry.countries.lookup(cleaned).alpha_3)
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(cleaned)
    except LookupError:
        return None
    return str(found[0].alpha_3) if len(found) == 1 else None


def region(code: str) -> str:
    if code in ORGANISATIONS:
        return "Organisations"
    return M49_REGIONS.get(code, UNCLASSIFIED)


# -- entry into force (Art. 65) -----------------------------------------------------------


@dataclass
class EntryIntoForce:
    date: dt.date | None  # the Convention's entry into force, None while fewer than 40
    counted: int  # States' consenting instruments in force-counting (organisations excluded)
    needed: int  # instruments still needed for the 40 (0 once reached)
    fortieth: dt.date | None  # the deposit date of the 40th instrument
    deposits: dict[str, dt.date] = field(default_factory=dict)  # participant -> deposit of its valid instrument
    parties: dict[str, dt.date] = field(default_factory=dict)  # participant -> its own entry into force
    undated: list[str] = field(default_factory=list)  # consenting instruments without a confirmed date


def entry_into_force(actions: Iterable[Record]) -> EntryIntoForce:
    """Compute Art. 65 from the register.

    * Only ratification, acceptance, approval and accession count; a State counts once,
      whatever it deposited (signature, then ratification, etc.).
    * A regional economic integration organisation's instrument is not counted in addition
      to its member States' (Art. 65(1)); its own date follows Art. 65(2) all the same.
    * A withdrawal of an instrument before it took effect for that State removes it; if that
      drops the count below 40 before the Convention's entry into force, the pending date is
      void and the 40th instrument is the one deposited later that restores the count.
    * Each participant's own date is max(deposit + 30 days, entry into force) (Art. 65(2));
      for instruments deposited by the 40th it equals the entry into force.
    * Actions without a confirmed date are left out (listed in ``undated``).
    """
    dated: dict[date, list[Record]] = {}
    undated: list[str] = []
    for a in actions:
        if a.action not in CONSENT and a.action != WITHDRAWAL:
            continue
        if a.date is None:
            if a.action in CONSENT:
                undated.append(a.participant)
            continue
        dated.setdefault(a.date, []).append(a)

    deposits: dict[str, date] = {}
    eif: date | None = None
    fortieth: date | None = None

    def counted() -> int:
        return sum(1 for p in deposits if not is_organisation(p))

    def in_force_for(participant: str, on: date) -> bool:
        return eif is not None and on >= max(deposits[participant] + LATER_DELAY, eif)

    for day in sorted(dated):
        if eif is not None and day >= eif:
            # in force: withdrawals only matter for instruments not yet in effect
            for a in dated[day]:
                if a.action == WITHDRAWAL and a.participant in deposits and not in_force_for(a.participant, day):
                    del deposits[a.participant]
                elif a.action in CONSENT and a.participant not in deposits:
                    deposits[a.participant] = day
            continue
        for a in sorted(dated[day], key=lambda a: a.action != WITHDRAWAL):
            if a.action == WITHDRAWAL:
                deposits.pop(a.participant, None)
            elif a.participant not in deposits:
                deposits[a.participant] = day
        if counted() >= THRESHOLD:
            if eif is None:
                fortieth, eif = day, day + EIF_DELAY
        else:
            fortieth, eif = None, None

    count = counted()
    parties = {p: max(d + LATER_DELAY, eif) for p, d in deposits.items()} if eif else {}
    return EntryIntoForce(
        date=eif,
        counted=count,
        needed=max(0, THRESHOLD - count),
        fortieth=fortieth,
        deposits=deposits,
        parties=parties,
        undated=sorted(undated),
    )


# -- summary and chart --------------------------------------------------------------------


def signatures(actions: Iterable[Record]) -> dict[str, date | None]:
    """Participant -> date of signature (None when only reported)."""
    found: dict[str, date | None] = {}
    for a in actions:
        if a.action != SIGNATURE:
            continue
        held = found.get(a.participant)
        if a.participant not in found or (a.date is not None and (held is None or a.date < held)):
            found[a.participant] = a.date
    return found


def by_region(codes: Iterable[str]) -> dict[str, int]:
    counts = Counter(region(c) for c in codes)
    order = [*REGIONS, "Organisations", UNCLASSIFIED]
    return {r: counts[r] for r in order if counts[r]}


def cumulative(dates: Sequence[date]) -> list[tuple[date, int]]:
    """(day, running total) for each distinct day."""
    steps: list[tuple[date, int]] = []
    total = 0
    for day, n in sorted(Counter(dates).items()):
        total += n
        steps.append((day, total))
    return steps


def svg_chart(steps: Sequence[tuple[date, int]], *, title: str, desc: str, width: int = 640, height: int = 240) -> str:
    """A step chart of cumulative counts, as accessible inline SVG (presentation attributes
    only: the Content-Security-Policy forbids style attributes)."""
    left, right, top, bottom = 48, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-title chart-desc" class="chart">'
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(desc)}</desc>'
    )
    axes = (
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#5b6675"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#5b6675"/>'
    )
    if not steps:
        return head + axes + "</svg>"
    first, last = steps[0][0], steps[-1][0]
    span = max((last - first).days, 1)
    top_value = max(n for _, n in steps)

    def x(day: date) -> float:
        return left + plot_w * (day - first).days / span

    def y(n: int) -> float:
        return top + plot_h - plot_h * n / top_value

    points = [(x(first), y(0))]
    previous = 0
    for day, n in steps:
        points += [(x(day), y(previous)), (x(day), y(n))]
        previous = n
    points.append((left + plot_w, y(previous)))
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    font = 'font-size="12" fill="#1d2733"'
    labels = [
        f'<text x="{left - 6}" y="{y(top_value) + 4:.1f}" text-anchor="end" {font}>{top_value}</text>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end" {font}>0</text>',
        f'<text x="{left}" y="{height - 16}" text-anchor="start" {font}>{first.isoformat()}</text>',
    ]
    if last != first:
        labels.append(f'<text x="{left + plot_w}" y="{height - 16}" text-anchor="end" {font}>{last.isoformat()}</text>')
    marks = "".join(
        f'<circle cx="{x(day):.1f}" cy="{y(n):.1f}" r="3" fill="#0b5cad"><title>{day.isoformat()}: {n}</title></circle>'
        for day, n in steps
    )
    line = f'<polyline points="{path}" fill="none" stroke="#0b5cad" stroke-width="2"/>'
    return head + axes + line + marks + "".join(labels) + "</svg>"
