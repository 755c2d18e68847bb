from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

# No CDN, no inline script or style: everything the page needs is served by the node.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response


class RefuseNulCharactersMiddleware:
    """A NUL character cannot be stored in a PostgreSQL text column: input that carries one is
    refused here, before any view could fail on it with a 500 — a JSON body with 422 (as the
    API answers any invalid input), a page's query string with 400. The API's own filters
    treat a NUL as matching nothing; forms refuse it already (Django's CharField)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        detail = {"detail": "the input contains a NUL character (\\u0000), which cannot be stored"}
        if request.content_type == "application/json" and (b"\\u0000" in request.body or b"\x00" in request.body):
            return JsonResponse(detail, status=422)
        query = request.META.get("QUERY_STRING", "")
        if not request.path.startswith("/api/") and ("%00" in query or "\x00" in query):
            return JsonResponse(detail, status=400)
        return self.get_response(request)
