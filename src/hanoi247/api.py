from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from hanoi247.accounts.auth import TokenAuth
from hanoi247.cooperation.api import router as requests_router
from hanoi247.evidence.api import router as evidence_router
from hanoi247.indicators.api import router as indicators_router
from hanoi247.operations.api import router as operations_router

api = NinjaAPI(
    title="Hanoi 24/7 node API",
    version="1",
    description="Requests for cooperation under the UN Convention against Cybercrime.",
    auth=TokenAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,  # the interactive docs page loads from a CDN; the JSON document is enough
)
api.add_router("/", requests_router)
api.add_router("/evidence", evidence_router)
api.add_router("/indicators", indicators_router)
api.add_router("/ops", operations_router)


@api.exception_handler(ValueError)
def _bad_value(request: HttpRequest, exc: ValueError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=400)
