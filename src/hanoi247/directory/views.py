from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hanoi247.directory import services


def signed_directory(request: HttpRequest) -> HttpResponse:
    """GET /directory/v1/directory.jws — the newest signed directory this node holds."""
    signed = services.latest_signed()
    if signed is None:
        return HttpResponse("no directory has been published yet\n", status=503, content_type="text/plain")
    return HttpResponse(signed, content_type="application/jose")


def network(request: HttpRequest) -> HttpResponse:
    """The public register of 24/7 points of contact (Art. 41)."""
    found = services.current()
    nodes = sorted(found.nodes.values(), key=lambda n: n["name"]) if found else []
    return render(request, "directory/network.html", {"directory": found, "nodes": nodes})
