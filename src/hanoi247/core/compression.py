"""gzip for what a browser reads — pages, stylesheets, scripts, JSON — and nothing else
(ADR 0017). Evidence streams and downloads pass untouched: compressing a sealed age file
wastes CPU, drops its Content-Length and would break resumed transfers."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/problem+json")
# Pages that show a secret (the TOTP enrolment, a new API token) go uncompressed: BREACH needs
# a compressed secret beside reflected text, and these pages are small anyway.
SECRET_PAGES = ("/accounts/",)


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(COMPRESSIBLE):
            return response
        if response.streaming and not request.path.startswith(settings.STATIC_URL):
            return response
        if request.path.startswith(SECRET_PAGES):
            return response
        return super().process_response(request, response)
