from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from hanoi247.directory import services, treaty


def signed_directory(request: HttpRequest) -> HttpResponse:
    """GET /directory/v1/directory.jws — the newest signed directory this node holds."""
    signed = services.latest_signed()
    if signed is None:
        return HttpResponse("no directory has been published yet\n", status=503, content_type="text/plain")
    return HttpResponse(signed, content_type="application/jose")


def network(request: HttpRequest) -> HttpResponse:
    """The public register of 24/7 points of contact (Art. 41)."""
    found = services.current()
    status = found.treaty if found else {}
    parties, signatories = status.get("parties", {}), set(status.get("signatories", []))
    nodes = (
        [
            {**n, "party_from": parties.get(n["state"]), "signatory": n["state"] in signatories}
            for n in sorted(found.nodes.values(), key=lambda n: n["name"])
        ]
        if found
        else []
    )
    return render(request, "directory/network.html", {"directory": found, "nodes": nodes, "treaty": status})


def treaty_status(request: HttpRequest) -> HttpResponse:
    """GET /treaty/ — public status of the Convention: signatures, parties, entry into force."""
    actions = services.treaty_actions()
    signed = treaty.signatures(actions)
    result = treaty.entry_into_force(actions)
    participants = sorted(set(signed) | set(result.deposits), key=treaty.participant_name)
    rows = [
        {
            "code": code,
            "name": treaty.participant_name(code),
            "organisation": treaty.is_organisation(code),
            "region": treaty.region(code),
            "signed": code in signed,
            "signature": signed.get(code),
            "consent": result.deposits.get(code),
            "in_force": result.parties.get(code),
        }
        for code in participants
    ]
    states_signed = [c for c in signed if not treaty.is_organisation(c)]
    regions_signed = treaty.by_region(signed)
    regions_parties = treaty.by_region(result.deposits)
    regions = [
        {"name": name, "signatories": regions_signed.get(name, 0), "parties": regions_parties.get(name, 0)}
        for name in dict.fromkeys([*regions_signed, *regions_parties])
    ]
    dated = [d for d in signed.values() if d is not None]
    steps = treaty.cumulative(dated)
    chart = treaty.svg_chart(
        steps,
        title=gettext("Cumulative signatures of the Convention"),
        desc=gettext("%(n)d signatures with a confirmed date, from %(first)s to %(last)s.")
        % {
            "n": len(dated),
            "first": steps[0][0].isoformat() if steps else "-",
            "last": steps[-1][0].isoformat() if steps else "-",
        },
    )
    context = {
        "rows": rows,
        "signatories": len(signed),
        "signatory_states": len(states_signed),
        "reported": sum(1 for d in signed.values() if d is None),
        "parties": len(result.deposits),
        "eif": result,
        "threshold": treaty.THRESHOLD,
        "regions": regions,
        "chart": mark_safe(chart),  # noqa: S308 -- built by treaty.svg_chart, every text escaped
        "steps": steps,
    }
    return render(request, "directory/treaty.html", context)
